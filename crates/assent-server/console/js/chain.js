// Verifies the audit hash chain in the browser, independently of the
// gateway's own checks: hash = hex(SHA-256(prev_hash ‖ JCS(event without
// "hash"))), JCS being RFC 8785 canonical JSON; the first prev_hash is 64
// zeros and every seq follows the one before it.

const GENESIS = '0'.repeat(64);

/** RFC 8785: members sorted by UTF-16 code units (JavaScript's own sort),
 *  strings and numbers as ECMAScript's JSON.stringify writes them. */
export function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
}

export async function eventHash(event) {
  const {hash, ...rest} = event;
  const bytes = new TextEncoder().encode(event.prev_hash + canonical(rest));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function canVerify() {
  return Boolean(globalThis.crypto?.subtle);
}

/** Follows the chain event by event; `broken` names the first bad one. */
export class ChainVerifier {
  constructor() {
    this.seq = 0;
    this.head = GENESIS;
    this.count = 0;
    this.broken = null;
  }

  async add(event) {
    if (this.broken) return false;
    let reason = null;
    if (event.seq !== this.seq + 1) reason = `expected event ${this.seq + 1} here, found ${event.seq} (an event is missing or out of order)`;
    else if (event.prev_hash !== this.head) reason = `its prev_hash is not the hash of event ${this.seq}`;
    else if ((await eventHash(event)) !== event.hash) reason = 'its hash does not match its content (it was changed)';
    if (reason) {
      this.broken = {seq: event.seq, reason};
      return false;
    }
    this.seq = event.seq;
    this.head = event.hash;
    this.count += 1;
    return true;
  }
}
