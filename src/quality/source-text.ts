/**
 * One input cell as grounding reads it: the text as written, and, built only when a search
 * needs them, its normalized form (with the way back to the written offsets), its word tokens
 * and the numbers written in it. Everything here is linear in the cell's length, so a 2 MB cell
 * costs a few passes, never a pass per value.
 */

/** The normalized form of a text and, for each of its UTF-16 units, where it came from. */
export interface NormalizedText {
  /** NFC, lower case, every run of whitespace one space. */
  text: string;
  /** `origin[i]`: the UTF-16 offset in the written text that unit `i` comes from; `origin[text.length]` is the written length. */
  origin: Int32Array;
}

/** A word of a normalized text, as fuzzy matching compares them. */
export interface Token {
  /** The word, lower case, a plural `s` dropped (langextract's light stemming). */
  word: string;
  /** UTF-16 offsets in the normalized text. */
  start: number;
  end: number;
}

/** A number as written in a cell (`1,234.50`, `$89.99`, `1.234,56`), and what it may mean. */
export interface WrittenNumber {
  /** UTF-16 offsets in the written text: the sign and a currency symbol before it included. */
  start: number;
  end: number;
  /** The value read with `.` as the decimal point, and with `,` (only the readings the grouping allows). */
  values: number[];
  /** The digits with their separators as written, without sign or currency symbol. */
  digits: string;
}

/** Scripts written without spaces between words: a match there may start or end inside a run of letters. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const TOKEN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])[\p{L}\p{N}\p{M}])+/gu;
/** A number not glued to a word: optional sign, optional currency symbol, digit groups. */
const NUMBER = /(?<![\p{L}\p{N}])([-\u2212]?)(\p{Sc}?)(\d+(?:[.,'\u2019\u00a0\u202f]\d+)*)(?!\p{N})/gu;
/** Groupings where `.` is the decimal point: `1,234.50`, `1'250.50`, Indian `1,23,456`. */
const POINT_DECIMAL = /^\d{1,3}(?:[,'\u2019\u00a0\u202f]\d{2,3})+(?:\.\d+)?$|^\d+(?:\.\d+)?$/;
/** Groupings where `,` is the decimal point: `1.234,56`, `12,5`. */
const COMMA_DECIMAL = /^\d{1,3}(?:[.'\u2019\u00a0\u202f]\d{3})+(?:,\d+)?$|^\d+,\d+$/;

/** One cell of the row the model saw. */
export class SourceText {
  #normalized?: NormalizedText;
  #tokens?: Token[];
  #numbers?: WrittenNumber[];
  #surrogatePairs?: number[];

  constructor(
    /** The column (record key) the text is in. */
    readonly column: string,
    /** The text as written. */
    readonly text: string,
  ) {}

  get normalized(): NormalizedText {
    return (this.#normalized ??= normalizeText(this.text));
  }

  get tokens(): readonly Token[] {
    return (this.#tokens ??= tokenize(this.normalized.text));
  }

  get numbers(): readonly WrittenNumber[] {
    return (this.#numbers ??= writtenNumbers(this.text));
  }

  /** A UTF-16 offset of the written text as a code point offset (what Python's `str` indexes count). */
  codePointOffset(utf16Offset: number): number {
    this.#surrogatePairs ??= surrogatePairStarts(this.text);
    return utf16Offset - countBelow(this.#surrogatePairs, utf16Offset);
  }

  /** The first unit of the normalized text that comes from at or after `offset` of the written text. */
  normalizedOffset(offset: number): number {
    const { origin } = this.normalized;
    let low = 0;
    let high = origin.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (origin[middle]! < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The written range that the normalized range `[start, end)` comes from. */
  writtenRange(start: number, end: number): [number, number] {
    const { origin } = this.normalized;
    // A unit that lower-casing expanded (`İ` -> `i̇`) shares its origin with the next: end after the whole character.
    let next = end;
    while (next < origin.length - 1 && origin[next] === origin[end - 1]) next++;
    return [origin[start]!, origin[next]!];
  }
}

/**
 * `text` in NFC, lower case, with every run of whitespace as one space, and the origin of each
 * unit. Characters are normalized one at a time with their combining marks, so each unit knows
 * where it came from; text that NFC and lower-casing leave the same length takes a faster path.
 */
export function normalizeText(text: string): NormalizedText {
  const lower = text.toLowerCase();
  if (lower.length === text.length && text.normalize("NFC") === text) {
    const origin = new Int32Array(text.length + 1);
    // Pieces are collected and joined once: reading back a string built by `+=` flattens it each time.
    const pieces: string[] = [];
    let start = 0;
    let length = 0;
    const take = (end: number) => {
      for (let i = start; i < end; i++) origin[length++] = i;
      pieces.push(lower.slice(start, end));
    };
    for (let i = 0; i < text.length; i++) {
      if (!isSpace(text.charCodeAt(i))) continue;
      take(i);
      origin[length++] = i;
      pieces.push(" ");
      while (i + 1 < text.length && isSpace(text.charCodeAt(i + 1))) i++;
      start = i + 1;
    }
    take(text.length);
    origin[length] = text.length;
    return { text: pieces.join(""), origin: origin.subarray(0, length + 1) };
  }
  const origin: number[] = [];
  const pieces: string[] = [];
  let afterSpace = false;
  for (const { 0: cluster, index } of text.matchAll(/\P{M}\p{M}*|\p{M}+/gu)) {
    const space = cluster.length === 1 && isSpace(cluster.charCodeAt(0));
    if (space && afterSpace) continue;
    afterSpace = space;
    const piece = space ? " " : cluster.normalize("NFC").toLowerCase();
    for (let i = 0; i < piece.length; i++) origin.push(index);
    pieces.push(piece);
  }
  origin.push(text.length);
  return { text: pieces.join(""), origin: Int32Array.from(origin) };
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

/** The word tokens of a normalized text: runs of letters, digits and marks, each CJK character alone. */
export function tokenize(normalized: string): Token[] {
  const tokens: Token[] = [];
  for (const { 0: word, index } of normalized.matchAll(TOKEN)) tokens.push({ word: stem(word), start: index, end: index + word.length });
  return tokens;
}

function stem(word: string): string {
  return word.length > 3 && word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word;
}

function writtenNumbers(text: string): WrittenNumber[] {
  const numbers: WrittenNumber[] = [];
  for (const match of text.matchAll(NUMBER)) {
    const [whole, sign, , digits] = match as unknown as [string, string, string, string];
    const negative = sign === "" ? 1 : -1;
    const values: number[] = [];
    if (POINT_DECIMAL.test(digits)) values.push(negative * Number(digits.replace(/[^\d.]/g, "")));
    if (COMMA_DECIMAL.test(digits)) values.push(negative * Number(digits.replace(/[^\d,]/g, "").replace(",", ".")));
    if (values.length) numbers.push({ start: match.index, end: match.index + whole.length, values, digits });
  }
  return numbers;
}

function isSpacedWordChar(char: string): boolean {
  const code = char.charCodeAt(0);
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);
  return WORD_CHAR.test(char) && !UNSPACED.test(char);
}

function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
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

/** How many entries of the sorted `list` are below `value`. */
function countBelow(list: readonly number[], value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
