/** `events()`: the event feed, resumed after reconnects without gaps or repeats. */

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import type { Event } from "../src/index.js";
import { freePort, Gateway } from "./gateway.js";

interface AuditEvent {
  seq: number;
  type: string;
  hash: string;
}

async function audit(gateway: Gateway): Promise<AuditEvent[]> {
  const response = await fetch(`${gateway.url}/v1/audit?limit=10000`, {
    headers: { Authorization: `Bearer ${gateway.adminToken}` },
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { items: AuditEvent[] }).items;
}

async function readUntil(stream: AsyncIterator<Event>, seq: number, into: Event[]): Promise<void> {
  for (;;) {
    const next = await stream.next();
    assert.ok(!next.done, "the stream ended");
    into.push(next.value);
    if (next.value.seq >= seq) return;
  }
}

function last<T>(items: T[]): T {
  const item = items[items.length - 1];
  assert.ok(item !== undefined);
  return item;
}

describe("events", () => {
  let gateway: Gateway | undefined;

  afterEach(async () => {
    await gateway?.close();
  });

  it("the stream resumes after a restart without gaps or repeats", async () => {
    gateway = await Gateway.start({ port: await freePort() });
    const watcher = await gateway.principal("approver", "watcher");
    const agent = await gateway.principal("agent", "bot");
    const stream = watcher.events({ after: 0 });
    const seen: Event[] = [];

    const before: string[] = [];
    for (const n of [0, 1, 2]) before.push((await agent.request("deploy", { n })).id);
    await readUntil(stream, last(await audit(gateway)).seq, seen);
    assert.equal(last(seen).approval_id, last(before));

    await gateway.restart("SIGKILL");
    const afterRestart: string[] = [];
    for (const n of [3, 4, 5]) afterRestart.push((await agent.request("deploy", { n })).id);
    await watcher.approve(afterRestart[0] ?? "");
    await agent.cancel(afterRestart[1] ?? "");

    const log = await audit(gateway);
    await readUntil(stream, last(log).seq, seen);
    await stream.return(undefined);

    assert.deepEqual(
      seen.map((e) => e.seq),
      log.map((_, i) => i + 1),
    );
    assert.deepEqual(
      seen.map((e) => [e.seq, e.type, e.hash]),
      log.map((e) => [e.seq, e.type, e.hash]),
    );
    assert.deepEqual(
      seen.slice(-3).map((e) => e.type),
      ["approval.reviewed", "approval.approved", "approval.cancelled"],
    );
  });

  it("after and types choose where the stream starts and what it carries", async () => {
    gateway = await Gateway.start();
    const agent = await gateway.principal("agent", "bot");
    const first = await agent.request("deploy", { env: "a" });
    const second = await agent.request("deploy", { env: "b" });
    await agent.cancel(second.id);

    const mine = agent.events({ after: 0 });
    const requested = (await mine.next()).value as Event;
    assert.equal(requested.type, "approval.requested");
    assert.equal(requested.approval_id, first.id);
    assert.deepEqual((requested.data["approval"] as { args: unknown }).args, { env: "a" });
    const following = (await mine.next()).value as Event;
    assert.ok(following.seq > requested.seq);
    assert.equal(following.approval_id, second.id);
    await mine.return(undefined);

    const resumed = agent.events({ after: requested.seq });
    assert.equal(((await resumed.next()).value as Event).seq, following.seq);
    await resumed.return(undefined);

    const cancellations = agent.events({ after: 0, types: ["approval.cancelled"] });
    const cancelled = (await cancellations.next()).value as Event;
    assert.deepEqual([cancelled.type, cancelled.approval_id], ["approval.cancelled", second.id]);
    await cancellations.return(undefined);
  });

  it("for await works and an abort signal ends the iteration", async () => {
    gateway = await Gateway.start();
    const agent = await gateway.principal("agent", "bot");
    const made: string[] = [];
    for (const n of [0, 1, 2]) made.push((await agent.request("deploy", { n })).id);

    const controller = new AbortController();
    const ids: string[] = [];
    for await (const event of agent.events({ after: 0, signal: controller.signal })) {
      ids.push(event.approval_id ?? "");
      if (ids.length === made.length) controller.abort();
    }
    assert.deepEqual(ids, made);
  });
});
