import { describe, expect, it } from "vitest";
import { RowText } from "../../src/quality/row-text.js";

const rowOf = (...texts: string[]) => {
  const row = new RowText();
  texts.forEach((text, index) => row.add(`c${index}`, text));
  return row;
};

describe("RowText", () => {
  it("counts offsets in code points: an emoji is one, as in Python, in whichever cell", () => {
    const row = rowOf("😀x", "😀a😀b");
    expect([0, 2, 3, 5, 6].map((offset) => row.codePointOffset(1, offset))).toEqual([0, 1, 2, 3, 4]);
    expect(rowOf("ab", "cd").codePointOffset(1, 2)).toBe(2);
  });

  it("folds a simple row by lower-casing it only: the written offsets, whitespace as written", () => {
    const row = rowOf("A  \n B", "Hello   World", "");
    expect([row.foldedCell(0), row.foldedCell(1), row.foldedCell(2)]).toEqual(["a  \n b", "hello   world", ""]);
    expect([row.foldedOffset(1, 8), row.writtenRange(1, 8, 13)]).toEqual([8, { start: 8, end: 13 }]);
  });

  it("finds a normalized needle as in the cells with whitespace collapsed, and gives the written range", () => {
    const row = rowOf("A  \n B", "say Hello \t World!", "hello world");
    expect(row.findFolded("a b", 0, 0)).toEqual({ cell: 0, start: 0, end: 6 });
    expect(row.findFolded("hello world", 0, 0)).toEqual({ cell: 1, start: 4, end: 17 });
    expect(row.findFolded("hello world", 1, 5)).toEqual({ cell: 2, start: 0, end: 11 });
    expect(row.findFolded("world", 1, 0)).toEqual({ cell: 1, start: 12, end: 17 });
    // Whitespace no collapsed text holds: two spaces in a row, a tab.
    expect([row.findFolded("hello  world", 0, 0), row.findFolded("hello\tworld", 0, 0)]).toEqual([undefined, undefined]);
  });

  it("folds a row NFC or lower-casing changes in length in full, and maps its ranges back", () => {
    const row = rowOf("x", "İx  yz");
    expect(row.foldedCell(1)).toBe("i\u0307x yz");
    expect(row.writtenRange(1, 0, 1)).toEqual({ start: 0, end: 1 });
    expect(row.writtenRange(1, 0, 3)).toEqual({ start: 0, end: 2 });
    expect(row.findFolded("i\u0307x yz", 0, 0)).toEqual({ cell: 1, start: 0, end: 6 });
  });

  it("still finds a needle in a text that repeats its start over and over (a collapsed copy, past the look-ahead budget)", () => {
    const body = `${"a ".repeat(5000)}a\n\nb`;
    const needle = `${"a ".repeat(50)}b`;
    const row = rowOf(body);
    expect(row.findFolded(needle, 0, 0)).toEqual({ cell: 0, start: 2 * (5001 - 50), end: body.length });
    expect(row.findFolded(`${needle} c`, 0, 0)).toBeUndefined();
  });

  it("finds whole words within one cell, never across the cells' separator", () => {
    const row = rowOf("ana", "maria", "ana maria");
    expect(row.findWritten("ana", 0, 1)).toEqual({ cell: 2, start: 0, end: 3 });
    expect(row.findWritten("ana\0maria", 0, 0)).toBeUndefined();
    expect(row.findFolded("ana maria", 0, 0)).toEqual({ cell: 2, start: 0, end: 9 });
  });
});
