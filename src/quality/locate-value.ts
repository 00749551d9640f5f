/**
 * The search for one value in a row's cells, stage by stage: exact, then normalized, then fuzzy
 * (a number: among the numbers written). Each stage looks at the cells in order from a cursor (a
 * cell, and an offset in it) and stops at the first hit. What a stage needs of a cell (its
 * folded text, its word tokens, its numbers) the cell builds once for the whole row.
 */
import { findFuzzy, mayHoldFuzzy } from "./fuzzy-match.js";
import { findWhole, type SourceText } from "./source-text.js";
import { countBelow, WordTokens } from "./word-tokens.js";

/** A span in UTF-16 offsets of the written text of `sources[source]`. */
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
 * The first of exact, normalized, fuzzy that finds `wanted` in `sources`, from offset `offset`
 * of cell `source` on. A value of punctuation only (normalized to nothing) is found as written or
 * not at all; `fuzzy: false` (a reformatted date: the same digits in another order, where words
 * in common say nothing) stops after the normalized stage.
 */
export function locateText(sources: readonly SourceText[], wanted: WantedText, fuzzy: boolean, source: number, offset: number): Found | undefined {
  const exact = findExact(sources, wanted.written, source, offset);
  if (exact || wanted.normalized === "") return exact;
  const normalized = findNormalized(sources, wanted.normalized, source, offset);
  if (normalized || !fuzzy) return normalized;
  return findFuzzyIn(sources, (wanted.words ??= new WordTokens(wanted.normalized).words), source, offset);
}

/** The first number written in `sources` (from the cursor on) that reads as `value`: exact when written as JSON writes it. */
export function locateNumber(sources: readonly SourceText[], value: number, source: number, offset: number): Found | undefined {
  const tolerance = 1e-9 * Math.max(1, Math.abs(value));
  for (let index = source; index < sources.length; index++) {
    const cell = sources[index]!;
    const from = index === source ? offset : 0;
    for (const written of cell.numbers) {
      if (written.start < from || !readsAs(written.values, value, tolerance)) continue;
      const exact = cell.text.slice(written.start, written.end) === String(value);
      return { source: index, start: written.start, end: written.end, match: exact ? "exact" : "normalized" };
    }
  }
  return undefined;
}

function readsAs(values: readonly number[], value: number, tolerance: number): boolean {
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]! - value) <= tolerance) return true;
  return false;
}

/** The value as written, found by a native search of each cell's written text: no folding needed. */
function findExact(sources: readonly SourceText[], written: string, source: number, offset: number): Found | undefined {
  for (let index = source; index < sources.length; index++) {
    const at = findWhole(sources[index]!.text, written, index === source ? offset : 0);
    if (at >= 0) return { source: index, start: at, end: at + written.length, match: "exact" };
  }
  return undefined;
}

function findNormalized(sources: readonly SourceText[], normalized: string, source: number, offset: number): Found | undefined {
  for (let index = source; index < sources.length; index++) {
    const cell = sources[index]!;
    const at = findWhole(cell.normalized, normalized, index === source ? cell.normalizedOffset(offset) : 0);
    if (at < 0) continue;
    const [start, end] = cell.writtenRange(at, at + normalized.length);
    return { source: index, start, end, match: "normalized" };
  }
  return undefined;
}

function findFuzzyIn(sources: readonly SourceText[], wanted: readonly string[], source: number, offset: number): Found | undefined {
  for (let index = source; index < sources.length; index++) {
    const cell = sources[index]!;
    if (!mayHoldFuzzy(cell.normalized, wanted)) continue; // spares tokenizing a cell that cannot match
    const { tokens } = cell;
    const from = index === source ? countBelow(tokens.starts, cell.normalizedOffset(offset)) : 0;
    const range = findFuzzy(wanted, tokens, from);
    if (!range) continue;
    const [start, end] = cell.writtenRange(tokens.starts[range.first]!, tokens.ends[range.last]!);
    return { source: index, start, end, match: "fuzzy" };
  }
  return undefined;
}
