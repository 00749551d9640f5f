import type { Usage } from "../engine/types.js";
import type { LeafColumn } from "../schema/columns.js";
import { valueAt } from "../io/output/flatten.js";
import { isPlainObject } from "./eval-fields.js";
import type { OutputLine } from "./output-file.js";

/** One field of the report: a schema leaf (arrays and free-form objects are one field each). */
export interface ReportField {
  /** Dotted name, as in the CSV output's columns: `contact.email`. */
  name: string;
  path: string[];
  /** Successful rows with a value (not null, not "", not []). */
  filled: number;
  /** Rows with at least one value of the field found in the source. */
  grounded: number;
  /** Rows with at least one value of the field not found in the source. */
  ungrounded: number;
}

/** The failed rows of one error code, with the first few as examples. */
export interface FailureGroup {
  code: string;
  count: number;
  examples: { index: number; message: string }[];
}

/** What the report's summary shows, counted over every row of the output. */
export interface ReportSummary {
  rows: number;
  ok: number;
  failed: number;
  /** Model calls per row, over the rows whose output says (JSONL): `histogram[n]` rows took n calls. */
  attempts: { rows: number; total: number; histogram: Record<number, number> };
  /** Rows whose reply needed a local JSON repair, when the output records it. */
  repaired?: number;
  /** Values read as the schema's type instead of a re-ask (`coerced`), when the output records it. */
  coerced?: number;
  /** Tokens of every row whose output says (JSONL). */
  usage?: Usage;
  /** `spans`: values located in the source (JSONL); `fields`: only the ungrounded paths (CSV); `none`: no grounding. */
  grounding: "spans" | "fields" | "none";
  fields: ReportField[];
  failures: FailureGroup[];
  /** The input columns, in the order first seen. */
  columns: string[];
  /** Rows embedded in the page for the row browser (the first ones): fewer than `rows` when capped. */
  embedded: number;
}

/** A row as the page's script reads it (short keys: it is repeated up to `maxRows` times). */
interface EmbeddedRow {
  i: number;
  ok: boolean;
  in: Record<string, string>;
  d: unknown;
  /** `CODE: message` of a failed row. */
  e: string | null;
  a?: number;
  /** Spans: [field number, path, column, start, end, match]. */
  sp?: [number, string, string, number, number, string][];
  /** Ungrounded values: [field number, path]. */
  ug?: [number, string][];
}

/** Limits on what {@link collectReportData} embeds, so a large run still opens fast. */
export interface EmbedLimits {
  maxRows: number;
  /** Characters of embedded JSON; the row that would pass it is not embedded, nor any after it. */
  maxChars: number;
}

const EXAMPLES_PER_CODE = 3;

/**
 * Counts everything the summary shows over every line, streaming, and keeps the JSON of the
 * first rows (up to `limits`) for the row browser. Fields come from the schema's `leaves`, else
 * from the records as they appear (nested objects flattened, arrays kept whole).
 */
