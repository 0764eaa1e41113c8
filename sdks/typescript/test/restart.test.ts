/** `requestAndWait` rides out a gateway restart in the middle of its wait. */

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import { freePort, Gateway, pendingOf, sleep } from "./gateway.js";

describe("restart", () => {
  let gateway: Gateway | undefined;

  afterEach(async () => {
    await gateway?.close();
  });

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`returns the decision made after a restart (${signal})`, async () => {
      gateway = await Gateway.start({ port: await freePort() });
      const agent = await gateway.principal("agent", "bot");
      const reviewer = await gateway.principal("approver", "alice");
      const waiting = agent.requestAndWait("deploy", { env: "prod" }, { timeout: "10m" });
      const pending = await pendingOf(reviewer, agent.name);
      await sleep(300); // let the waiter's long-poll reach the gateway before it goes away

      await gateway.restart(signal);
      await reviewer.approve(pending.id, { reason: "after the restart" });

      const approved = await waiting;
      assert.equal(approved.id, pending.id);
      assert.equal(approved.status, "approved");
      assert.equal(approved.decision?.reason, "after the restart");
    });
  }
});
