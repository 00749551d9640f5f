/**
 * One input cell as grounding reads it: the text as written, and, built only when a search
 * needs them, its folded form (with the way back to the written offsets) and its word tokens.
 * Each is built at most once per row and shared by all the row's values, and each is linear in the cell's length, so a 2 MB cell costs a few passes, never a
 * pass per value.
 */
import { foldedOffsets, foldText, type OffsetMap } from "./fold-text.js";
import { countBelow, isSpacedWordChar, WordTokens } from "./word-tokens.js";

/** One cell of the row the model saw. */
export class SourceText {
  #normalized?: string;
  /** Null when the folded text has the written one's offsets (nearly every cell of prose): nothing to map. */
  #offsets?: OffsetMap | null;
  #tokens?: WordTokens;
  #surrogatePairs?: number[];

  constructor(
    /** The column (record key) the text is in. */
    readonly column: string,
    /** The text as written. */
    readonly text: string,
  ) {}

  /** The text in NFC, lower case, whitespace collapsed (as `foldText` folds it). */
  get normalized(): string {
    return (this.#normalized ??= foldText(this.text));
  }

  /** The word tokens of the normalized text. */
  get tokens(): WordTokens {
    return (this.#tokens ??= new WordTokens(this.normalized));
  }

  /** A UTF-16 offset of the written text as a code point offset (what Python's `str` indexes count). */
  codePointOffset(utf16Offset: number): number {
    this.#surrogatePairs ??= surrogatePairStarts(this.text);
    return utf16Offset - countBelow(this.#surrogatePairs, utf16Offset);
  }

  /** The first unit of the normalized text that comes from at or after `offset` of the written text. */
  normalizedOffset(offset: number): number {
    if (offset === 0) return 0;
    const offsets = this.#offsetMap;
    return offsets ? offsets.foldedOf(offset) : offset;
  }

  /** The written range that the normalized range `[start, end)` comes from. */
  writtenRange(start: number, end: number): [number, number] {
    const offsets = this.#offsetMap;
    if (!offsets) return [start, end];
    // A unit that lower-casing expanded (`İ` -> `i̇`) shares its origin with the next: end after the whole character.
    const last = offsets.writtenOf(end - 1);
    let next = end;
    while (next < this.normalized.length && offsets.writtenOf(next) === last) next++;
    return [offsets.writtenOf(start), offsets.writtenOf(next)];
  }

  /** Built on the first normalized or fuzzy match (or cursor inside the cell): most cells never need it. */
  get #offsetMap(): OffsetMap | null {
    if (this.#offsets === undefined) this.#offsets = foldedOffsets(this.text);
    return this.#offsets;
  }
}

/** True when offset `index` of `text` falls inside a word of a script written with spaces. */
export function splitsWord(text: string, index: number): boolean {
  return index > 0 && index < text.length && isSpacedWordChar(text[index - 1]!) && isSpacedWordChar(text[index]!);
}

/** The first occurrence of `needle` in `haystack` from `from` that neither starts nor ends inside a word. */
export function findWhole(haystack: string, needle: string, from: number): number {
  let at = haystack.indexOf(needle, from);
  while (at >= 0 && (splitsWord(haystack, at) || splitsWord(haystack, at + needle.length))) at = haystack.indexOf(needle, at + 1);
  return at;
}

/** UTF-16 offsets of the second unit of each surrogate pair: each is one code point fewer before it. */
function surrogatePairStarts(text: string): number[] {
  const seconds: number[] = [];
  if (!/[\ud800-\udbff]/.test(text)) return seconds;
  for (let i = 0; i < text.length - 1; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) seconds.push(++i);
  }
  return seconds;
}
