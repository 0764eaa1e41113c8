/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation.
 *
 * Written here because the package has no runtime dependencies. RFC 8785 is
 * defined in terms of ECMAScript's own JSON serialisation, which makes it
 * short in JavaScript: numbers as `Number.prototype.toString` (what
 * `JSON.stringify` does), strings escaped as `JSON.stringify` does them, and
 * object members sorted by their names' UTF-16 code units (the default
 * `Array.prototype.sort` order).
 */

/** The canonical JSON text of `value`; throws `TypeError` for what JSON cannot hold. */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === "string") {
    if (/\p{Surrogate}/u.test(value)) throw new TypeError("canonical JSON has no lone surrogates");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalize(item === undefined ? null : item)).join(",")}]`;
  }
  if (typeof value === "object") {
    const withToJson = value as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === "function") return canonicalize(withToJson.toJSON());
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${canonicalize(key)}:${canonicalize(record[key])}`);
    return `{${members.join(",")}}`;
  }
  throw new TypeError(`canonical JSON has no ${typeof value}`);
}
