/** base64url without padding (RFC 4648 §5), as JOSE uses it. */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** The bytes a base64url text stands for, or `undefined` when it is not base64url. */
export function decodeBase64Url(text: string) {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return undefined;
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
