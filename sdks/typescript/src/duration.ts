/** Seconds (a number) or a duration string such as `"30s"`, `"10m"`, `"1h30m"`. */
export type Timeout = number | string;

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** The seconds `timeout` stands for; throws `RangeError` when it is not a positive duration. */
export function seconds(timeout: Timeout): number {
  const value = typeof timeout === "number" ? timeout : parse(timeout);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`timeout: ${JSON.stringify(timeout)} must be more than zero`);
  }
  return value;
}

/** `timeout` rounded up to whole seconds, as the API's `timeout_seconds` takes. */
export function wholeSeconds(timeout: Timeout): number {
  return Math.ceil(seconds(timeout));
}

function parse(text: string): number {
  const compact = text.replace(/\s+/g, "");
  if (/^\d+(\.\d+)?$/.test(compact)) return Number(compact);
  let total = 0;
  PART.lastIndex = 0;
  let position = 0;
  for (let match = PART.exec(compact); match; match = PART.exec(compact)) {
    total += Number(match[1]) * (UNITS[match[2] as string] ?? Number.NaN);
    position = PART.lastIndex;
  }
  if (position === 0 || position !== compact.length) {
    throw new RangeError(
      `timeout: ${JSON.stringify(text)} is not a duration (use seconds, or e.g. "30s", "10m", "1h30m")`,
    );
  }
  return total;
}
