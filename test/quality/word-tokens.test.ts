import { describe, expect, it } from "vitest";
import { findWhole, splitsWord, WordTokens } from "../../src/quality/word-tokens.js";

describe("WordTokens", () => {
  it("tokenizes words, and each CJK character alone", () => {
    expect(new WordTokens("order 東京 tables").words).toEqual(["order", "東", "京", "table"]);
  });

  it("keeps each token's offsets in the folded text", () => {
    const tokens = new WordTokens("two mugs, 😀 one");
    expect(tokens.words).toEqual(["two", "mug", "one"]);
    expect([tokens.starts, tokens.ends]).toEqual([[0, 4, 13], [3, 8, 16]]);
  });
});

describe("word boundaries", () => {
  it("finds whole words only, in scripts written with spaces", () => {
    expect(splitsWord("banana", 1)).toBe(true);
    expect(splitsWord("東京都", 2)).toBe(false);
    expect(findWhole("banana ana", "ana", 0)).toBe(7);
  });
});
