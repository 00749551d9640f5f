import { describe, expect, it } from "vitest";
import { foldText, normalizedOrigin } from "../../src/quality/fold-text.js";

describe("foldText", () => {
  it("lower-cases and collapses whitespace, and knows where each unit came from", () => {
    expect(foldText("Ab \n\t Cd")).toBe("ab cd");
    expect(Array.from(normalizedOrigin("Ab \n\t Cd"))).toEqual([0, 1, 2, 6, 7, 8]);
  });

  it("composes combining accents (NFC), keeping the origin of the whole character", () => {
    expect(foldText("E\u0301t\u00e9  x")).toBe("\u00e9t\u00e9 x");
    expect(Array.from(normalizedOrigin("E\u0301t\u00e9  x"))).toEqual([0, 2, 3, 4, 6, 7]);
  });

  it.each(["Straße  ÉTÉ\u00a0 x", "tab\there\u2028東京 😀 é", "İstanbul \t\n"])("normalizes %j to as many units as it maps", (text) => {
    expect(normalizedOrigin(text)).toHaveLength(foldText(text).length + 1);
  });
});
