/**
 * `evaluate()`: how true an extraction is, field by field, against a gold file written by hand.
 * Reads results only; never calls a model.
 */
import { invalidOption, type SchemaInput } from "../config/options.js";
import { valueAt } from "../io/output/flatten.js";
import { loadSchema } from "../schema/load.js";
import { toPromptJsonSchema } from "../schema/json-schema.js";
import { isMissing, parseJsonText, valuesAgree, type Closeness } from "./compare-values.js";
import { fieldsFromGold, fieldsFromSchema, type EvalField } from "./eval-fields.js";
import { evalRecordsOf, readEvalFile, type EvalRecord, type EvalRows } from "./eval-records.js";
import { FieldTally, type FieldScore } from "./field-score.js";
import { matchRows } from "./match-rows.js";
import { pairItems } from "./pair-items.js";

export type { FieldScore } from "./field-score.js";
export type { FieldKind } from "./eval-fields.js";
export type { EvalRows } from "./eval-records.js";

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** The column that pairs output rows with gold rows. @default `id` if both sides have it, else the one column both have, else by position */
  key?: string;
  /** The schema (zod object, name or path) that says each field's type. @default types inferred from the gold values */
  schema?: SchemaInput;
  /** Folder of named schemas. @default $EXTRACT_SCHEMAS_DIR, else ./schemas */
  schemasDir?: string;
  /** Per number field (`total`, `line_items[].amount`), the largest absolute difference that still counts as right. @default 0 for all */
  tolerance?: Record<string, number>;
  /** Strings that differ after normalization still count as right at this similarity or more, 0 to 1. @default exact only */
  fuzzy?: number;
  /** How many of the worst rows to list. @default 5 */
  worst?: number;
}

/** A field whose extracted value differs from the gold one. */
export interface FieldDifference {
  field: string;
  expected: unknown;
  actual: unknown;
}

/** A matched row that is not exactly right. */
export interface RowDifferences {
  /** The row's key value, or `#<position>` (1-based) when rows are matched by position. */
  row: string;
  /** `CODE: message` when the extraction failed for this row. */
  error?: string;
  differences: FieldDifference[];
}

/** What {@link evaluate} found. */
export interface EvalReport {
  /** The key column rows were matched by; null when matched by position. */
  key: string | null;
  rows: {
    output: number;
    gold: number;
    matched: number;
    /** Matched rows whose extraction failed (all their fields count as empty). */
    failed: number;
    /** Matched rows with every field right. */
    exactlyRight: number;
    missingFromOutput: string[];
    notInGold: string[];
    duplicateKeys: string[];
  };
  /** Scores per field, in schema (or gold) order; an array's item fields follow the array. */
  fields: FieldScore[];
  /** Values compared over the top-level fields (an array counts once per row). */
  compared: number;
  /** Of those, the right ones. */
  correct: number;
  /** correct / compared; null when nothing was compared. */
  accuracy: number | null;
  /** Matched rows with every field right, as a share; null with no matched row. */
  exactlyRightRate: number | null;
  /** The rows with the most wrong fields, most first. */
  worstRows: RowDifferences[];
}

/**
 * Scores an extraction against gold data. `output` is an llm-extract output file (CSV or JSONL)
 * or the rows themselves (`extract()` results); `gold` a gold file (JSONL lines
 * `{"<key>": ..., "data": {...}}`, or a CSV shaped like the output) or its parsed lines.
 * Strings agree after normalization (NFC, case, whitespace, punctuation at the ends), numbers
 * within `tolerance`, enums and booleans exactly, null only with null; arrays of objects are
 * paired item by item (Hungarian assignment on the share of fields that agree).
 *
 * @throws ExtractError `INPUT_UNREADABLE`, `INVALID_OPTION`, or the schema's load errors.
 * @example
 * const report = await evaluate("tickets.out.csv", "examples/tickets.gold.jsonl", { key: "ticket_id", schema: "ticket" });
 * console.log(report.accuracy, report.fields.find((f) => f.field === "urgency")?.accuracy);
 */
