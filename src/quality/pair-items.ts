import { munkres } from "munkres";

/**
 * Pairs gold items with extracted items so that the total similarity is as high as it can be
 * (the Hungarian algorithm, from the `munkres` package), whatever order either side lists them
 * in. Pairs whose similarity is 0 are dropped: those items have nothing in common, so each counts
 * as missed (gold) and as invented (extracted) rather than as one wrong item.
 *
 * @param similarity From 0 (nothing in common) to 1 (the same item).
 * @returns `[goldIndex, actualIndex]` pairs, by gold index.
 * @example pairItems(["a", "b"], ["b", "x"], (g, a) => (g === a ? 1 : 0)) // [[1, 0]]
 */
export function pairItems<T>(gold: readonly T[], actual: readonly T[], similarity: (gold: T, actual: T) => number): Array<[number, number]> {
  if (gold.length === 0 || actual.length === 0) return [];
  const scores = gold.map((g) => actual.map((a) => similarity(g, a)));
  return munkres(scores.map((row) => row.map((score) => 1 - score)))
    .filter(([g, a]) => scores[g]![a]! > 0)
    .sort(([a], [b]) => a - b);
}
