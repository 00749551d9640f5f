/**
 * A row's cells, and the same cells joined into one text (as written, and folded), so that one
 * native search covers the whole row where a search per cell would make one call per cell.
 */
import { findWhole, SourceText } from "./source-text.js";
import { writtenNumbers, type WrittenNumber } from "./written-numbers.js";
import { lastAtOrBelow } from "./sorted-search.js";

/**
 * What the joined texts put between two cells: NUL is neither a word character nor whitespace nor
 * part of a number, so a match, a word boundary or a number reads the same at a cell's edge as at
 * the edge of the cell alone. A hit that runs over it (a value holding a NUL) is no hit.
 */
const SEPARATOR = "\u0000";

/** A hit of a search over a joined text: the cell, and UTF-16 offsets in that cell's (written or folded) text. */
export interface CellHit {
  cell: number;
  start: number;
  end: number;
}

/** The cells of one row, each read at most once per row, whichever values need them. */
export class RowText {
  readonly cells: SourceText[] = [];
  #written?: JoinedText;
  #folded?: JoinedText;
  #numbers?: WrittenNumber[];

  add(column: string, text: string): void {
    this.cells.push(new SourceText(column, text));
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

  /** The numbers written in the cells, in order, in offsets of the joined written text (see {@link cellOfWritten}). */
  get numbers(): readonly WrittenNumber[] {
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
    return (this.#written ??= new JoinedText(this.cells.map((source) => source.text)));
  }

  get #foldedText(): JoinedText {
    return (this.#folded ??= new JoinedText(this.cells.map((source) => source.normalized)));
  }
}

/** Texts joined by {@link SEPARATOR}, with where each starts. */
class JoinedText {
  readonly text: string;
  /** The offset where each text starts in {@link text}. */
  readonly starts: number[] = [];

  constructor(texts: readonly string[]) {
    let start = 0;
    for (const text of texts) {
      this.starts.push(start);
      start += text.length + SEPARATOR.length;
    }
    this.text = texts.join(SEPARATOR);
  }

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
