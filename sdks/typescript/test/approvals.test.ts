/** The approval lifecycle through the client, against a real gateway. */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  AssentApiError,
  AssentClient,
  AssentConnectionError,
  AssentError,
  AuthenticationError,
  BadRequestError,
  CancelledError,
  ConflictError,
  ExpiredError,
  NotFoundError,
  PermissionDeniedError,
  RejectedError,
  UnprocessableEntityError,
} from "../src/index.js";
import { freePort, Gateway, type Named, pendingOf, unique } from "./gateway.js";

describe("approvals", () => {
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

  it("request then approve resolves to the approved approval", async () => {
    await principals();
    const waiting = agent.requestAndWait(
      "deploy",
      { service: "billing", env: "prod" },
      { summary: "Deploy billing", timeout: "10m" },
    );
    const pending = await pendingOf(reviewer, agent.name);
    assert.equal(pending.status, "pending");
    assert.deepEqual(pending.args, { service: "billing", env: "prod" });
    assert.equal(pending.receipt, null);
    await reviewer.approve(pending.id, { reason: "looks good" });

    const approved = await waiting;
    assert.equal(approved.id, pending.id);
    assert.equal(approved.status, "approved");
    assert.deepEqual(approved.decision?.by, [reviewer.name]);
    assert.equal(approved.decision?.reason, "looks good");
    assert.ok(approved.receipt);
    assert.deepEqual(await agent.get(pending.id), approved);
  });

  it("a rejection rejects with RejectedError naming the reviewer and reason", async () => {
    await principals();
    const waiting = agent.requestAndWait("deploy", { env: "prod" }).catch((e: unknown) => e);
    const pending = await pendingOf(reviewer, agent.name);
    await reviewer.reject(pending.id, { reason: "freeze week" });

    const error = await waiting;
    assert.ok(error instanceof RejectedError);
    assert.equal(error.message, `rejected by ${reviewer.name}: freeze week`);
    assert.equal(error.name, "RejectedError");
    assert.deepEqual(error.by, [reviewer.name]);
    assert.equal(error.reason, "freeze week");
    assert.equal(error.approval.id, pending.id);
    assert.equal(error.approval.status, "rejected");
  });

  it("nobody answering rejects with ExpiredError", async () => {
    await principals();
    const error = await agent.requestAndWait("deploy", { env: "staging" }, { timeout: 1 }).catch((e: unknown) => e);
    assert.ok(error instanceof ExpiredError);
    assert.equal(error.approval.status, "expired");
    assert.deepEqual(error.by, ["system:expiry"]);
    assert.equal(error.message, `expired: nobody decided by ${error.approval.expires_at}`);
  });

  it("cancelling ends the wait with CancelledError", async () => {
    await principals();
    const waiting = agent.requestAndWait("db.migrate", { db: "main" }).catch((e: unknown) => e);
    const pending = await pendingOf(reviewer, agent.name);
    const cancelled = await agent.cancel(pending.id, { reason: "no longer needed" });
    assert.equal(cancelled.status, "cancelled");

    const error = await waiting;
    assert.ok(error instanceof CancelledError);
    assert.equal(error.message, `cancelled by ${agent.name}: no longer needed`);

    const conflict = await agent.cancel(pending.id).catch((e: unknown) => e);
    assert.ok(conflict instanceof ConflictError);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.problem.type, "urn:assent:problem:conflict");
  });

  it("wait with a timeout resolves to the approval still pending", async () => {
    await principals();
    const created = await agent.request("deploy", { env: "qa" });
    assert.equal(created.status, "pending");
    const waited = await agent.wait(created.id, "1s");
    assert.equal(waited.id, created.id);
    assert.equal(waited.status, "pending");
  });

  it("request sends every option; timeouts take seconds or durations", async () => {
    await principals();
    const [session, run] = [unique("sess"), unique("run")];
    const created = await agent.request(
      "billing.charge",
      { amount: 12.5, currency: "EUR" },
      {
        summary: "Charge a customer",
        context: { ticket: "T-1" },
        sessionId: session,
        runId: run,
        labels: { team: "payments" },
        timeout: "10m",
        risk: "high",
      },
    );
    assert.equal(created.summary, "Charge a customer");
    assert.deepEqual(created.context, { ticket: "T-1" });
    assert.deepEqual([created.session_id, created.run_id], [session, run]);
    assert.deepEqual(created.labels, { team: "payments" });
    assert.equal(created.risk, "high");
    assert.equal(Date.parse(created.expires_at) - Date.parse(created.created_at), 600_000);

    const numeric = await agent.request("billing.charge", {}, { timeout: 90 });
    assert.equal(Date.parse(numeric.expires_at) - Date.parse(numeric.created_at), 90_000);

    const page = await reviewer.list({ sessionId: session, labels: { team: "payments" }, status: "pending" });
    assert.deepEqual(
      page.items.map((a) => a.id),
      [created.id],
    );
    assert.equal(page.next_cursor, null);

    await assert.rejects(agent.request("billing.charge", {}, { timeout: "10 parsecs" }), /not a duration/);
  });

  it("list pages with the cursor", async () => {
    await principals();
    const ids: string[] = [];
    for (const n of [0, 1, 2]) ids.push((await agent.request("page.test", { n })).id);
    const first = await agent.list({ action: "page.test", limit: 2 });
    assert.deepEqual(
      first.items.map((a) => a.id),
      [ids[2], ids[1]],
    );
    assert.ok(first.next_cursor);
    const second = await agent.list({ action: "page.test", limit: 2, cursor: first.next_cursor });
    assert.deepEqual(
      second.items.map((a) => a.id),
      [ids[0]],
    );
  });

  it("check answers without recording", async () => {
    await principals();
    assert.deepEqual(await agent.check("deploy", { env: "prod" }), {
      effect: "ask",
      rule: null,
      reason: null,
      grant: null,
    });
    assert.deepEqual((await agent.list({ action: "deploy" })).items, []);
  });

  it("the same idempotency key returns the same approval", async () => {
    await principals();
    const idempotencyKey = unique("key");
    const first = await agent.request("deploy", { env: "prod" }, { idempotencyKey });
    const again = await agent.request("deploy", { env: "prod" }, { idempotencyKey });
    assert.equal(again.id, first.id);
    const mismatch = await agent.request("deploy", { env: "dev" }, { idempotencyKey }).catch((e: unknown) => e);
    assert.ok(mismatch instanceof UnprocessableEntityError);
    assert.equal(mismatch.status, 422);
  });

  it("error answers become typed errors carrying the problem", async () => {
    await principals();
    const notFound = await agent.get("0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10").catch((e: unknown) => e);
    assert.ok(notFound instanceof NotFoundError && notFound instanceof AssentApiError);
    assert.equal(notFound.problem.status, 404);
    assert.equal(notFound.problem.type, "urn:assent:problem:not-found");

    const bad = await agent.request("rm -rf").catch((e: unknown) => e);
    assert.ok(bad instanceof BadRequestError);
    assert.match(bad.problem.detail ?? "", /^action:/);
    assert.match(bad.message, /^400 Bad Request: action:/);

    const mine = await agent.request("deploy");
    await assert.rejects(agent.approve(mine.id), PermissionDeniedError);

    const stranger = new AssentClient({ url: gateway.url, token: "not-a-token" });
    const unauthorized = await stranger.list().catch((e: unknown) => e);
    assert.ok(unauthorized instanceof AuthenticationError);
    assert.equal(unauthorized.status, 401);

    await reviewer.reject(mine.id, { reason: "no" });
    await assert.rejects(reviewer.approve(mine.id), ConflictError);
  });

  it("an unreachable gateway is a connection error", async () => {
    const client = new AssentClient({ url: `http://127.0.0.1:${await freePort()}`, token: "token" });
    await assert.rejects(client.get("0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10"), AssentConnectionError);
  });

  it("url and token default from the environment", async () => {
    const token = await gateway.token("agent");
    const saved = { url: process.env["ASSENT_URL"], token: process.env["ASSENT_TOKEN"] };
    try {
      process.env["ASSENT_URL"] = gateway.url;
      process.env["ASSENT_TOKEN"] = token;
      const client = new AssentClient();
      assert.equal(client.baseUrl, gateway.url);
      assert.equal((await client.request("env.test")).status, "pending");

      delete process.env["ASSENT_TOKEN"];
      assert.throws(() => new AssentClient(), (e: unknown) => e instanceof AssentError && /ASSENT_TOKEN/.test(e.message));
    } finally {
      restore("ASSENT_URL", saved.url);
      restore("ASSENT_TOKEN", saved.token);
    }
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
