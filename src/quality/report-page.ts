import { formatNumber } from "../io/number-text.js";
import { formatUsd } from "../models/pricing.js";
import type { ReportSummary } from "./report-data.js";
import { REPORT_SCRIPT } from "./report-script.js";
import { REPORT_STYLE } from "./report-style.js";

/** What only the run knew: the output file does not carry it. */
export interface RunFacts {
  elapsedMs?: number;
  modelCalls?: number;
  rowsReused?: number;
  /** HTTP requests sent, retries included, and how many were answered 429. */
  transport?: { requests: number; rateLimited: number };
}

/** Everything the page shows besides the embedded rows. */
export interface ReportPage {
  /** The output file the report is about. */
  source: string;
  summary: ReportSummary;
  /** The model the tokens are priced for, with the estimated cost when its price is known. */
  model?: string;
  cost?: number;
  run?: RunFacts;
  /** With a gold file: each field's right values of those compared, by field name. */
  accuracy?: ReadonlyMap<string, { correct: number; n: number }>;
  /** The JSON of each embedded row, as `collectReportData` made them. */
  rows: readonly string[];
}


/** One colour per field, far apart on the colour wheel (the golden angle), light enough to read text on. */
export function fieldColors(count: number): string[] {
  return Array.from({ length: Math.max(count, 1) }, (_, i) => `hsl(${Math.round((i * 137.508) % 360)} 85% 80%)`);
}

/** `text` safe inside HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * The report as one self-contained HTML document: inline style and script, no request to
 * anywhere, so it opens from disk. The summary is static HTML; the row browser is built by the
 * page's script from the embedded JSON, in which every `<` is escaped so that no value can end
 * the script element.
 */
export function renderReportPage(page: ReportPage): string {
  const { summary } = page;
  const colors = fieldColors(summary.fields.length);
  const json = `{"fields":${JSON.stringify(summary.fields.map(({ name, path }) => ({ name, path })))},"colors":${JSON.stringify(colors)},"rows":[${page.rows.join(",")}]}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llm-extract report: ${escapeHtml(page.source)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header><h1>llm-extract run report</h1><p class="source">${escapeHtml(page.source)}</p></header>
<section id="summary"><h2>Summary</h2>${tiles(page)}</section>
<section id="fields"><h2>Fields</h2>${fieldRows(summary, colors, page.accuracy)}</section>
<section id="failures"><h2>Failures by error code</h2>${failureGroups(summary)}</section>
<section id="rows"><h2>Rows</h2>${capNote(summary)}
<div class="filters"><label>Show <select id="filter-status"><option value="all">all rows</option><option value="failed">failed rows</option><option value="ungrounded">rows with ungrounded values</option></select></label>
<label>Field <select id="filter-field"><option value="">any</option></select></label>
<span class="pager"><button id="pager-prev" type="button">‹ previous</button> <span id="pager-text"></span> <button id="pager-next" type="button">next ›</button></span></div>
<div class="browser"><table class="row-list"><thead><tr><th>row</th><th>status</th><th>ungrounded</th><th>source</th></tr></thead><tbody id="row-list"></tbody></table>
<div id="row-detail"><p class="hint">Click a row to see its source text, with each value found there highlighted in its field's colour (hover for the field and the value).</p></div></div>
</section>
<script type="application/json" id="report-data">${json.replace(/</g, "\\u003c")}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

function tile(id: string, label: string, value: string, note = ""): string {
  return `<div class="tile" id="tile-${id}"><div class="label">${label}</div><div class="value">${escapeHtml(value)}</div>${note && `<div class="note">${escapeHtml(note)}</div>`}</div>`;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${Math.round((part / whole) * 100)}%`;
}

