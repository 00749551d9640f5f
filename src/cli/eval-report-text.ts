import type { EvalReport, FieldScore } from "../quality/evaluate.js";

/** Longest value shown in the worst rows before it is cut with "…". */
const VALUE_WIDTH = 60;
/** How many missing or extra row labels are listed before "and N more". */
const LABELS_SHOWN = 10;

/**
 * `extract eval`'s report for a person: the rows compared, a table of the fields (n, accuracy,
 * fill, precision, recall; "-" where a measure does not apply), the overall field accuracy and
 * rows exactly right, rows missing on either side, then the worst rows with the fields that differ.
 */
export function formatEvalReport(report: EvalReport, output: string, gold: string): string {
  const { rows } = report;
  const by = report.key === null ? "by position" : `by ${report.key}`;
  const lines = [`${output} against ${gold}: ${rows.matched} rows matched ${by}${rows.failed ? `, ${rows.failed} of them failed` : ""}.`, ""];
  lines.push(...fieldTable(report.fields), "");
  lines.push(`Field accuracy: ${percent(report.accuracy)} (${report.correct} of ${report.compared} values)`);
  lines.push(`Rows exactly right: ${rows.exactlyRight} of ${rows.matched} (${percent(report.exactlyRightRate)})`);
  if (rows.missingFromOutput.length) lines.push(`Missing from the output (${rows.missingFromOutput.length}): ${labels(rows.missingFromOutput)}`);
  if (rows.notInGold.length) lines.push(`Not in the gold file (${rows.notInGold.length}): ${labels(rows.notInGold)}`);
  if (rows.duplicateKeys.length) lines.push(`Keys on more than one row, first one used (${rows.duplicateKeys.length}): ${labels(rows.duplicateKeys)}`);
  if (report.worstRows.length) {
    lines.push("", "Worst rows:");
    for (const row of report.worstRows) {
      const count = row.differences.length;
      lines.push(`  ${row.row}: ${count} field${count === 1 ? "" : "s"} differ${count === 1 ? "s" : ""}${row.error ? ` (failed: ${cut(row.error)})` : ""}`);
      for (const { field, expected, actual } of row.differences) lines.push(`    ${field}: expected ${shown(expected)}, got ${shown(actual)}`);
    }
  }
  return lines.join("\n");
}

function fieldTable(scores: readonly FieldScore[]): string[] {
  const header = ["field", "n", "accuracy", "fill", "precision", "recall"];
  const body = scores.map((score) => [score.field, String(score.n), percent(score.accuracy), percent(score.fill), percent(score.precision), percent(score.recall)]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  // The field names read best left-aligned, the numbers right-aligned.
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), ...body.map(line)];
}

function percent(share: number | null): string {
  return share === null ? "-" : `${(share * 100).toFixed(1)}%`;
}

function labels(list: readonly string[]): string {
  const more = list.length - LABELS_SHOWN;
  return list.slice(0, LABELS_SHOWN).join(", ") + (more > 0 ? ` and ${more} more` : "");
}

function shown(value: unknown): string {
  return cut(value === undefined ? "null" : JSON.stringify(value));
}

function cut(text: string): string {
  return text.length <= VALUE_WIDTH ? text : `${text.slice(0, VALUE_WIDTH - 1)}…`;
}
