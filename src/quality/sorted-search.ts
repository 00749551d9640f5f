/**
 * The index of the last of `sorted` (ascending) that is at most `value`, by binary search; 0 when
 * none is (callers' arrays start at 0, so the first element always qualifies). Used to find the
 * segment or cell an offset falls in.
 */
export function lastAtOrBelow(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (sorted[middle]! <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}
