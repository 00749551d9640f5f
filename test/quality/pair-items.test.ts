import { describe, expect, it } from "vitest";
import { pairItems } from "../../src/quality/pair-items.js";

const same = (a: string, b: string) => (a === b ? 1 : 0);

describe("pairItems", () => {
  it("pairs equal items whatever their order and drops pairs with nothing in common", () => {
    expect(pairItems(["a", "b"], ["b", "x"], same)).toEqual([[1, 0]]);
  });

  it("maximizes the total similarity where a greedy choice would not", () => {
    // Greedy takes gold 0 -> actual 0 (0.9), leaving gold 1 -> actual 1 (0.1): 1.0 in all.
    // The optimum pairs them crosswise: 0.8 + 0.8 = 1.6.
    const scores = [
      [0.9, 0.8],
      [0.8, 0.1],
    ];
    expect(pairItems([0, 1], [0, 1], (g, a) => scores[g]![a]!)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it("handles more items on either side, and empty sides", () => {
    expect(pairItems(["a"], ["x", "y", "a"], same)).toEqual([[0, 2]]);
    expect(pairItems(["x", "a", "y"], ["a"], same)).toEqual([[1, 0]]);
    expect(pairItems([], ["a"], same)).toEqual([]);
  });
});
