import { describe, expect, it } from "vitest";
import { writtenNumbers } from "../../src/quality/written-numbers.js";

/** Each number as written, with its readings (`.` as the decimal point, then `,`). */
const read = (text: string) => {
  const numbers = writtenNumbers(text);
  return numbers.starts.map((start, index) => [
    text.slice(start, numbers.ends[index]),
    [numbers.pointValues[index]!, numbers.commaValues[index]!].filter((value) => !Number.isNaN(value)),
  ]);
};

describe("writtenNumbers", () => {
  it("reads numbers with their grouping, sign and currency symbol, not digits inside words", () => {
    const text = "A-12 costs -$1,234.50, or 1.234,5 €; v2";
    expect(read(text)).toEqual([
      ["12", [12]],
      ["-$1,234.50", [-1234.5]],
      ["1.234,5", [1234.5]],
    ]);
  });

  it("finds the first number from an offset on that reads as a value, by either reading, within 1e-9 of it", () => {
    const numbers = writtenNumbers("12 x 1,50 y 12 z 3.0000000001");
    expect([numbers.find(12, 0), numbers.find(12, 1), numbers.find(1.5, 0), numbers.find(150, 0), numbers.find(3, 0), numbers.find(7, 0)]).toEqual([0, 2, 1, 1, 3, -1]);
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
    expect(read(text)).toEqual([[text, values]]);
  });
});
