/** RFC 8785 canonical JSON: the RFC's own examples, and agreement with the
 * `canonicalize` package (by one of the RFC's authors) on generated values. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import reference from "canonicalize";

import { canonicalize } from "../src/index.js";

describe("canonical JSON", () => {
  it("serialises the RFC's sample data as the RFC shows", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    );
    assert.equal(
      canonicalize(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts members by UTF-16 code units as the RFC's example does", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    assert.equal(
      canonicalize(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("serialises the RFC's IEEE 754 number samples", () => {
    const samples: [string, string][] = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"],
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [bits, expected] of samples) {
      assert.equal(canonicalize(Buffer.from(bits, "hex").readDoubleBE(0)), expected, bits);
    }
    for (const bits of ["7fffffffffffffff", "7ff0000000000000"]) {
      assert.throws(() => canonicalize(Buffer.from(bits, "hex").readDoubleBE(0)), TypeError);
    }
  });

  it("refuses lone surrogates", () => {
    assert.throws(() => canonicalize({ bad: "\ud800" }), TypeError);
    assert.equal(canonicalize("\ud83d\ude00"), '"😀"');
  });

  it("agrees with the reference implementation on generated values", () => {
    const random = seeded(8785);
    for (let i = 0; i < 500; i++) {
      const value = generate(random, 4);
      assert.equal(canonicalize(value), reference(value), JSON.stringify(value));
    }
  });
});

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "B", "é", "€", "😀", "\n", "\u0001", '"', "\\", "\u2028", "ｚ", "\u007f", " "];

function generate(random: () => number, depth: number): unknown {
  const pick = Math.floor(random() * (depth > 0 ? 8 : 5));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
    case 3:
      return Math.floor((random() - 0.5) * 2 ** 53);
    case 4:
      return text(random);
    case 5:
      return Array.from({ length: Math.floor(random() * 4) }, () => generate(random, depth - 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) object[text(random)] = generate(random, depth - 1);
      return object;
    }
  }
}

function text(random: () => number): string {
  return Array.from({ length: Math.floor(random() * 6) }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join("");
}
