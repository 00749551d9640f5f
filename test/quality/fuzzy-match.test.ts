import { describe, expect, it } from "vitest";
import { findFuzzy, mayHoldFuzzy } from "../../src/quality/fuzzy-match.js";
import { WordTokens } from "../../src/quality/word-tokens.js";

const words = (text: string) => new WordTokens(text).words;
const tokenize = (text: string) => new WordTokens(text);

describe("findFuzzy", () => {
  it("finds a run holding all the value's words with others between them", () => {
    expect(findFuzzy(words("refund duplicate charge"), tokenize("please refund the duplicate charge now"), 0)).toEqual({ first: 1, last: 4 });
  });

  it("accepts three words of four (coverage 0.75), not two of four", () => {
    expect(findFuzzy(words("ana maria lima souza"), tokenize("ana lima souza"), 0)).toEqual({ first: 0, last: 2 });
    expect(findFuzzy(words("ana maria lima souza"), tokenize("ana lima"), 0)).toBeUndefined();
  });

  it("rejects the value's words spread thinner than one in three", () => {
    expect(findFuzzy(words("red mug"), tokenize("red a b c d e mug"), 0)).toBeUndefined();
    expect(findFuzzy(words("red mug"), tokenize("red a b c d mug"), 0)).toEqual({ first: 0, last: 5 });
  });

  it("counts a repeated word only as often as the value has it, and prefers the tightest run", () => {
    expect(findFuzzy(words("blue mug"), tokenize("blue blue blue x mug y blue mug"), 0)).toEqual({ first: 6, last: 7 });
  });

  it("starts at the given token, and compares plurals as langextract does", () => {
    const tokens = tokenize("two mugs, then two mugs");
    expect(findFuzzy(words("two mug"), tokens, 0)).toEqual({ first: 0, last: 1 });
    expect(findFuzzy(words("two mug"), tokens, 1)).toEqual({ first: 3, last: 4 });
  });

  it("is never ruled out by the substring check where it matches", () => {
    const text = "please refund the duplicate charges now";
    expect(mayHoldFuzzy(text, words("refund duplicate charge"))).toBe(true);
    expect(mayHoldFuzzy(text, words("refund a missing parcel"))).toBe(false);
    // From an offset on (after a repeated value's previous span): the words before it do not count.
    expect(mayHoldFuzzy(text, words("refund duplicate charge"), text.indexOf("duplicate"))).toBe(false);
    expect(mayHoldFuzzy(text, words("duplicate charge"), text.indexOf("duplicate"))).toBe(true);
  });
});
