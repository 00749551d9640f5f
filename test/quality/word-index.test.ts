import { describe, expect, it } from "vitest";
import { WordIndex } from "../../src/quality/word-index.js";

describe("WordIndex", () => {
  it("tokenizes words, and each CJK character alone", () => {
    expect(new WordIndex("order 東京 tables").words).toEqual(["order", "東", "京", "table"]);
  });

  it("says where each word occurs", () => {
    const index = new WordIndex("two mugs, one mug");
    expect(index.positions("mug")).toEqual([1, 3]);
    expect(index.positions("cup")).toEqual([]);
  });
});
