/** A gateway started with a policy file: its rules answer at once. */

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { type AssentClient, RejectedError } from "../src/index.js";
import { Gateway, tempDir } from "./gateway.js";

const POLICY = `
default = "ask"

[[rule]]
name = "reads"
effect = "allow"
action = "fs.read*"

[[rule]]
name = "no-force-push"
effect = "deny"
action = "shell"
command = ["git push --force*"]
reason = "force pushes are never allowed"
`;

describe("policy", () => {
  let gateway: Gateway;
  let client: AssentClient;

  before(async () => {
    const policy = join(tempDir("policy"), "policy.toml");
    writeFileSync(policy, POLICY);
    gateway = await Gateway.start({ policy });
    client = await gateway.principal("agent", "bot");
  });
  after(async () => {
    await gateway.close();
  });

  it("an allow rule approves at once", async () => {
    // No reviewer exists: only the policy can have answered.
    const approval = await client.requestAndWait("fs.read", { path: "/etc/hosts" });
    assert.equal(approval.status, "approved");
    assert.equal(approval.rule, "reads");
    assert.deepEqual(approval.decision?.by, ["policy:reads"]);
    assert.ok(approval.receipt);
    assert.equal((await client.check("fs.read.dir")).effect, "allow");
  });

  it("a deny rule rejects with RejectedError and its reason", async () => {
    const error = await client
      .requestAndWait("shell", { command: "sudo git push --force origin main" })
      .catch((e: unknown) => e);
    assert.ok(error instanceof RejectedError);
    assert.equal(error.message, "rejected by policy:no-force-push: force pushes are never allowed");
    assert.equal(error.approval.rule, "no-force-push");
    assert.deepEqual(await client.check("shell", { command: "git push --force" }), {
      effect: "deny",
      rule: "no-force-push",
      reason: "force pushes are never allowed",
      grant: null,
      parts: [{ text: "git push --force", redirects: [] }],
    });
  });
});
