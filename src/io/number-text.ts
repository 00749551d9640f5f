/**
 * A number as people read it in summaries and reports: `decimals` places, thousands grouped with
 * commas ("12,345", "1,234.50"). Grouped by hand: Intl.NumberFormat would do the same, but the
 * first one a process makes loads ICU's locale data (28 ms on the bench machine), which every run
 * that prints a summary paid at its end.
 */
export function formatNumber(n: number, decimals = 0): string {
  const fixed = Math.abs(n).toFixed(decimals);
  const point = fixed.indexOf(".");
  const whole = point < 0 ? fixed : fixed.slice(0, point);
  const sign = n < 0 && Number(fixed) !== 0 ? "-" : "";
  return `${sign}${whole.replace(/\B(?=(\d{3})+$)/g, ",")}${point < 0 ? "" : fixed.slice(point)}`;
}
