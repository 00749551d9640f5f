import type { WordTokens } from "./word-tokens.js";

/** Share of the value's words a fuzzy span must contain (langextract's default threshold). */
export const FUZZY_COVERAGE = 0.75;
/** Least share of a fuzzy span's words that are the value's (langextract's density rule): 1 in 3. */
export const FUZZY_DENSITY = 1 / 3;

/** A fuzzy span: token indexes, both included. */
export interface TokenRange {
  first: number;
  last: number;
}

/**
 * The best run of `tokens` (from index `from`) holding the words of `wanted`: at least
 * {@link FUZZY_COVERAGE} of them (each counted as often as `wanted` has it), with at least
 * {@link FUZZY_DENSITY} of the run being such words. Best means most of the value's words, then
 * the shortest run, then the first.
 *
 * One pass with a sliding window, whose left edge only moves right: linear in the number of
 * tokens whatever the text holds, where langextract's window search is quadratic.
 *
 * @example
 * findFuzzy(["refund", "duplicate", "charge"], new WordTokens("please refund the duplicate charge"), 0); // { first: 1, last: 4 }
 */
export function findFuzzy(wanted: readonly string[], tokens: WordTokens, from: number): TokenRange | undefined {
  if (wanted.length === 0) return undefined;
  const { words } = tokens;
  const need = new Map<string, number>();
  for (const word of wanted) need.set(word, (need.get(word) ?? 0) + 1);
  const required = Math.ceil(wanted.length * FUZZY_COVERAGE);
  const widest = Math.floor(wanted.length / FUZZY_DENSITY);
  const have = new Map<string, number>();
  let matched = 0;
  let left = from;
  let best: (TokenRange & { matched: number }) | undefined;

  const drop = (index: number): void => {
    const word = words[index]!;
    const count = have.get(word);
    if (count === undefined) return;
    have.set(word, count - 1);
    if (count <= need.get(word)!) matched--;
  };
  // A word that adds nothing at the left edge (not wanted, or wanted fewer times than the window has it) only thins the run.
  const addsNothing = (index: number): boolean => {
    const word = words[index]!;
    const wantedTimes = need.get(word);
    return wantedTimes === undefined || have.get(word)! > wantedTimes;
  };

  for (let right = from; right < words.length; right++) {
    const word = words[right]!;
    const wantedTimes = need.get(word);
    if (wantedTimes === undefined) continue;
    const count = (have.get(word) ?? 0) + 1;
    have.set(word, count);
    if (count <= wantedTimes) matched++;
    while (right - left + 1 > widest) drop(left++);
    while (left < right && addsNothing(left)) drop(left++);

    const length = right - left + 1;
    if (matched < required || matched < length * FUZZY_DENSITY) continue;
    if (!best || matched > best.matched || (matched === best.matched && length < best.last - best.first + 1)) {
      best = { first: left, last: right, matched };
      if (matched === wanted.length && length === wanted.length) break; // cannot be beaten
    }
  }
  return best && { first: best.first, last: best.last };
}

/**
 * False when `text` (normalized) cannot hold a fuzzy match of `wanted` from offset `from` on:
 * too few of its words occur there even as parts of longer words. A token equal to a wanted word
 * (or stemmed to it) contains it, so this never rejects a text {@link findFuzzy} would match, and
 * costs a few native substring searches instead of tokenizing the text: most cells fail it, and
 * then are never tokenized.
 */
export function mayHoldFuzzy(text: string, wanted: readonly string[], from = 0): boolean {
  const required = Math.ceil(wanted.length * FUZZY_COVERAGE);
  let present = 0;
  for (let index = 0; index < wanted.length; index++) {
    if (text.includes(wanted[index]!, from)) {
      if (++present >= required) return true;
    } else if (present + wanted.length - index - 1 < required) return false; // the words left cannot make up the count
  }
  return wanted.length > 0 && present >= required;
}