export async function evaluate(output: string | EvalRows, gold: string | EvalRows, options: EvaluateOptions = {}): Promise<EvalReport> {
  checkOptions(options);
  const [outputRecords, goldRecords] = await Promise.all([recordsOf(output), recordsOf(gold)]);
  const match = matchRows(outputRecords, goldRecords, options.key);
  const fields = options.schema
    ? fieldsFromSchema(toPromptJsonSchema(typeof options.schema === "string" ? (await loadSchema(options.schema, { schemasDir: options.schemasDir })).schema : options.schema))
    : // A gold CSV holds its key column among the fields: it is what rows are matched by, not a field.
      fieldsFromGold(goldRecords.map((record) => record.data)).filter((field) => field.name !== match.key);
  checkTolerances(options.tolerance ?? {}, fields);

  const scorer = new Scorer(fields, options);
  const wrongRows: RowDifferences[] = [];
  let exactlyRight = 0;
  let failed = 0;
  for (const { label, gold: goldRow, output: outputRow } of match.pairs) {
    const differences = scorer.scoreRow(goldRow.data, outputRow.error ? null : outputRow.data);
    if (outputRow.error) failed++;
    if (differences.length === 0) exactlyRight++;
    else wrongRows.push({ row: label, ...(outputRow.error && { error: outputRow.error }), differences });
  }
  const scores = scorer.scores();
  const top = scores.filter((score) => !score.field.includes("[]."));
  const compared = top.reduce((sum, score) => sum + score.n, 0);
  const correct = top.reduce((sum, score) => sum + score.correct, 0);
  const matched = match.pairs.length;
  return {
    key: match.key,
    rows: {
      output: outputRecords.length,
      gold: goldRecords.length,
      matched,
      failed,
      exactlyRight,
      missingFromOutput: match.missingFromOutput,
      notInGold: match.notInGold,
      duplicateKeys: match.duplicateKeys,
    },
    fields: scores,
    compared,
    correct,
    accuracy: compared === 0 ? null : correct / compared,
    exactlyRightRate: matched === 0 ? null : exactlyRight / matched,
    // A stable sort: rows with as many wrong fields keep their gold order.
    worstRows: wrongRows.sort((a, b) => b.differences.length - a.differences.length).slice(0, options.worst ?? 5),
  };
}

/** Compares rows field by field and keeps the counts. */
class Scorer {
  private readonly tallies = new Map<string, FieldTally>();

  constructor(
    private readonly fields: readonly EvalField[],
    private readonly options: EvaluateOptions,
  ) {
    const add = (name: string, field: EvalField): void => {
      this.tallies.set(name, new FieldTally(name, field.kind, field.nullable || field.kind === "items" || field.kind === "list"));
    };
    for (const field of fields) {
      add(field.name, field);
      for (const item of field.itemFields ?? []) this.tallies.set(itemName(field, item), new FieldTally(itemName(field, item), item.kind, true));
    }
  }

  /** Scores one matched row; returns the fields that differ. */
  scoreRow(gold: unknown, actual: unknown): FieldDifference[] {
    const differences: FieldDifference[] = [];
    for (const field of this.fields) {
      const expected = valueAt(gold, field.path);
      const got = valueAt(actual, field.path);
      const tally = this.tallies.get(field.name)!;
      const right = field.kind === "items" || field.kind === "list" ? this.scoreArray(field, expected, got, tally) : this.agree(field, field.name, expected, got);
      tally.n++;
      if (right) tally.correct++;
      else differences.push({ field: field.name, expected: expected ?? null, actual: got ?? null });
      if (field.kind !== "items" && field.kind !== "list") {
        tally.fillBase++;
        if (!isMissing(got)) tally.filled++;
        if (!isMissing(got) && !isMissing(expected)) tally.hits++;
        if (!isMissing(got)) tally.extracted++;
        if (!isMissing(expected)) tally.expected++;
      }
    }
    return differences;
  }

  scores(): FieldScore[] {
    return [...this.tallies.values()].map((tally) => tally.score());
  }

