import { countBelow, type WordIndex } from "./word-index.js";

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
 * The best run of the text's tokens (from token index `from`) holding the words of `wanted`: at
 * least {@link FUZZY_COVERAGE} of them (each counted as often as `wanted` has it), with at least
 * {@link FUZZY_DENSITY} of the run being such words. Best means most of the value's words, then
 * the shortest run, then the first.
 *
 * The index says at once whether the text holds enough of the words at all (most texts do not:
 * a few lookups and done). Otherwise one pass with a sliding window over the occurrences of the
 * wanted words only (the words between them cannot start or end a best run), whose left edge
 * only moves right: linear in those occurrences whatever the text holds (plus sorting them),
 * where langextract's window search is quadratic in the text's tokens.
 *
 * @example
 * findFuzzy(new WordIndex("refund duplicate charge"), new WordIndex("please refund the duplicate charge"), 0); // { first: 1, last: 4 }
 */
export function findFuzzy(wanted: WordIndex, text: WordIndex, from: number): TokenRange | undefined {
  const total = wanted.words.length;
  if (total === 0) return undefined;
  const required = Math.ceil(total * FUZZY_COVERAGE);
  const widest = Math.floor(total / FUZZY_DENSITY);

  // Per distinct wanted word (numbered by `id`): how many times it is wanted, and its occurrences from `from` on.
  const need: number[] = [];
  const occurrences: (readonly number[])[] = [];
  const firsts: number[] = [];
  let possible = 0;
  let count = 0;
  for (const [word, times] of wanted.entries()) {
    const positions = text.positions(word);
    const first = countBelow(positions, from);
    if (first === positions.length) continue;
    need.push(times.length);
    occurrences.push(positions);
    firsts.push(first);
    possible += Math.min(times.length, positions.length - first);
    count += positions.length - first;
  }
  if (possible < required) return undefined;

  // The occurrences in text order, each as `position * words + id` (exact in a double), sorted by a typed array.
  const words = need.length;
  const events = new Float64Array(count);
  let filled = 0;
  for (let id = 0; id < words; id++) {
    const positions = occurrences[id]!;
    for (let index = firsts[id]!; index < positions.length; index++) events[filled++] = positions[index]! * words + id;
  }
  events.sort();
  const positionOf = (event: number): number => Math.floor(events[event]! / words);
  const idOf = (event: number): number => events[event]! - positionOf(event) * words;

  const have = new Array<number>(words).fill(0);
  let matched = 0;
  let left = 0;
  let best: (TokenRange & { matched: number }) | undefined;
  const drop = (event: number): void => {
    const id = idOf(event);
    if (have[id]!-- <= need[id]!) matched--;
  };
  for (let right = 0; right < count; right++) {
    const id = idOf(right);
    const last = positionOf(right);
    if (++have[id]! <= need[id]!) matched++;
    while (last - positionOf(left) + 1 > widest) drop(left++);
    // A word that adds nothing at the left edge (wanted fewer times than the window has it) only thins the run.
    while (left < right && have[idOf(left)]! > need[idOf(left)]!) drop(left++);

    const first = positionOf(left);
    const length = last - first + 1;
    if (matched < required || matched < length * FUZZY_DENSITY) continue;
    if (!best || matched > best.matched || (matched === best.matched && length < best.last - best.first + 1)) {
      best = { first, last, matched };
      if (matched === total && length === total) break; // cannot be beaten
    }
  }
  return best && { first: best.first, last: best.last };
}

/**
 * False when `text` (normalized) cannot hold a fuzzy match of `wanted`: too few of its words
 * occur in it even as parts of longer words. A token equal to a wanted word (or stemmed to it)
 * contains it, so this never rejects a text {@link findFuzzy} would match, and costs a few
 * native substring searches instead of tokenizing the text: most cells fail it, and then are
 * never tokenized.
 */
export function mayHoldFuzzy(text: string, wanted: readonly string[]): boolean {
  const required = Math.ceil(wanted.length * FUZZY_COVERAGE);
  let present = 0;
  for (let index = 0; index < wanted.length; index++) {
    if (text.includes(wanted[index]!)) {
      if (++present >= required) return true;
    } else if (present + wanted.length - index - 1 < required) return false; // the words left cannot make up the count
  }
  return wanted.length > 0 && present >= required;
}
