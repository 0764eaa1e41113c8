/**
 * Checking a receipt offline with the platform's WebCrypto: its EdDSA
 * (Ed25519) signature against the gateway's JWKS, its expiry, and that it
 * covers exactly the action and args about to run (SHA-256 of their RFC 8785
 * canonical JSON). The failure reasons are the gateway's own words.
 */

import { decodeBase64Url } from "./base64url.js";
import { InvalidReceiptError } from "./errors.js";
import { webCrypto } from "./crypto.js";
import { canonicalize } from "./jcs.js";
import type { JsonObject, Jwks, ReceiptClaims } from "./types.js";

/** Lower-case hex SHA-256 of the RFC 8785 canonical JSON of `args`, as a receipt's `args_sha256` holds it. */
export async function argsSha256(args: JsonObject = {}): Promise<string> {
  const digest = await (await webCrypto()).subtle.digest("SHA-256", new TextEncoder().encode(canonicalize(args)));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The `kid` a receipt's header names, if it has a readable one. */
export function receiptKeyId(receipt: string): string | undefined {
  try {
    const kid = (decodeJson(receipt.split(".")[0] ?? "") as { kid?: unknown }).kid;
    return typeof kid === "string" ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks, without asking the gateway, that `receipt` was signed by a key in
 * `jwks`, has not expired, and covers exactly `action` with `args`. Resolves
 * to its claims; rejects with `InvalidReceiptError` saying why not.
 */
export async function verifyReceipt(
  receipt: string,
  jwks: Jwks,
  action: string,
  args: JsonObject = {},
): Promise<ReceiptClaims> {
  const parts = receipt.split(".");
  if (parts.length !== 3) throw new InvalidReceiptError("malformed receipt: not a compact JWS");
  const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
  const header = decodeOrRefuse(encodedHeader, "header") as { alg?: unknown; kid?: unknown };
  if (header.alg !== "EdDSA") {
    throw new InvalidReceiptError(`unsupported algorithm ${JSON.stringify(header.alg)} (only EdDSA)`);
  }
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new InvalidReceiptError(`unknown key id ${JSON.stringify(header.kid)}`);
  const signature = decodeBase64Url(encodedSignature);
  if (!signature) throw new InvalidReceiptError("malformed receipt: signature is not base64url");

  const subtle = (await webCrypto()).subtle;
  let key: CryptoKey;
  try {
    key = await subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, { name: "Ed25519" }, false, [
      "verify",
    ]);
  } catch (error) {
    throw new InvalidReceiptError(`unusable key ${JSON.stringify(jwk.kid)}: ${String(error)}`);
  }
  const signed = new TextEncoder().encode(`${encodedHeader}.${encodedClaims}`);
  if (!(await subtle.verify({ name: "Ed25519" }, key, signature, signed))) {
    throw new InvalidReceiptError("bad signature");
  }

  const claims = checkClaims(decodeOrRefuse(encodedClaims, "claims"));
  if (Math.floor(Date.now() / 1000) >= claims.exp) throw new InvalidReceiptError("expired");
  if (claims.act !== action) throw new InvalidReceiptError("the receipt is for another action");
  if (claims.args_sha256 !== (await argsSha256(args))) throw new InvalidReceiptError("the receipt is for other args");
  return claims;
}

function decodeJson(encoded: string): unknown {
  const bytes = decodeBase64Url(encoded);
  if (!bytes) throw new SyntaxError("not base64url");
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
}

function decodeOrRefuse(encoded: string, part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = decodeJson(encoded);
  } catch (error) {
    throw new InvalidReceiptError(`malformed receipt: ${part}: ${String(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidReceiptError(`malformed receipt: ${part}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

const STRING_CLAIMS = ["iss", "sub", "act", "args_sha256", "scope", "jti"] as const;
const NUMBER_CLAIMS = ["iat", "exp"] as const;

function checkClaims(claims: Record<string, unknown>): ReceiptClaims {
  for (const name of STRING_CLAIMS) {
    if (typeof claims[name] !== "string") throw new InvalidReceiptError(`malformed receipt: claims: ${name} missing`);
  }
  for (const name of NUMBER_CLAIMS) {
    if (typeof claims[name] !== "number") throw new InvalidReceiptError(`malformed receipt: claims: ${name} missing`);
  }
  return claims as unknown as ReceiptClaims;
}
