/**
 * A row's cells as grounding reads them: joined into one text as written and one folded
 * ({@link JoinedText}), so that the row is searched and folded once, not cell by cell. What a
 * search needs of a cell (its folded text and word tokens, the way back from folded to written
 * offsets, code points, the numbers) comes from these, each built at most once per row, only when
 * a search needs it, and each linear in the row's length, so a 2 MB cell costs a few passes,
 * never a pass per value.
 */
import { foldJoined, lowerIfSimple, type OffsetMap } from "./fold-text.js";
import { JoinedText, SEPARATOR, type CellHit } from "./joined-text.js";
import { countBelow, type WordTokens } from "./word-tokens.js";
import { writtenNumbers, type WrittenNumbers } from "./written-numbers.js";

/** One input cell. */
export interface Cell {
  /** The column (record key) the text is in. */
  column: string;
  /** The text as written. */
  text: string;
}

/** The cells folded and joined, and where each unit comes from in the written cells joined (null: from the same offset). */
interface FoldedCells {
  joined: JoinedText;
  offsets: OffsetMap | null;
  /** False when whitespace is left as written (the cells only lower-cased). */
  collapsed: boolean;
}

/** Whitespace a needle from `normalizeText` never has: at its ends, two in a row, other than a space. */
const ODD_WHITESPACE = /^\s|\s$|\s\s|[^\S ]/;

/** The cells of one row, each read at most once per row, whichever values need them. */
export class RowText {
  readonly cells: Cell[] = [];
  #written?: JoinedText;
  /**
   * The folded cells that fuzzy matching reads and most normalized searches: when every cell is
   * simple (see `lowerIfSimple`: nearly always), just the cells lower-cased, with the written
   * offsets, whitespace left as it is (a search reads a needle's space as a run of it);
   * otherwise the cells folded in full.
   */
  #folded?: FoldedCells;
  /**
   * The cells folded in full, whitespace collapsed, with their offset map: a simple row needs it
   * only for a needle with odd whitespace, or a search of the lowered cells that gave up.
   */
  #collapsed?: FoldedCells;
  /**
   * The word tokens of each folded cell, made by the fuzzy search the first time it reads the cell
   * (`new WordTokens(row.foldedCell(cell))`). A cache the search fills in itself rather than a
   * method: a method called this rarely gets hot, and compiled with the tokenizer inlined once
   * more, only late in a run, where the search that calls it is compiled early.
   */
  readonly tokens: (WordTokens | undefined)[] = [];
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

  /**
   * The first whole-word occurrence of `needle` (normalized) in the folded cells, from written
   * offset `offset` of cell `cell` on, as a written range: what a search of the cells folded in
   * full (whitespace collapsed) finds.
   */
  findFolded(needle: string, cell: number, offset: number): CellHit | undefined {
    const folded = this.#foldedCells;
    if (!folded.collapsed && !ODD_WHITESPACE.test(needle)) {
      // Lower-cased, whitespace not collapsed: a needle without spaces is found as it is, one with spaces by runs.
      if (!needle.includes(" ")) return folded.joined.find(needle, cell, offset);
      const hit = folded.joined.findSpaced(needle, cell, offset);
      if (hit !== null) return hit;
    }
    const collapsed = (this.#collapsed ??= this.#collapse());
    const hit = collapsed.joined.find(needle, cell, cell < this.cells.length ? foldedOffset(collapsed, this.#writtenText, cell, offset) : 0);
    return hit && { cell: hit.cell, ...writtenRange(collapsed, this.#writtenText, hit.cell, hit.start, hit.end) };
  }

  /** The folded cells joined, for a check over all of them at once (a word never holds a NUL, so it never matches across cells). */
  get folded(): string {
    return this.#foldedCells.joined.text;
  }

  /** Cell `cell` folded (as `foldText` folds it alone, whitespace perhaps not collapsed: a word is the same either way). */
  foldedCell(cell: number): string {
    return this.#foldedCells.joined.cellText(cell);
  }

  /** The first unit of folded cell `cell` that comes from at or after `offset` of its written text. */
  foldedOffset(cell: number, offset: number): number {
    return foldedOffset(this.#foldedCells, this.#writtenText, cell, offset);
  }

  /** The written range of cell `cell` that its folded range `[start, end)` comes from. */
  writtenRange(cell: number, start: number, end: number): { start: number; end: number } {
    const folded = this.#foldedCells;
    return folded.offsets ? writtenRange(folded, this.#writtenText, cell, start, end) : { start, end };
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
    return (this.#written ??= JoinedText.of(this.cells.map((cell) => cell.text)));
  }

  get #foldedCells(): FoldedCells {
    if (this.#folded) return this.#folded;
    const written = this.#writtenText;
    const lower = lowerIfSimple(written.text);
    return (this.#folded = lower === null ? (this.#collapsed ??= this.#collapse()) : { joined: new JoinedText(lower, written.starts), offsets: null, collapsed: false });
  }

  #collapse(): FoldedCells {
    const written = this.#writtenText;
    const { text, offsets } = foldJoined(
      this.cells.map((cell) => cell.text),
      written.text,
      SEPARATOR,
    );
    // A cell's first unit comes from the cell's start: its separator before it is kept, and whatever a fold collapses stays inside the cell.
    return { joined: new JoinedText(text, offsets ? written.starts.map((start) => offsets.foldedOf(start)) : written.starts), offsets, collapsed: true };
  }
}

/** The first unit of cell `cell` of `folded` that comes from at or after `offset` of the written cell. */
function foldedOffset({ joined, offsets }: FoldedCells, written: JoinedText, cell: number, offset: number): number {
  if (offset === 0 || !offsets) return offset;
  return offsets.foldedOf(written.starts[cell]! + offset) - joined.starts[cell]!;
}

/** The written range of cell `cell` that its range `[start, end)` in `folded` comes from. */
function writtenRange({ joined, offsets }: FoldedCells, written: JoinedText, cell: number, start: number, end: number): { start: number; end: number } {
  if (!offsets) return { start, end };
  const foldedStart = joined.starts[cell]!;
  const writtenStart = written.starts[cell]!;
  // A unit that lower-casing expanded (`İ` -> `i̇`) shares its origin with the next: end after the whole character.
  const last = offsets.writtenOf(foldedStart + end - 1);
  const cellEnd = foldedStart + joined.cellText(cell).length;
  let next = foldedStart + end;
  while (next < cellEnd && offsets.writtenOf(next) === last) next++;
  return { start: offsets.writtenOf(foldedStart + start) - writtenStart, end: offsets.writtenOf(next) - writtenStart };
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
