import { describe, expect, it } from "vitest";
import { writtenNumbers } from "../../src/quality/written-numbers.js";

describe("writtenNumbers", () => {
  it("reads numbers with their grouping, sign and currency symbol, not digits inside words", () => {
    const text = "A-12 costs -$1,234.50, or 1.234,5 €; v2";
    expect(writtenNumbers(text).map((n) => [text.slice(n.start, n.end), n.values])).toEqual([
      ["12", [12]],
      ["-$1,234.50", [-1234.5]],
      ["1.234,5", [1234.5]],
    ]);
  });
});
