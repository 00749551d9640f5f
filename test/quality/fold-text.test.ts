import { describe, expect, it } from "vitest";
import { foldJoined, foldText, foldWithOffsets } from "../../src/quality/fold-text.js";

/** For each unit of the fold (and one past its end), the written offset it comes from. */
const origins = (text: string) => {
  const { text: folded, offsets } = foldWithOffsets(text);
  return Array.from({ length: folded.length + 1 }, (_, offset) => (offsets ? offsets.writtenOf(offset) : offset));
};

describe("foldText", () => {
  it("lower-cases and collapses whitespace, and knows where each unit came from", () => {
    expect(foldText("Ab \n\t Cd")).toBe("ab cd");
    expect(origins("Ab \n\t Cd")).toEqual([0, 1, 2, 6, 7, 8]);
  });

  it("composes combining accents (NFC), keeping the origin of the whole character", () => {
    expect(foldText("E\u0301t\u00e9  x")).toBe("\u00e9t\u00e9 x");
    expect(origins("E\u0301t\u00e9  x")).toEqual([0, 2, 3, 4, 6, 7]);
  });

  it.each(["Straße  ÉTÉ\u00a0 x", "tab\there\u2028東京 😀 é", "İstanbul \t\n", "plain ascii"])("normalizes %j to as many units as it maps, as foldWithOffsets does", (text) => {
    expect(origins(text)).toHaveLength(foldText(text).length + 1);
    expect(foldWithOffsets(text).text).toBe(foldText(text));
  });
});

describe("foldJoined", () => {
  // Each row of cells: all simple (one pass over the whole), or not (cell by cell); edges where a
  // fold could cross a cell: a final sigma, whitespace and combining marks at a cell's start or end.
  it.each([
    [["Ab \n\t Cd", "  EF\tg ", ""]],
    [["ΟΔΟΣ", "Α b", "σ ΣΑ"]],
    [["ΟΔΟΣ", "İstanbul  x", "\u0301e  \n"]],
    [["Cafe\u0301", "", "  ÉTÉ\u00a0\u00a0sale 😀", "ΣΊΣΥΦΟΣ"]],
  ])("folds %j as each cell alone, and maps every unit back to where it was written", (cells) => {
    const joined = cells.join("\0");
    const { text, offsets } = foldJoined(cells, joined, "\0");
    expect(text).toBe(cells.map(foldText).join("\0"));
    let foldedStart = 0;
    let writtenStart = 0;
    for (const cell of cells) {
      const alone = origins(cell);
      const inJoined = alone.map((_, unit) => (offsets ? offsets.writtenOf(foldedStart + unit) : foldedStart + unit) - writtenStart);
      expect(inJoined).toEqual(alone);
      foldedStart += foldText(cell).length + 1;
      writtenStart += cell.length + 1;
    }
  });
});
