/**
 * One input cell as grounding reads it: the text as written, and, built only when a search
 * needs them, its normalized form (with the way back to the written offsets), its word tokens
 * and the numbers written in it. Everything here is linear in the cell's length, so a 2 MB cell
 * costs a few passes, never a pass per value.
 */

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
const ALONE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
/** Groupings where `.` is the decimal point: `1,234.50`, `1'250.50`, Indian `1,23,456`. */
const POINT_DECIMAL = /^\d{1,3}(?:[,'\u2019\u00a0\u202f]\d{2,3})+(?:\.\d+)?$|^\d+(?:\.\d+)?$/;
function isCurrency(code: number): boolean {
  return code === 0x24 || (code >= 0xa2 && code <= 0xa5) || (code >= 0x20a0 && code <= 0x20c0);
}
const SIGNS = new Set([0x2d, 0x2212]);
const GROUP_SEPARATORS = new Set(Array.from(".,'\u2019\u00a0\u202f", (char) => char.charCodeAt(0)));

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** The offset of the first ASCII digit at or after `from`, or -1. */
function nextDigit(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (isDigit(text.charCodeAt(i))) return i;
  return -1;
}
/** Groupings where `,` is the decimal point: `1.234,56`, `12,5`. */
const COMMA_DECIMAL = /^\d{1,3}(?:[.'\u2019\u00a0\u202f]\d{3})+(?:,\d+)?$|^\d+,\d+$/;

/** One cell of the row the model saw. */
export class SourceText {
  #normalized?: string;
  /** Null when the normalized text has the written one's offsets (no re-cased length, no whitespace run collapsed): nothing to map. */
  #origin?: Int32Array | null;
  #tokens?: Token[];
  #numbers?: WrittenNumber[];
  #surrogatePairs?: number[];

  constructor(
    /** The column (record key) the text is in. */
    readonly column: string,
    /** The text as written. */
    readonly text: string,
  ) {}

  /** The text in NFC, lower case, whitespace collapsed (see {@link foldText}). */
  get normalized(): string {
    if (this.#normalized === undefined) {
      const { text } = this;
      const lower = text.toLowerCase();
      // isSimple(), with the lower-cased text kept for the fold.
      if (ASCII.test(text) || (lower.length === text.length && text.normalize("NFC") === text)) {
        this.#normalized = LONE_SPACES.test(text) ? lower : lower.replace(WHITESPACE_RUN, " ");
        if (this.#normalized.length === text.length) this.#origin = null;
      } else {
        // The fold and its offset map come from one pass here: keep both.
        ({ text: this.#normalized, origin: this.#origin } = normalizeClusters(text));
      }
    }
    return this.#normalized;
  }

  /** The word tokens of the normalized text. */
  get tokens(): readonly Token[] {
    return (this.#tokens ??= tokenize(this.normalized));
  }

  /** Where each unit of the normalized text comes from (see {@link normalizedOrigin}); built on the first match. */
  get #originOf(): Int32Array | null {
    if (this.#origin === undefined) this.normalized;
    // Still unset: a simple text whose whitespace runs moved offsets.
    if (this.#origin === undefined) this.#origin = simpleOrigin(this.text);
    return this.#origin;
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
    if (offset === 0) return 0;
    const origin = this.#originOf;
    if (origin === null) return offset;
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
    const origin = this.#originOf;
    if (origin === null) return [start, end];
    // A unit that lower-casing expanded (`İ` -> `i̇`) shares its origin with the next: end after the whole character.
    let next = end;
    while (next < origin.length - 1 && origin[next] === origin[end - 1]) next++;
    return [origin[start]!, origin[next]!];
  }
}

/**
 * `text` in NFC, lower case, with every run of whitespace as one space. Characters are
 * normalized one at a time with their combining marks, so that {@link normalizedOrigin} can say
 * where each unit came from; text that NFC and lower-casing leave the same length (nearly all
 * text) takes a native fast path.
 */
export function foldText(text: string): string {
  return isSimple(text) ? foldSimple(text) : normalizeClusters(text).text;
}

/** {@link foldText} of a text that {@link isSimple} accepts. */
function foldSimple(text: string): string {
  const lower = text.toLowerCase();
  return LONE_SPACES.test(text) ? lower : lower.replace(WHITESPACE_RUN, " ");
}

/** For each UTF-16 unit of `normalizeText(text)`, the offset in `text` it comes from; one more entry, `text.length`, at the end. */
export function normalizedOrigin(text: string): Int32Array {
  return isSimple(text) ? simpleOrigin(text) : normalizeClusters(text).origin;
}

/** {@link normalizedOrigin} of a text that {@link isSimple} accepts: only whitespace runs move offsets. */
function simpleOrigin(text: string): Int32Array {
  const origin = new Int32Array(text.length + 1);
  let length = 0;
  let afterSpace = false;
  // A loop, not `matchAll(/\s+/g)`: the same runs, without a match object per run.
  for (let i = 0; i < text.length; i++) {
    const space = isWhitespace(text.charCodeAt(i));
    if (!(space && afterSpace)) origin[length++] = i;
    afterSpace = space;
  }
  origin[length] = text.length;
  return origin.subarray(0, length + 1);
}

const WHITESPACE_RUN = /\s+/g;
/** Text whose only whitespace is single spaces, which {@link WHITESPACE_RUN} would replace by themselves. */
const LONE_SPACES = /^(?:[^\s]| (?! ))*$/;
const ASCII = /^[\0-\x7f]*$/;

/** The units `\s` matches (ECMAScript WhiteSpace and LineTerminator): all in the basic plane. */
function isWhitespace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return (
    code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

/** True when NFC and lower-casing keep every unit in place, so only whitespace moves offsets. */
function isSimple(text: string): boolean {
  return ASCII.test(text) || (text.toLowerCase().length === text.length && text.normalize("NFC") === text);
}

function normalizeClusters(text: string): { text: string; origin: Int32Array } {
  const origin: number[] = [];
  const pieces: string[] = [];
  let afterSpace = false;
  for (const { 0: cluster, index } of text.matchAll(/\P{M}\p{M}*|\p{M}+/gu)) {
    const space = /^\s$/.test(cluster);
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
  let start = -1;
  const close = (end: number): void => {
    if (start >= 0) tokens.push({ word: stem(normalized.slice(start, end)), start, end });
    start = -1;
  };
  for (let i = 0; i < normalized.length; ) {
    const code = normalized.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    const kind = charKind(code);
    if (kind === "word") {
      if (start < 0) start = i;
    } else {
      close(i);
      if (kind === "alone") tokens.push({ word: normalized.slice(i, i + width), start: i, end: i + width });
    }
    i += width;
  }
  close(normalized.length);
  return tokens;
}

/** `alone`: a CJK character, a word by itself; `word`: part of a word; `other`: between words. */
function charKind(code: number): "alone" | "word" | "other" {
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) ? "word" : "other";
  const char = String.fromCodePoint(code);
  if (ALONE.test(char)) return "alone";
  return WORD_CHAR.test(char) ? "word" : "other";
}

function stem(word: string): string {
  return word.length > 3 && word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word;
}

function writtenNumbers(text: string): WrittenNumber[] {
  const numbers: WrittenNumber[] = [];
  for (let from = 0, first = nextDigit(text, 0); first >= 0; first = nextDigit(text, from)) {
    // Optional sign, optional currency symbol, digit groups (`/([-−]?)([$¢-¥₠-⃀]?)(\d+(?:[.,'’\u00a0\u202f]\d+)*)/g`),
    // scanned by hand, without a match object per number: the groups from the first digit, then the
    // symbol and sign before it, back no further than the previous number's end.
    let end = first;
    let grouped = false;
    for (;;) {
      while (end < text.length && isDigit(text.charCodeAt(end))) end++;
      if (!(end + 1 < text.length && GROUP_SEPARATORS.has(text.charCodeAt(end)) && isDigit(text.charCodeAt(end + 1)))) break;
      grouped = true;
      end++;
    }
    let start = first;
    if (start > from && isCurrency(text.charCodeAt(start - 1))) start--;
    if (start > from && SIGNS.has(text.charCodeAt(start - 1))) start--;
    from = end;
    const digits = text.slice(first, end);
    let negative = SIGNS.has(text.charCodeAt(start));
    // Glued to a word (`A-12`, `US$5`, `x12`): the digits alone, if nothing but the sign or symbol joins them to it.
    if (start > 0 && charKind(text.codePointAt(start - 1)!) !== "other") {
      if (start === first) continue;
      start = end - digits.length;
      negative = false;
    }
    const factor = negative ? -1 : 1;
    const values: number[] = [];
    // Digits alone (most numbers) read the same either way: `.` grouping needs a separator, `,` decimals a comma.
    if (!grouped) values.push(factor * Number(digits));
    else {
      if (POINT_DECIMAL.test(digits)) values.push(factor * Number(digits.replace(/[^\d.]/g, "")));
      if (COMMA_DECIMAL.test(digits)) values.push(factor * Number(digits.replace(/[^\d,]/g, "").replace(",", ".")));
    }
    if (values.length) numbers.push({ start, end, values, digits });
  }
  return numbers;
}

function isSpacedWordChar(char: string): boolean {
  const code = char.charCodeAt(0);
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);
  return WORD_CHAR.test(char) && !UNSPACED.test(char);
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
