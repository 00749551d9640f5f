import { lastAtOrBelow } from "./sorted-search.js";

/**
 * Text folded for comparison (NFC, lower case, whitespace runs as one space), with the way back
 * from an offset of the folded text to the written one.
 */

/**
 * Where each unit of a folded text comes from in the written text, kept as the points where that
 * shift changes rather than one entry per unit: folding moves offsets only at a collapsed
 * whitespace run, a composed accent or an expanding lower-casing, so a cell of prose has a handful
 * of segments, and building the map costs nothing per character.
 */
export class OffsetMap {
  /** The folded offset where each segment starts (ascending; the first is 0). */
  readonly #starts: number[] = [0];
  /** For each segment, written offset minus folded offset, the same for all its units. */
  readonly #shifts: number[] = [0];

  /** Says that from folded offset `start` on, unit `n` comes from written offset `n + shift`. */
  add(start: number, shift: number): void {
    const last = this.#starts.length - 1;
    if (this.#shifts[last] === shift) return;
    if (this.#starts[last] === start) this.#shifts[last] = shift;
    else {
      this.#starts.push(start);
      this.#shifts.push(shift);
    }
  }

  /**
   * Continues the map with the map of a text folded apart (null: one that moved no offset), whose
   * fold starts at `foldedStart` of this map's folded text and whose written text at `writtenStart`.
   */
  append(next: OffsetMap | null, foldedStart: number, writtenStart: number): void {
    const base = writtenStart - foldedStart;
    if (!next) return this.add(foldedStart, base);
    for (let segment = 0; segment < next.#starts.length; segment++) this.add(foldedStart + next.#starts[segment]!, base + next.#shifts[segment]!);
  }

  /** The written offset that folded offset `offset` comes from (the folded length maps to the written length). */
  writtenOf(offset: number): number {
    return offset + this.#shifts[this.#segmentAt(offset)]!;
  }

  /** The first folded offset that comes from at or after written offset `offset`. */
  foldedOf(offset: number): number {
    const starts = this.#starts;
    const shifts = this.#shifts;
    // The last segment starting from below `offset`: the answer is in it or starts the next one.
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (starts[middle]! + shifts[middle]! < offset) low = middle;
      else high = middle - 1;
    }
    const folded = Math.max(offset - shifts[low]!, starts[low]!);
    return low + 1 < starts.length && folded > starts[low + 1]! ? starts[low + 1]! : folded;
  }

  /** The index of the segment holding folded offset `offset`. */
  #segmentAt(offset: number): number {
    return lastAtOrBelow(this.#starts, offset);
  }
}

/** A folded text, and where its units come from; `offsets` is null when folding moved no offset. */
export interface FoldedText {
  text: string;
  offsets: OffsetMap | null;
}

/**
 * `text` in NFC, lower case, with every run of whitespace as one space. Text that NFC and
 * lower-casing leave the same length (nearly all text) takes a native path: one lower-casing and
 * one replace of the whitespace that changes; the rest is normalized a character at a time with
 * its combining marks, so that {@link foldWithOffsets} can say where each unit came from.
 */
export function foldText(text: string): string {
  const lower = text.toLowerCase();
  return isSimple(text, lower) ? lower.replace(CHANGED_WHITESPACE, " ") : foldClusters(text).text;
}

/** `foldText(text)`, and where each of its units comes from in `text`. */
export function foldWithOffsets(text: string): FoldedText {
  const lower = text.toLowerCase();
  return isSimple(text, lower) ? collapseWhitespace(lower) : foldClusters(text);
}

/**
 * The fold of `texts` joined by `separator`, the same as each folded alone and joined, with its
 * offsets in the joined texts (`joined`). The separator must be one that folding keeps and that
 * ends any context (NUL: not whitespace, not a mark, not cased), so that when every text is
 * simple (see {@link isSimple}: then so is the whole, and conversely, since lower-casing never
 * shortens a text, and NUL composes with nothing) the whole is folded in one native pass, not one
 * per text: a row's cells are, once per row.
 */
export function foldJoined(texts: readonly string[], joined: string, separator: string): FoldedText {
  const lower = joined.toLowerCase();
  if (isSimple(joined, lower)) return collapseWhitespace(lower);
  // Text by text: a simple text is lower-cased as a whole (a final sigma stays final), the others a character at a time.
  const offsets = new OffsetMap();
  const pieces: string[] = [];
  let foldedStart = 0;
  let writtenStart = 0;
  for (const text of texts) {
    const folded = foldWithOffsets(text);
    offsets.append(folded.offsets, foldedStart, writtenStart);
    pieces.push(folded.text);
    foldedStart += folded.text.length + separator.length;
    writtenStart += text.length + separator.length;
  }
  return { text: pieces.join(separator), offsets };
}

/**
 * `text` lower-cased when that is all its fold does besides collapsing whitespace (see
 * {@link isSimple}): then the lower-cased text keeps every offset of `text`. Null otherwise.
 */
export function lowerIfSimple(text: string): string | null {
  const lower = text.toLowerCase();
  return isSimple(text, lower) ? lower : null;
}

const ASCII = /^[\0-\x7f]*$/;
/** The whitespace that folding changes: a run of two or more, or one that is not a plain space. */
const CHANGED_WHITESPACE = /\s{2,}|[^\S ]/g;

/** True when NFC and lower-casing keep every unit in place, so only whitespace moves offsets. */
function isSimple(text: string, lower: string): boolean {
  return ASCII.test(text) || (lower.length === text.length && text.normalize("NFC") === text);
}

/** A simple text's fold (its lower-cased form given), with a shift in its map after each whitespace run collapsed to one space. */
function collapseWhitespace(lower: string): FoldedText {
  let offsets: OffsetMap | null = null;
  let text = "";
  let copied = 0;
  let removed = 0;
  CHANGED_WHITESPACE.lastIndex = 0;
  // One pass builds both the text and its map.
  for (let match = CHANGED_WHITESPACE.exec(lower); match !== null; match = CHANGED_WHITESPACE.exec(lower)) {
    const run = match[0].length;
    text += `${lower.slice(copied, match.index)} `;
    copied = match.index + run;
    if (run === 1) continue; // one tab or newline for one space: no offset moves
    removed += run - 1;
    // The space stands for the whole run; the unit after it comes from after the run.
    (offsets ??= new OffsetMap()).add(copied - removed, removed);
  }
  return { text: copied === 0 ? lower : text + lower.slice(copied), offsets };
}

/** Folds a text character by character, with its combining marks: the rare text NFC or lower-casing changes in length. */
function foldClusters(text: string): { text: string; offsets: OffsetMap } {
  const offsets = new OffsetMap();
  const pieces: string[] = [];
  let length = 0;
  let afterSpace = false;
  for (const { 0: cluster, index } of text.matchAll(/\P{M}\p{M}*|\p{M}+/gu)) {
    const space = /^\s$/.test(cluster);
    if (space && afterSpace) continue;
    afterSpace = space;
    const piece = space ? " " : cluster.normalize("NFC").toLowerCase();
    // Every unit of the piece comes from the cluster's start: one segment per unit when it has several.
    for (let unit = 0; unit < piece.length; unit++) offsets.add(length + unit, index - length - unit);
    length += piece.length;
    pieces.push(piece);
  }
  offsets.add(length, text.length - length);
  return { text: pieces.join(""), offsets };
}
