import { describe, expect, it } from "vitest";
import { findWhole, SourceText, splitsWord } from "../../src/quality/source-text.js";

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
});

describe("word boundaries", () => {
  it("finds whole words only, in scripts written with spaces", () => {
    expect(splitsWord("banana", 1)).toBe(true);
    expect(splitsWord("東京都", 2)).toBe(false);
    expect(findWhole("banana ana", "ana", 0)).toBe(7);
  });
});
