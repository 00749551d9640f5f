import { foldText } from "./source-text.js";

/** Punctuation (and space) at either end of a value, which says nothing about the value. */
const EDGE_PUNCTUATION = /^[\s\p{P}]+|[\s\p{P}]+$/gu;

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
  return foldText(text).replace(EDGE_PUNCTUATION, "");
}
