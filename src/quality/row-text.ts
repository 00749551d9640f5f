/**
 * A row's cells as grounding reads them: joined into one text as written and one folded, so that
 * one native search covers the whole row where a search per cell would make one call per cell,
 * and the row is folded once, not cell by cell. What a search needs of a cell (its folded text
 * and word tokens, the way back from folded to written offsets, code points) comes from these,
 * each built at most once per row, only when a search needs it, and each linear in the row's
 * length, so a 2 MB cell costs a few passes, never a pass per value.
 */
import { foldJoined, type OffsetMap } from "./fold-text.js";
import { lastAtOrBelow } from "./sorted-search.js";
import { countBelow, findWhole, WordTokens } from "./word-tokens.js";
import { writtenNumbers, type WrittenNumbers } from "./written-numbers.js";

/**
 * What the joined texts put between two cells: NUL is neither a word character nor whitespace nor
 * part of a number, and folding keeps it and lets no context cross it, so a match, a word
 * boundary, a number or a fold reads the same at a cell's edge as at the edge of the cell alone.
 * A hit that runs over it (a value holding a NUL) is no hit.
 */
const SEPARATOR = "\u0000";

/** One input cell. */
export interface Cell {
  /** The column (record key) the text is in. */
  column: string;
  /** The text as written. */
  text: string;
}

/** A hit of a search over a joined text: the cell, and UTF-16 offsets in that cell's (written or folded) text. */
export interface CellHit {
  cell: number;
  start: number;
  end: number;
}

/** The cells of one row, each read at most once per row, whichever values need them. */
export class RowText {
  readonly cells: Cell[] = [];
  #written?: JoinedText;
  #folded?: JoinedText;
  /** Where the folded units come from in the written text, both joined; null when folding moved no offset. */
  #offsets: OffsetMap | null = null;
  #tokens: (WordTokens | undefined)[] = [];
  #numbers?: WrittenNumbers;
  /** Offsets (joined, written) of the second unit of each surrogate pair: each is one code point fewer before it. */
  #surrogatePairs?: number[];

  add(column: string, text: string): void {
    this.cells.push({ column, text });
  }

  /** The first whole-word occurrence of `needle` in the written cells, from `offset` of cell `cell` on. */
  findWritten(needle: string, cell: number, offset: number): CellHit | undefined {
    return this.#writtenText.find(needle, cell, offset);
  }

  /** The same in the folded cells (`offset` is a folded offset). */
  findFolded(needle: string, cell: number, offset: number): CellHit | undefined {
    return this.#foldedText.find(needle, cell, offset);
  }

  /** The folded cells joined, for a check over all of them at once (a word never holds a NUL, so it never matches across cells). */
  get folded(): string {
    return this.#foldedText.text;
  }

  /** Cell `cell` in NFC, lower case, whitespace collapsed (as `foldText` folds it alone). */
  foldedCell(cell: number): string {
    const { text, starts } = this.#foldedText;
    return text.slice(starts[cell], cell + 1 < starts.length ? starts[cell + 1]! - SEPARATOR.length : text.length);
  }

