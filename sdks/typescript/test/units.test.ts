/** The pieces that need no gateway: durations and event-stream framing. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { seconds, wholeSeconds } from "../src/duration.js";
import { FrameDecoder, LineSplitter } from "../src/sse.js";

describe("durations", () => {
  it("are seconds or duration strings", () => {
    const cases: [number | string, number][] = [
      [30, 30],
      [2.5, 2.5],
      ["45", 45],
      ["30s", 30],
      ["10m", 600],
      ["1h30m", 5400],
      ["1d", 86400],
      ["250ms", 0.25],
      [" 2m 5s ", 125],
      ["1.5h", 5400],
    ];
    for (const [timeout, expected] of cases) assert.equal(seconds(timeout), expected, String(timeout));
  });

  it("refuse anything else", () => {
    for (const timeout of ["", "ten minutes", "10x", "m10", "5s10", 0, -1, "0s", Number.POSITIVE_INFINITY, Number.NaN]) {
      assert.throws(() => seconds(timeout), RangeError, String(timeout));
    }
  });

  it("round up to whole seconds for the API", () => {
    assert.equal(wholeSeconds("250ms"), 1);
    assert.equal(wholeSeconds(90), 90);
  });
});

describe("event-stream framing", () => {
  it("splits lines at CRLF, LF or CR, even across chunks", () => {
    const splitter = new LineSplitter();
    assert.deepEqual(splitter.push("a\r"), []);
    assert.deepEqual(splitter.push("\nb\nc\rd"), ["a", "b", "c"]);
    assert.deepEqual(splitter.push("\r\n"), ["d"]);
  });

  it("dispatches frames at blank lines and skips comments", () => {
    const decoder = new FrameDecoder();
    const lines = [": heartbeat", "", "id: 7", "event: approval.requested", 'data: {"a":', "data:1}", "", "id: 8", ""];
    const frames = lines.map((line) => decoder.feed(line)).filter((frame) => frame !== undefined);
    assert.deepEqual(frames, [{ id: "7", data: '{"a":\n1}' }]);
  });
});
