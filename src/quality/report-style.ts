/** The report page's style sheet: system fonts only, so the page needs nothing but itself. */
export const REPORT_STYLE = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde1e8; --ok: #1f7a3f; --bad: #b3261e; --warn: #9a5b00; --fill: #3b6fd8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 16px 24px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 16px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 8px; }
h4 { font-size: 12px; margin: 12px 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.source { color: var(--muted); margin: 2px 0 0; }
.note { color: var(--muted); }
.cap { color: var(--warn); }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 120px; }
.tile .label { color: var(--muted); font-size: 12px; }
.tile .value { font-size: 20px; font-weight: 600; }
.tile .note { font-size: 12px; }
#tile-ok .value { color: var(--ok); }
#tile-failed .value { color: var(--bad); }
table { border-collapse: collapse; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; padding: 4px 8px; }
td { padding: 3px 8px; vertical-align: top; }
table.fields td.field { white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.bar-cell { white-space: nowrap; }
.bar { display: inline-block; width: 180px; height: 10px; background: #eef0f4; border-radius: 5px; overflow: hidden; vertical-align: middle; }
.bar span { display: block; height: 100%; }
.bar.fill span { background: var(--fill); }
.bar.ungrounded span { background: var(--warn); }
.bar.accuracy span { background: #3a8f5c; }
.pct { display: inline-block; width: 44px; text-align: right; margin-right: 4px; }
.count { color: var(--muted); font-size: 12px; }
.failure summary { cursor: pointer; }
.failure ul { margin: 4px 0 10px; }
.num { font-variant-numeric: tabular-nums; color: var(--muted); }
.filters { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; margin-bottom: 8px; }
.browser { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 16px; align-items: start; }
.row-list { width: 100%; }
.row-list tbody tr { cursor: pointer; border-top: 1px solid var(--line); }
.row-list tbody tr:hover { background: #f4f6fa; }
.row-list tbody tr.selected { background: #e6eefc; }
.row-list td.snippet { color: var(--muted); overflow-wrap: anywhere; }
td.ok { color: var(--ok); }
td.failed { color: var(--bad); font-size: 12px; }
.warn { color: var(--warn); }
.error { color: var(--bad); background: #fdf0ef; padding: 6px 8px; border-radius: 6px; }
#row-detail { border: 1px solid var(--line); border-radius: 8px; padding: 12px; position: sticky; top: 8px; max-height: 92vh; overflow: auto; }
pre.source { white-space: pre-wrap; overflow-wrap: anywhere; font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; padding: 8px; background: #fafbfc; border-radius: 6px; color: var(--ink); }
mark { border-radius: 3px; padding: 0 1px; color: inherit; cursor: help; }
mark.match-fuzzy { outline: 1px dashed #8a8f99; }
table.values { margin-top: 12px; width: 100%; }
table.values td.field { white-space: nowrap; }
table.values td.value { overflow-wrap: anywhere; }
table.values tr.ungrounded td.value { text-decoration: underline wavy var(--warn); }
.hint { color: var(--muted); }
@media (max-width: 900px) { .browser { grid-template-columns: 1fr; } }
`;