function tiles({ summary, model, cost, run }: ReportPage): string {
  const { rows, ok, failed, attempts, repaired, coerced, usage } = summary;
  const html = [tile("rows", "rows", formatNumber(rows)), tile("ok", "ok", formatNumber(ok), percent(ok, rows)), tile("failed", "failed", formatNumber(failed), percent(failed, rows))];
  if (attempts.rows > 0) {
    const spread = Object.entries(attempts.histogram).map(([calls, count]) => `${calls}: ${formatNumber(count)}`).join(" · ");
    html.push(tile("attempts", "model calls per row", formatNumber(attempts.total / attempts.rows, 2), `rows by calls: ${spread}`));
  }
  html.push(tile("repairs", "local JSON repairs", repaired === undefined ? "not recorded" : formatNumber(repaired)));
  html.push(tile("coercions", "values coerced", coerced === undefined ? "not recorded" : formatNumber(coerced)));
  if (usage) html.push(tile("tokens", "tokens", formatNumber(usage.prompt_tokens + usage.completion_tokens), `${formatNumber(usage.prompt_tokens)} prompt + ${formatNumber(usage.completion_tokens)} completion`));
  if (cost !== undefined) html.push(tile("cost", "estimated cost", `~${formatUsd(cost)}`, model));
  if (run?.elapsedMs !== undefined) html.push(tile("time", "wall time", `${formatNumber(run.elapsedMs / 1000, 2)} s`));
  if (run?.transport) {
    html.push(tile("requests", "HTTP requests", formatNumber(run.transport.requests), run.modelCalls === undefined ? "" : `for ${formatNumber(run.modelCalls)} model calls`));
    html.push(tile("rate-limited", "answered 429", formatNumber(run.transport.rateLimited)));
  }
  if (run?.rowsReused) html.push(tile("reused", "reused rows", formatNumber(run.rowsReused), "from the journal, no call"));
  const missing = run ? "" : `<p class="note">Wall time, HTTP requests and 429s are known only to the run: add <code>--report</code> to the run to see them here.</p>`;
  return `<div class="tiles">${html.join("")}</div>${missing}`;
}

function bar(part: number, whole: number, kind: string): string {
  const width = whole === 0 ? 0 : (part / whole) * 100;
  return `<td class="bar-cell"><div class="bar ${kind}"><span style="width:${width.toFixed(1)}%"></span></div><span class="pct">${percent(part, whole)}</span> <span class="count">${formatNumber(part)}/${formatNumber(whole)}</span></td>`;
}

function fieldRows(summary: ReportSummary, colors: readonly string[], accuracy?: ReportPage["accuracy"]): string {
  const grounded = summary.grounding !== "none";
  const head =
    `<tr><th>field</th><th>filled (of ok rows)</th>${grounded ? "<th>ungrounded (of filled)</th>" : ""}` +
    `${accuracy ? "<th>right (against the gold file)</th>" : ""}</tr>`;
  const body = summary.fields.map((field, i) => {
    const name = `<td class="field"><span class="swatch" style="background:${colors[i % colors.length]}"></span>${escapeHtml(field.name)}</td>`;
    const score = accuracy?.get(field.name);
    const right = accuracy ? (score ? bar(score.correct, score.n, "accuracy") : `<td class="bar-cell">not in the gold file</td>`) : "";
    return `<tr>${name}${bar(field.filled, summary.ok, "fill")}${grounded ? bar(field.ungrounded, field.filled, "ungrounded") : ""}${right}</tr>`;
  });
  const note =
    summary.grounding === "none"
      ? `<p class="note">This output has no grounding: run with grounding on (the default) to see which values were found in the source.</p>`
      : summary.grounding === "fields"
        ? `<p class="note">A CSV output names the ungrounded fields but not where values were found: write JSONL to see the highlights.</p>`
        : "";
  return `<table class="fields">${head}${body.join("")}</table>${note}`;
}

function failureGroups(summary: ReportSummary): string {
  if (summary.failures.length === 0) return `<p class="note">No row failed.</p>`;
  return summary.failures
    .map((group) => {
      const examples = group.examples.map((example) => `<li><span class="num">row ${example.index}</span> ${escapeHtml(example.message)}</li>`).join("");
      return `<details class="failure" open><summary><code>${escapeHtml(group.code)}</code> · ${formatNumber(group.count)} ${group.count === 1 ? "row" : "rows"}</summary><ul>${examples}</ul></details>`;
    })
    .join("");
}

function capNote(summary: ReportSummary): string {
  if (summary.embedded === summary.rows) return "";
  return `<p class="note cap" id="cap-note">This page holds the first ${formatNumber(summary.embedded)} of ${formatNumber(summary.rows)} rows, so that it opens fast (at most the row limit, <code>maxRows</code>, 5,000 by default, and 32 MB of row text); the summary above counts all of them.</p>`;
}
