import { describe, expect, it } from "vitest";
import { findWhole, normalizedOrigin, foldText, SourceText, splitsWord, tokenize } from "../../src/quality/source-text.js";

describe("foldText", () => {
  it("lower-cases and collapses whitespace, and knows where each unit came from", () => {
    expect(foldText("Ab \n\t Cd")).toBe("ab cd");
    expect(Array.from(normalizedOrigin("Ab \n\t Cd"))).toEqual([0, 1, 2, 6, 7, 8]);
  });

  it("composes combining accents (NFC), keeping the origin of the whole character", () => {
    expect(foldText("E\u0301t\u00e9  x")).toBe("\u00e9t\u00e9 x");
    expect(Array.from(normalizedOrigin("E\u0301t\u00e9  x"))).toEqual([0, 2, 3, 4, 6, 7]);
  });
});

describe("SourceText", () => {
  it("counts offsets in code points: an emoji is one, as in Python", () => {
    const source = new SourceText("c", "😀a😀b");
    expect([0, 2, 3, 5, 6].map((offset) => source.codePointOffset(offset))).toEqual([0, 1, 2, 3, 4]);
  });

  it("maps a normalized range back to the written text, over a character lower-casing expands", () => {
    const source = new SourceText("c", "İx y");
    expect(source.normalized).toBe("i\u0307x y");
    expect(source.writtenRange(0, 1)).toEqual([0, 1]);
    expect(source.writtenRange(0, 3)).toEqual([0, 2]);
  });

  it("reads numbers with their grouping, sign and currency symbol, not digits inside words", () => {
    const source = new SourceText("c", "A-12 costs -$1,234.50, or 1.234,5 €; v2");
    expect(source.numbers.map((n) => [source.text.slice(n.start, n.end), n.values])).toEqual([
      ["12", [12]],
      ["-$1,234.50", [-1234.5]],
      ["1.234,5", [1234.5]],
    ]);
  });
});

describe("words and boundaries", () => {
  it.each(["Straße  ÉTÉ\u00a0 x", "tab\there\u2028東京 😀 é", "İstanbul \t\n"])("normalizes %j to as many units as it maps", (text) => {
    expect(normalizedOrigin(text)).toHaveLength(foldText(text).length + 1);
  });

  it("tokenizes words, and each CJK character alone", () => {
    expect(tokenize("order 東京 tables").map((token) => token.word)).toEqual(["order", "東", "京", "table"]);
  });

  it("finds whole words only, in scripts written with spaces", () => {
    expect(splitsWord("banana", 1)).toBe(true);
    expect(splitsWord("東京都", 2)).toBe(false);
    expect(findWhole("banana ana", "ana", 0)).toBe(7);
  });
});
