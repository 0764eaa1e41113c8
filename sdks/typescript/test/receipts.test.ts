/** Offline receipt verification with WebCrypto, against the gateway's JWKS
 * and its own `args_sha256` claims. */

import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { after, before, describe, it } from "node:test";

import { argsSha256, InvalidReceiptError, verifyReceipt } from "../src/index.js";
import { Gateway, type Named, pendingOf } from "./gateway.js";

const ARGS = {
  service: "billing",
  env: "prod",
  replicas: 3,
  ratio: 0.1,
  big: 1e21,
  small: 1e-7,
  negative_zero: -0,
  nested: { z: [1, 2.5, null, true], a: { é: '\u2028 \u001f "quoted" \\ 😀' } },
  "€": "key order by UTF-16 code units",
  "\u{1f600}": "astral key",
  "\uff5a": "fullwidth key",
};

async function approved(agent: Named, reviewer: Named, action: string, args: Record<string, unknown>): Promise<string> {
  const waiting = agent.requestAndWait(action, args);
  await reviewer.approve((await pendingOf(reviewer, agent.name)).id);
  const receipt = (await waiting).receipt;
  assert.ok(receipt);
  return receipt;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/** A receipt signed with a key the gateway never had. */
function forge(claims: object, kid: string): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const signingInput = `${base64url(JSON.stringify({ alg: "EdDSA", kid, typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${base64url(sign(null, Buffer.from(signingInput), privateKey))}`;
}

function claimsOf(receipt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(receipt.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
}

describe("receipts", () => {
  let gateway: Gateway;
  let agent: Named;
  let receipt: string;

  before(async () => {
    gateway = await Gateway.start();
    agent = await gateway.principal("agent", "bot");
    receipt = await approved(agent, await gateway.principal("approver", "alice"), "deploy", ARGS);
  });
  after(async () => {
    await gateway.close();
  });

  it("accepts the exact call", async () => {
    const claims = await agent.verifyReceipt(receipt, "deploy", ARGS);
    assert.equal(claims.act, "deploy");
    assert.equal(claims.scope, "once");
    assert.ok(claims.exp > claims.iat);
    const reordered = Object.fromEntries(Object.entries(ARGS).reverse());
    assert.deepEqual(await agent.verifyReceipt(receipt, "deploy", reordered), claims);
  });

  it("hashes args as the gateway does", async () => {
    assert.equal(claimsOf(receipt)["args_sha256"], await argsSha256(ARGS));
  });

  it("refuses changed args, another action and forged signatures", async () => {
    const refusal = (promise: Promise<unknown>): Promise<string> =>
      promise.then(
        () => assert.fail("accepted"),
        (error: unknown) => {
          assert.ok(error instanceof InvalidReceiptError, String(error));
          return error.reason;
        },
      );
    assert.equal(await refusal(agent.verifyReceipt(receipt, "deploy", { ...ARGS, env: "staging" })), "the receipt is for other args");
    assert.equal(await refusal(agent.verifyReceipt(receipt, "deploy.rollback", ARGS)), "the receipt is for another action");

    const claims = claimsOf(receipt);
    const header = JSON.parse(Buffer.from(receipt.split(".")[0] ?? "", "base64url").toString()) as { kid: string };
    assert.equal(await refusal(agent.verifyReceipt(forge(claims, header.kid), "deploy", ARGS)), "bad signature");

    const [head, , signature] = receipt.split(".");
    const widened = `${head}.${base64url(JSON.stringify({ ...claims, act: "deploy.anything" }))}.${signature}`;
    assert.equal(await refusal(agent.verifyReceipt(widened, "deploy.anything", ARGS)), "bad signature");

    assert.equal(await refusal(agent.verifyReceipt(forge(claims, "elsewhere"), "deploy", ARGS)), 'unknown key id "elsewhere"');
    assert.match(await refusal(agent.verifyReceipt("not.a.receipt", "deploy", ARGS)), /^malformed receipt/);
  });

  it("verifies offline once the keys are fetched", async () => {
    const own = await Gateway.start();
    try {
      const bot = await own.principal("agent", "bot");
      const offlineReceipt = await approved(bot, await own.principal("approver", "bob"), "db.migrate", { db: "main" });
      const jwks = await bot.jwks();
      await bot.verifyReceipt(offlineReceipt, "db.migrate", { db: "main" });

      await own.stop();
      const claims = await bot.verifyReceipt(offlineReceipt, "db.migrate", { db: "main" });
      assert.equal(claims.sub, claims.jti);
      assert.equal((await verifyReceipt(offlineReceipt, jwks, "db.migrate", { db: "main" })).jti, claims.sub);
    } finally {
      await own.close();
    }
  });
});
