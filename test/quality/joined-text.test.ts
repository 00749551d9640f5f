import { describe, expect, it } from "vitest";
import { JoinedText } from "../../src/quality/joined-text.js";

describe("JoinedText", () => {
  const joined = JoinedText.of(["banana ana", "ana\n\n maria", "x"]);

  it("finds whole words within one text, from an offset of a text on", () => {
    expect(joined.find("ana", 0, 0)).toEqual({ cell: 0, start: 7, end: 10 });
    expect(joined.find("ana", 0, 8)).toEqual({ cell: 1, start: 0, end: 3 });
    expect(joined.cellText(1)).toBe("ana\n\n maria");
  });

  it("finds words separated by single spaces across runs of whitespace, never inside a word or across texts", () => {
    expect(joined.findSpaced("ana maria", 0, 0)).toEqual({ cell: 1, start: 0, end: 11 });
    expect(joined.findSpaced("ana mari", 0, 0)).toBeUndefined();
    expect(joined.findSpaced("maria x", 0, 0)).toBeUndefined();
  });

  it("gives up (null) when following the needle's first word has read more than twice the text", () => {
    const repeated = JoinedText.of([`${"a ".repeat(1000)}b`]);
    expect(repeated.findSpaced(`${"a ".repeat(20)}c`, 0, 0)).toBeNull();
    expect(repeated.findSpaced("a b", 0, 0)).toEqual({ cell: 0, start: 1998, end: 2001 });
  });
});