  /** The word tokens of the folded cell `cell`. */
  tokens(cell: number): WordTokens {
    return (this.#tokens[cell] ??= new WordTokens(this.foldedCell(cell)));
  }

  /** The first unit of folded cell `cell` that comes from at or after `offset` of its written text. */
  foldedOffset(cell: number, offset: number): number {
    const folded = this.#foldedText; // builds the map
    if (offset === 0 || !this.#offsets) return offset;
    return this.#offsets.foldedOf(this.#writtenText.starts[cell]! + offset) - folded.starts[cell]!;
  }

  /** The written range of cell `cell` that its folded range `[start, end)` comes from. */
  writtenRange(cell: number, start: number, end: number): [number, number] {
    const foldedStart = this.#foldedText.starts[cell]!;
    const offsets = this.#offsets;
    if (!offsets) return [start, end];
    const writtenStart = this.#writtenText.starts[cell]!;
    // A unit that lower-casing expanded (`İ` -> `i̇`) shares its origin with the next: end after the whole character.
    const last = offsets.writtenOf(foldedStart + end - 1);
    const cellEnd = foldedStart + this.foldedCell(cell).length;
    let next = foldedStart + end;
    while (next < cellEnd && offsets.writtenOf(next) === last) next++;
    return [offsets.writtenOf(foldedStart + start) - writtenStart, offsets.writtenOf(next) - writtenStart];
  }

  /** A UTF-16 offset of cell `cell`'s written text as a code point offset (what Python's `str` indexes count). */
  codePointOffset(cell: number, offset: number): number {
    const { text, starts } = this.#writtenText;
    this.#surrogatePairs ??= surrogatePairSeconds(text);
    if (this.#surrogatePairs.length === 0) return offset;
    const start = starts[cell]!;
    return offset - (countBelow(this.#surrogatePairs, start + offset) - countBelow(this.#surrogatePairs, start));
  }

  /** The numbers written in the cells, in order, in offsets of the joined written text (see {@link cellOfWritten}). */
  get numbers(): WrittenNumbers {
    return (this.#numbers ??= writtenNumbers(this.#writtenText.text));
  }

  /** The cell and the offset in it of an offset of the joined written text. */
  cellOfWritten(offset: number): { cell: number; offset: number } {
    return this.#writtenText.cellOf(offset);
  }

  /** The offset in the joined written text of `offset` in cell `cell`. */
  writtenOffset(cell: number, offset: number): number {
    return this.#writtenText.starts[cell]! + offset;
  }

  get #writtenText(): JoinedText {
    if (this.#written) return this.#written;
    const texts = this.cells.map((cell) => cell.text);
    const starts: number[] = [];
    let start = 0;
    for (const text of texts) {
      starts.push(start);
      start += text.length + SEPARATOR.length;
    }
    return (this.#written = new JoinedText(texts.join(SEPARATOR), starts));
  }

  get #foldedText(): JoinedText {
    if (this.#folded) return this.#folded;
    const written = this.#writtenText;
    const { text, offsets } = foldJoined(
      this.cells.map((cell) => cell.text),
      written.text,
      SEPARATOR,
    );
    this.#offsets = offsets;
    // A cell's first unit comes from the cell's start: its separator before it is kept, and whatever a fold collapses stays inside the cell.
    return (this.#folded = new JoinedText(text, offsets ? written.starts.map((start) => offsets.foldedOf(start)) : written.starts));
  }
}

/** Texts joined by {@link SEPARATOR}, with where each starts. */
class JoinedText {
  constructor(
    readonly text: string,
    /** The offset where each text starts in {@link text}. */
    readonly starts: readonly number[],
  ) {}

  find(needle: string, cell: number, offset: number): CellHit | undefined {
    const { text, starts } = this;
    if (cell >= starts.length) return undefined;
    for (let at = findWhole(text, needle, starts[cell]! + offset); at >= 0; at = findWhole(text, needle, at + 1)) {
      const hit = this.cellOf(at);
      // Within one cell: the next cell (or the end) starts after this one's separator.
      const cellEnd = hit.cell + 1 < starts.length ? starts[hit.cell + 1]! - SEPARATOR.length : text.length;
      if (at + needle.length <= cellEnd) return { cell: hit.cell, start: hit.offset, end: hit.offset + needle.length };
    }
    return undefined;
  }

  cellOf(offset: number): { cell: number; offset: number } {
    const cell = lastAtOrBelow(this.starts, offset);
    return { cell, offset: offset - this.starts[cell]! };
  }
}

/** UTF-16 offsets of the second unit of each surrogate pair of `text`. */
function surrogatePairSeconds(text: string): number[] {
  const seconds: number[] = [];
  if (!/[\ud800-\udbff]/.test(text)) return seconds;
  for (let i = 0; i < text.length - 1; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) seconds.push(++i);
  }
  return seconds;
}
