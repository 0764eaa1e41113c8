/** WebCrypto: global on Node ≥ 19, Deno, Bun and browsers; `node:crypto`'s on Node 18. */
export async function webCrypto(): Promise<Crypto> {
  if (globalThis.crypto?.subtle) return globalThis.crypto;
  // A computed specifier keeps bundlers for browsers from resolving it.
  const nodeCrypto: string = "node:crypto";
  const module = (await import(nodeCrypto)) as { webcrypto: Crypto };
  return module.webcrypto;
}
