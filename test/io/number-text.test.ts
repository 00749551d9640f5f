import { describe, expect, it } from "vitest";
import { formatNumber } from "../../src/io/number-text.js";

describe("formatNumber", () => {
  it("groups thousands and rounds to the places asked", () => {
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(999)).toBe("999");
    expect(formatNumber(1000)).toBe("1,000");
    expect(formatNumber(1234567.4)).toBe("1,234,567");
    expect(formatNumber(-1234.6)).toBe("-1,235");
    expect(formatNumber(-0.4)).toBe("0");
    expect(formatNumber(1234.5678, 2)).toBe("1,234.57");
    expect(formatNumber(12.3, 1)).toBe("12.3");
    expect(formatNumber(5, 2)).toBe("5.00");
  });

  it("writes what Intl.NumberFormat writes for en-US, over many magnitudes", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (const decimals of [0, 1, 2]) {
      // "negative": no "-0" for a small negative number rounded to zero (as formatNumber writes it).
      const reference = new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals, signDisplay: "negative" });
      for (let i = 0; i < 2000; i++) {
        // Many digits past the rounding place: no value falls on a tie, where the two may round apart.
        const n = (random() - 0.2) * 10 ** Math.floor(random() * 12);
        expect([n, formatNumber(n, decimals)]).toEqual([n, reference.format(n)]);
      }
    }
  });
});
