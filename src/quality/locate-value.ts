/**
 * The search for one value in a row's cells, stage by stage: exact, then normalized, then fuzzy
 * (a number: among the numbers written). Each stage looks at the cells in order from a cursor (a
 * cell, and an offset in it) and stops at the first hit: exact and normalized by one native
 * search over the row's joined cells. What a stage needs of the row (the folded cells, a cell's
 * word tokens, the numbers) is built once for the whole row.
 */
import { findFuzzy, mayHoldFuzzy } from "./fuzzy-match.js";
import type { RowText } from "./row-text.js";
import { countBelow, WordTokens } from "./word-tokens.js";

/** A span in UTF-16 offsets of the written text of cell `source`. */
export interface Found {
  source: number;
  start: number;
  end: number;
  match: "exact" | "normalized" | "fuzzy";
}

/** A string value as it is looked for. */
export interface WantedText {
  /** As the record has it. */
  written: string;
  /** As `normalizeText` gives it. */
  normalized: string;
  /** Its words, made on the first fuzzy search. */
  words?: readonly string[];
}

/**
 * The first of exact, normalized, fuzzy that finds `wanted` in the row, from offset `offset`
 * of cell `source` on. A value of punctuation only (normalized to nothing) is found as written or
 * not at all; `fuzzy: false` (a reformatted date: the same digits in another order, where words
 * in common say nothing) stops after the normalized stage.
 */
export function locateText(row: RowText, wanted: WantedText, fuzzy: boolean, source: number, offset: number): Found | undefined {
  const exact = row.findWritten(wanted.written, source, offset);
  if (exact) return { source: exact.cell, start: exact.start, end: exact.end, match: "exact" };
  if (wanted.normalized === "") return undefined;
  const folded = row.findFolded(wanted.normalized, source, offset);
  if (folded) return { source: folded.cell, start: folded.start, end: folded.end, match: "normalized" };
  if (!fuzzy) return undefined;
  return findFuzzyIn(row, (wanted.words ??= new WordTokens(wanted.normalized).words), source, offset);
}

/** The first number written in the row (from the cursor on) that reads as `value`: exact when written as JSON writes it. */
export function locateNumber(row: RowText, value: number, source: number, offset: number): Found | undefined {
  if (source >= row.cells.length) return undefined;
  const { numbers } = row;
  const index = numbers.find(value, row.writtenOffset(source, offset));
  if (index < 0) return undefined;
  const { cell, offset: start } = row.cellOfWritten(numbers.starts[index]!);
  const end = start + numbers.ends[index]! - numbers.starts[index]!;
  const exact = row.cells[cell]!.text.slice(start, end) === String(value);
  return { source: cell, start, end, match: exact ? "exact" : "normalized" };
}

function findFuzzyIn(row: RowText, wanted: readonly string[], source: number, offset: number): Found | undefined {
  // All cells at once first: most rows lack the words of a value that is not in them.
  if (!mayHoldFuzzy(row.folded, wanted)) return undefined;
  for (let cell = source; cell < row.cells.length; cell++) {
    // Spares tokenizing a cell that cannot match; in the cell of the cursor, only what follows the cursor counts (a repeated value).
    const foldedFrom = cell === source ? row.foldedOffset(cell, offset) : 0;
    const text = row.foldedCell(cell);
    if (!mayHoldFuzzy(text, wanted, foldedFrom)) continue;
    const tokens = (row.tokens[cell] ??= new WordTokens(text));
    const from = foldedFrom === 0 ? 0 : countBelow(tokens.starts, foldedFrom);
    const range = findFuzzy(wanted, tokens, from);
    if (!range) continue;
    const { start, end } = row.writtenRange(cell, tokens.starts[range.first]!, tokens.ends[range.last]!);
    return { source: cell, start, end, match: "fuzzy" };
  }
  return undefined;
}
