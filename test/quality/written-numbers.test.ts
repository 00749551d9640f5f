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

  it.each([
    ["0.1", [0.1]],
    ["89.99", [89.99]],
    ["1.234", [1.234, 1234]],
    ["1,234", [1234, 1.234]],
    ["1'250.05", [1250.05]],
    ["12,34,567.891", [1234567.891]],
    ["007", [7]],
    ["0.30000000000000004", [0.30000000000000004]],
    ["123456789012345.67", [123456789012345.67]],
    ["9007199254740993", [9007199254740993]],
    ["1.234.567,891234567890123", [1234567.891234567890123]],
  ])("reads %s as Number() reads it without its grouping, whether summed digit by digit or, past 15 digits, parsed", (text, values) => {
    expect(writtenNumbers(text).map((n) => n.values)).toEqual([values]);
  });
});
