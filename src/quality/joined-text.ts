/**
 * A row's cells joined into one text, so that one native search covers the whole row where a
 * search per cell would make one call per cell.
 */
import { lastAtOrBelow } from "./sorted-search.js";
import { findWhole, splitsWord } from "./word-tokens.js";

/**
 * What the joined texts put between two cells: NUL is neither a word character nor whitespace nor
 * part of a number, and folding keeps it and lets no context cross it, so a match, a word
 * boundary, a number or a fold reads the same at a cell's edge as at the edge of the cell alone.
 * A hit that runs over it (a value holding a NUL) is no hit.
 */
export const SEPARATOR = "\u0000";

/** A hit of a search over a joined text: the cell, and UTF-16 offsets in that cell's text. */
export interface CellHit {
  cell: number;
  start: number;
  end: number;
}

/** Texts joined by {@link SEPARATOR}, with where each starts. */
export class JoinedText {
  constructor(
    readonly text: string,
    /** The offset where each text starts in {@link text}. */
    readonly starts: readonly number[],
  ) {}

  /** `texts` joined. */
  static of(texts: readonly string[]): JoinedText {
    const starts: number[] = [];
    let start = 0;
    for (const text of texts) {
      starts.push(start);
      start += text.length + SEPARATOR.length;
    }
    return new JoinedText(texts.join(SEPARATOR), starts);
  }

  /** Text `cell` alone. */
  cellText(cell: number): string {
    return this.text.slice(this.starts[cell], this.#cellEnd(cell));
  }

  /** The first whole-word occurrence of `needle` within one text, from `offset` of text `cell` on. */
  find(needle: string, cell: number, offset: number): CellHit | undefined {
    if (cell >= this.starts.length) return undefined;
    for (let at = findWhole(this.text, needle, this.starts[cell]! + offset); at >= 0; at = findWhole(this.text, needle, at + 1)) {
      const hit = this.#within(at, at + needle.length);
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * {@link find} for a needle of words separated by single spaces (as `normalizeText` gives it), in
   * a text whose whitespace is not collapsed: each of its spaces stands for a run of whitespace,
   * as if the text's runs were collapsed to one space first. A native search for the needle's
   * first word, then a look at what follows each hit. Null when that look has read more than
   * twice the text (a text repeating the needle's start over and over), so that the caller can
   * search a collapsed copy instead: never quadratic.
   */
  findSpaced(needle: string, cell: number, offset: number): CellHit | undefined | null {
    const { text, starts } = this;
    if (cell >= starts.length) return undefined;
    const first = needle.slice(0, needle.indexOf(" "));
    let budget = 2 * (text.length - starts[cell]! - offset) + needle.length;
    for (let at = text.indexOf(first, starts[cell]! + offset); at >= 0; at = text.indexOf(first, at + 1)) {
      // What follows first: most hits of a short first word are inside longer words (`the` in `other`), and fail at once.
      const end = spacedMatchEnd(text, needle, at + first.length, first.length);
      budget -= Math.abs(end) - at;
      if (budget < 0) return null;
      if (end < 0 || splitsWord(text, at) || splitsWord(text, end)) continue;
      const hit = this.#within(at, end);
      if (hit) return hit;
    }
    return undefined;
  }

  /** The text and the offset in it of an offset of the joined text. */
  cellOf(offset: number): { cell: number; offset: number } {
    const cell = lastAtOrBelow(this.starts, offset);
    return { cell, offset: offset - this.starts[cell]! };
  }

  /** `[start, end)` of the joined text as a hit, if it is within one text. */
  #within(start: number, end: number): CellHit | undefined {
    const hit = this.cellOf(start);
    return end <= this.#cellEnd(hit.cell) ? { cell: hit.cell, start: hit.offset, end: hit.offset + end - start } : undefined;
  }

  /** Where text `cell` ends: the next one starts after its separator. */
  #cellEnd(cell: number): number {
    return cell + 1 < this.starts.length ? this.starts[cell + 1]! - SEPARATOR.length : this.text.length;
  }
}

/**
 * Where the match of `needle` (read from `from` on) that continues at `at` of `text` ends, a
 * space of the needle matching a whole run of whitespace; `-stop` (negative) when it fails at `stop`.
 */
function spacedMatchEnd(text: string, needle: string, at: number, from: number): number {
  let position = at;
  for (let index = from; index < needle.length; index++) {
    const code = needle.charCodeAt(index);
    if (code === 0x20) {
      if (position >= text.length || !isWhitespace(text.charCodeAt(position))) return -position;
      do position++;
      while (position < text.length && isWhitespace(text.charCodeAt(position)));
    } else if (text.charCodeAt(position) === code) position++;
    else return -position;
  }
  return position;
}

/** True for what `\s` matches (what folding collapses). */
function isWhitespace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}
