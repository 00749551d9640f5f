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

  it("maps a folded range back to the written text, over a character lower-casing expands", () => {
    const row = rowOf("x", "İx y");
    expect(row.foldedCell(1)).toBe("i\u0307x y");
    expect(row.writtenRange(1, 0, 1)).toEqual([0, 1]);
    expect(row.writtenRange(1, 0, 3)).toEqual([0, 2]);
  });

  it("folds each cell as alone, and maps offsets within it, whatever the cells before it collapsed", () => {
    const row = rowOf("A  \n B", "Hello   World", "");
    expect([row.foldedCell(0), row.foldedCell(1), row.foldedCell(2)]).toEqual(["a b", "hello world", ""]);
    expect(row.folded).toBe("a b\0hello world\0");
    expect(row.foldedOffset(1, 8)).toBe(6);
    expect(row.writtenRange(1, 6, 11)).toEqual([8, 13]);
    expect(row.findFolded("world", 0, 0)).toEqual({ cell: 1, start: 6, end: 11 });
    expect(row.tokens(1).words).toEqual(["hello", "world"]);
  });

  it("finds whole words within one cell, never across the cells' separator", () => {
    const row = rowOf("ana", "maria", "ana maria");
    expect(row.findWritten("ana", 0, 1)).toEqual({ cell: 2, start: 0, end: 3 });
    expect(row.findWritten("ana\0maria", 0, 0)).toBeUndefined();
  });
});
