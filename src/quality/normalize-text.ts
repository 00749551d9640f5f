import { foldText } from "./fold-text.js";

/** Punctuation (and space) at either end of a value, which says nothing about the value. */
const EDGE_PUNCTUATION = /^[\s\p{P}]+|[\s\p{P}]+$/gu;
/** 1 for the ASCII units {@link EDGE_PUNCTUATION} matches: whitespace and `\p{P}` (`$+<=>^|~` and the backtick are symbols, kept). */
const ASCII_EDGE = new Uint8Array(0x80);
for (const char of "\t\n\v\f\r !\"#%&'()*,-./:;?@[\\]_{}") ASCII_EDGE[char.charCodeAt(0)] = 1;

/**
 * Text as compared when "the same words" should count as the same value, by evaluation and by
 * grounding alike: Unicode NFC, case-folded (`toLowerCase`, which folds every cased script;
 * JavaScript has no full case folding), every run of whitespace one space ({@link foldText}),
 * punctuation at either end dropped (`"Acme Corp."` = `"acme corp"`). Punctuation inside is kept:
 * `A-20417` and `A20417` are different order numbers.
 *
 * @example normalizeText("  Nimbus\n Thermostat T3. ") // "nimbus thermostat t3"
 */
export function normalizeText(text: string): string {
  // ASCII (nearly every value) takes a loop instead of two regex replaces: grounding normalizes every value of every row.
  let collapse = false;
  let upper = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return foldText(text).replace(EDGE_PUNCTUATION, "");
    if (code <= 0x20) collapse ||= code !== 0x20 ? code >= 0x09 && code <= 0x0d : i > 0 && text.charCodeAt(i - 1) <= 0x20;
    else upper ||= code >= 0x41 && code <= 0x5a;
  }
  const folded = collapse ? foldText(text) : upper ? text.toLowerCase() : text;
  let start = 0;
  let end = folded.length;
  while (start < end && ASCII_EDGE[folded.charCodeAt(start)] === 1) start++;
  while (end > start && ASCII_EDGE[folded.charCodeAt(end - 1)] === 1) end--;
  return start === 0 && end === folded.length ? folded : folded.slice(start, end);
}
