/** The words of a folded text as fuzzy matching compares them, read in one pass over the text; where words start and end. */

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const ALONE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
/** Scripts written without spaces between words: a match there may start or end inside a run of letters. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

/** How a character counts: `WORD` part of a word, `ALONE` a word by itself (a CJK character), `OTHER` between words. */
const OTHER = 0;
const WORD = 1;
const ALONE_WORD = 2;

/**
 * The word tokens of a folded text (runs of letters, digits and marks; each CJK character alone),
 * each lower case with a plural `s` dropped (langextract's light stemming), with their offsets.
 * Kept as three parallel arrays, not an object per token: a cell is tokenized once per row, and
 * only when a value may match it fuzzily.
 *
 * @example new WordTokens("two mugs, one mug").words // ["two", "mug", "one", "mug"]
 */
export class WordTokens {
  /** The words, in order. */
  readonly words: string[] = [];
  /** UTF-16 offsets of each token in the folded text, `end` excluded. */
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  constructor(folded: string) {
    let start = -1;
    for (let i = 0; i < folded.length; ) {
      const code = folded.charCodeAt(i);
      let kind: number;
      let width = 1;
      // ASCII inline: the kind of nearly every unit without a regex test or a one-character string.
      if (code < 0x80) kind = isAsciiWordChar(code) ? WORD : OTHER;
      else {
        const point = folded.codePointAt(i)!;
        if (point > 0xffff) width = 2;
        kind = charKind(point);
      }
      if (kind === WORD) {
        if (start < 0) start = i;
      } else {
        if (start >= 0) this.#add(stem(folded.slice(start, i)), start, i);
        start = -1;
        if (kind === ALONE_WORD) this.#add(folded.slice(i, i + width), i, i + width);
      }
      i += width;
    }
    if (start >= 0) this.#add(stem(folded.slice(start)), start, folded.length);
  }

  #add(word: string, start: number, end: number): void {
    this.words.push(word);
    this.starts.push(start);
    this.ends.push(end);
  }
}

function isAsciiWordChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);
}

function charKind(code: number): number {
  const char = String.fromCodePoint(code);
  if (ALONE.test(char)) return ALONE_WORD;
  return WORD_CHAR.test(char) ? WORD : OTHER;
}

function stem(word: string): string {
  return word.length > 3 && word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word;
}

/** True for a letter, digit or mark of a script written with spaces between words. */
export function isSpacedWordChar(char: string): boolean {
  const code = char.charCodeAt(0);
  if (code < 0x80) return isAsciiWordChar(code);
  return WORD_CHAR.test(char) && !UNSPACED.test(char);
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

/** True when `text` starts, at `index`, with a character that joins a word to what is before it (written numbers glued to words: `A-12`). */
export function isWordCharAt(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code < 0x80) return isAsciiWordChar(code);
  return charKind(text.codePointAt(index)!) !== OTHER;
}

/** How many entries of the sorted `list` are below `value`. */
export function countBelow(list: readonly number[], value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