  /** Pairs the items, counts exact items (and each item field of paired items); true when the arrays agree as a whole. */
  private scoreArray(field: EvalField, expected: unknown, got: unknown, tally: FieldTally): boolean {
    const goldItems = asArray(parseJsonText(expected));
    const actualItems = asArray(parseJsonText(got));
    const itemFields = field.itemFields ?? [];
    const itemAgrees = (item: EvalField, g: unknown, a: unknown): boolean => this.agree(item, itemName(field, item), valueAt(g, item.path), valueAt(a, item.path));
    const similarity =
      field.kind === "items"
        ? (g: unknown, a: unknown) => itemFields.filter((item) => itemAgrees(item, g, a)).length / Math.max(1, itemFields.length)
        : (g: unknown, a: unknown) => (this.agree({ ...field, kind: field.itemKind ?? "json" }, field.name, g, a) ? 1 : 0);
    const pairs = pairItems(goldItems, actualItems, similarity);
    let exact = 0;
    for (const [g, a] of pairs) {
      if (similarity(goldItems[g], actualItems[a]) === 1) exact++;
      for (const item of itemFields) {
        const itemTally = this.tallies.get(itemName(field, item))!;
        itemTally.n++;
        if (itemAgrees(item, goldItems[g], actualItems[a])) {
          itemTally.correct++;
          itemTally.hits++;
        }
      }
    }
    for (const item of itemFields) {
      const itemTally = this.tallies.get(itemName(field, item))!;
      itemTally.extracted += actualItems.length;
      itemTally.expected += goldItems.length;
      itemTally.fillBase += actualItems.length;
      itemTally.filled += actualItems.filter((a) => !isMissing(valueAt(a, item.path))).length;
    }
    tally.hits += exact;
    tally.extracted += actualItems.length;
    tally.expected += goldItems.length;
    tally.fillBase++;
    if (actualItems.length > 0) tally.filled++;
    if (isMissing(expected) !== isMissing(got) && field.nullable) return false;
    return exact === goldItems.length && exact === actualItems.length;
  }

  private agree(field: EvalField, name: string, expected: unknown, got: unknown): boolean {
    return valuesAgree(field.kind, expected, got, closenessOf(name, this.options));
  }
}

function closenessOf(name: string, options: EvaluateOptions): Closeness {
  return { tolerance: options.tolerance?.[name] ?? 0, ...(options.fuzzy !== undefined && { fuzzy: options.fuzzy }) };
}

function itemName(array: EvalField, item: EvalField): string {
  return `${array.name}[].${item.name}`;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

async function recordsOf(source: string | EvalRows): Promise<EvalRecord[]> {
  return typeof source === "string" ? readEvalFile(source) : evalRecordsOf(source);
}

function checkOptions(options: EvaluateOptions): void {
  if (options.key !== undefined && (typeof options.key !== "string" || options.key === "")) throw invalidOption("key", "a column name", options.key);
  if (options.fuzzy !== undefined && !(options.fuzzy >= 0 && options.fuzzy <= 1)) throw invalidOption("fuzzy", "a number from 0 to 1", options.fuzzy);
  if (options.worst !== undefined && !(Number.isInteger(options.worst) && options.worst >= 0)) throw invalidOption("worst", "a whole number from 0 up", options.worst);
}

function checkTolerances(tolerance: Record<string, number>, fields: readonly EvalField[]): void {
  const numbers = fields.flatMap((field) => [field, ...(field.itemFields ?? []).map((item) => ({ ...item, name: itemName(field, item) }))]).filter((field) => field.kind === "number");
  for (const [name, value] of Object.entries(tolerance)) {
    if (!numbers.some((field) => field.name === name)) {
      throw invalidOption("tolerance", `keyed by number fields (${numbers.map((field) => field.name).join(", ") || "there are none"})`, name);
    }
    if (!(typeof value === "number" && value >= 0)) throw invalidOption("tolerance", `a number from 0 up for ${name}`, value);
  }
}
