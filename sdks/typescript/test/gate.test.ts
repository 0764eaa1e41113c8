/** `gate`: the function runs only when approved, and its first argument is the args. */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { RejectedError } from "../src/index.js";
import { Gateway, type Named, pendingOf } from "./gateway.js";

describe("gate", () => {
  let gateway: Gateway;
  let agent: Named;
  let reviewer: Named;

  before(async () => {
    gateway = await Gateway.start();
  });
  after(async () => {
    await gateway.close();
  });

  async function principals(): Promise<void> {
    agent = await gateway.principal("agent", "ci-bot");
    reviewer = await gateway.principal("approver", "alice");
  }

  it("a gated function runs once approved, with its first argument as args", async () => {
    await principals();
    const calls: unknown[][] = [];
    async function deploy(args: { service: string; env: string }, dryRun: boolean): Promise<string> {
      calls.push([args, dryRun]);
      return `deployed ${args.service} to ${args.env}`;
    }
    const gated = agent.gate("deploy", deploy, { summary: "Deploy a service", timeout: "5m" });
    assert.equal(gated.name, "deploy");

    const running = gated({ service: "billing", env: "prod" }, false);
    const pending = await pendingOf(reviewer, agent.name);
    assert.equal(pending.action, "deploy");
    assert.equal(pending.summary, "Deploy a service");
    assert.deepEqual(pending.args, { service: "billing", env: "prod" });
    assert.deepEqual(calls, []);

    await reviewer.approve(pending.id);
    assert.equal(await running, "deployed billing to prod");
    assert.deepEqual(calls, [[{ service: "billing", env: "prod" }, false]]);
  });

  it("a rejected call never runs the function", async () => {
    await principals();
    let ran = false;
    const run = agent.gate("shell", (args: { command: string }) => {
      ran = true;
      return args.command;
    });
    const running = run({ command: "rm -rf /tmp/cache" }).catch((e: unknown) => e);
    const pending = await pendingOf(reviewer, agent.name);
    assert.deepEqual(pending.args, { command: "rm -rf /tmp/cache" });
    await reviewer.reject(pending.id, { reason: "not today" });
    const error = await running;
    assert.ok(error instanceof RejectedError);
    assert.match(error.message, /not today$/);
    assert.equal(ran, false);
  });

  it("a first argument that is not an object is refused before asking", async () => {
    await principals();
    const gated = agent.gate("upload", (payload: object) => payload);
    await assert.rejects(gated([1, 2] as unknown as object), TypeError);
    assert.deepEqual((await agent.list({ action: "upload" })).items, []);
  });
});