export async function collectReportData(
  lines: AsyncIterable<OutputLine>,
  leaves: readonly LeafColumn[] | undefined,
  limits: EmbedLimits,
): Promise<{ summary: ReportSummary; rows: string[] }> {
  const fields = new FieldTable(leaves);
  const summary: ReportSummary = {
    rows: 0, ok: 0, failed: 0,
    attempts: { rows: 0, total: 0, histogram: {} },
    grounding: "none", fields: fields.list, failures: [], columns: [], embedded: 0,
  };
  const failures = new Map<string, FailureGroup>();
  const columns = new Set<string>();
  const rows: string[] = [];
  let chars = 0;
  let embedding = true;

  for await (const line of lines) {
    summary.rows++;
    for (const column of Object.keys(line.input)) columns.add(column);
    if (line.error) {
      summary.failed++;
      const group = failures.get(line.error.code) ?? { code: line.error.code, count: 0, examples: [] };
      failures.set(line.error.code, group);
      group.count++;
      if (group.examples.length < EXAMPLES_PER_CODE) group.examples.push({ index: line.index, message: line.error.message });
    } else {
      summary.ok++;
      for (const [field, value] of fields.valuesOf(line.data)) if (isFilled(value)) field.filled++;
    }
    if (typeof line.attempts === "number") {
      summary.attempts.rows++;
      summary.attempts.total += line.attempts;
      summary.attempts.histogram[line.attempts] = (summary.attempts.histogram[line.attempts] ?? 0) + 1;
    }
    if (typeof line.repaired === "boolean") summary.repaired = (summary.repaired ?? 0) + (line.repaired ? 1 : 0);
    if (Array.isArray(line.coerced)) summary.coerced = (summary.coerced ?? 0) + line.coerced.length;
    if (line.usage) {
      summary.usage ??= { prompt_tokens: 0, completion_tokens: 0 };
      summary.usage.prompt_tokens += line.usage.prompt_tokens;
      summary.usage.completion_tokens += line.usage.completion_tokens;
    }
    if (line.spans) summary.grounding = "spans";
    else if (line.ungrounded && summary.grounding === "none") summary.grounding = "fields";

    const spans = (line.spans ?? []).map((span) => [fields.numberOf(span.path), span.path, span.column, span.start, span.end, span.match] as EmbeddedSpan);
    const ungrounded = (line.ungrounded ?? []).map((path) => [fields.numberOf(path), path] as [number, string]);
    for (const number of new Set(spans.map((span) => span[0]))) fields.list[number]!.grounded++;
    for (const number of new Set(ungrounded.map((entry) => entry[0]))) fields.list[number]!.ungrounded++;

    if (embedding) {
      const row: EmbeddedRow = { i: line.index, ok: !line.error, in: line.input, d: line.data, e: line.error && `${line.error.code}: ${line.error.message}` };
      if (typeof line.attempts === "number") row.a = line.attempts;
      if (line.spans) row.sp = spans;
      if (line.ungrounded) row.ug = ungrounded;
      const json = JSON.stringify(row);
      embedding = rows.length < limits.maxRows && chars + json.length <= limits.maxChars;
      if (embedding) {
        rows.push(json);
        chars += json.length + 1;
      }
    }
  }
  summary.failures = [...failures.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  summary.columns = [...columns];
  summary.embedded = rows.length;
  return { summary, rows };
}

type EmbeddedSpan = [number, string, string, number, number, string];

/** A value a person would call filled in: not null, not an empty string, not an empty list. */
function isFilled(value: unknown): boolean {
  return value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && value.length === 0);
}

/** The report's fields, found by name or by a value's path (`order_items[0].name` belongs to `order_items`). */
class FieldTable {
  readonly list: ReportField[] = [];
  readonly #byName = new Map<string, number>();
  readonly #fixed: boolean;

  constructor(leaves: readonly LeafColumn[] | undefined) {
    this.#fixed = leaves !== undefined;
    for (const leaf of leaves ?? []) this.#add(leaf.name, leaf.path);
  }

  /** Each field with its value in `data`: the schema's leaves, or the record flattened. */
  valuesOf(data: unknown): [ReportField, unknown][] {
    if (this.#fixed) return this.list.map((field) => [field, valueAt(data, field.path)]);
    const pairs: [ReportField, unknown][] = [];
    const visit = (value: unknown, path: string[]) => {
      if (path.length > 0 && !isPlainObject(value)) {
        pairs.push([this.list[this.#numberOfName(path.join("."), path)]!, value]);
        return;
      }
      if (isPlainObject(value)) for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
    };
    visit(data, []);
    return pairs;
  }

  /** The number of the field a value's path belongs to: the longest field name its path starts with. */
  numberOf(valuePath: string): number {
    const name = fieldNameOf(valuePath);
    for (let end = name.length; end > 0; end = name.lastIndexOf(".", end - 1)) {
      const number = this.#byName.get(name.slice(0, end));
      if (number !== undefined) return number;
    }
    return this.#numberOfName(name, name.split("."));
  }

  #numberOfName(name: string, path: string[]): number {
    return this.#byName.get(name) ?? this.#add(name, path);
  }

  #add(name: string, path: string[]): number {
    this.#byName.set(name, this.list.length);
    return this.list.push({ name, path, filled: 0, grounded: 0, ungrounded: 0 }) - 1;
  }
}

/** A value's path without its array indices, in either form: `order_items[0].name` and `order_items.0.name` give `order_items.name`. */
export function fieldNameOf(valuePath: string): string {
  return valuePath
    .replace(/\[\d+\]/g, "")
    .split(".")
    .filter((segment) => segment !== "" && !/^\d+$/.test(segment))
    .join(".");
}
