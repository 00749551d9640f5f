import { checkSchemaOption, invalidOption, type SchemaInput } from "../config/options.js";
import { estimateCost } from "../models/pricing.js";
import { leafColumns, type LeafColumn } from "../schema/columns.js";
import { toPromptJsonSchema } from "../schema/json-schema.js";
import { loadSchema } from "../schema/load.js";
import { readOutputFile } from "./output-file.js";
import { evaluate } from "./evaluate.js";
import { collectReportData } from "./report-data.js";
import { renderReportPage, type RunFacts } from "./report-page.js";

export type { RunFacts } from "./report-page.js";

/** Options of {@link createReport}. */
export interface ReportOptions {
  /**
   * The run's schema (a zod object, or a name or path as for `extract()`): its leaves are the
   * report's fields. Needed for a CSV output, whose header does not tell input columns from
   * field columns; without it, a JSONL output's fields are read from its records.
   */
  schema?: SchemaInput;
  /** Folder of named schemas. @default $EXTRACT_SCHEMAS_DIR, else `./schemas` */
  schemasDir?: string;
  /** The model that made the output, to estimate the cost of its tokens (the output does not name it). */
  model?: string;
  /** What only the run knew (wall time, HTTP requests, 429s): `extractCsv()`'s summary fits. */
  run?: RunFacts;
  /**
   * A gold file (JSONL or CSV, as for `evaluate()`): each field then also shows its accuracy
   * against it.
   */
  gold?: string;
  /** The column rows are matched to the gold file by. @default a column named `id`, else position (see `evaluate()`) */
  key?: string;
  /**
   * Rows embedded in the page for the row browser: the first ones. The summary counts every
   * row whatever the limit; the page says when it is reached. @default 5000
   */
  maxRows?: number;
}

/** Default of `maxRows`: a page of ~5,000 typical rows is a few MB and opens in well under a second. */
const DEFAULT_MAX_ROWS = 5000;
/** Characters of row JSON embedded at most, whatever `maxRows` allows: rows of long documents add up fast. */
const MAX_EMBEDDED_CHARS = 32_000_000;

/**
 * The HTML report of an llm-extract output file (CSV or JSONL): one self-contained page (no
 * network, opens from disk) with the run's totals, per-field fill and ungrounded rates as bars,
 * failures grouped by error code, and a row browser that highlights where each value was found
 * in the row's source text (JSONL outputs with spans). Reads the file streaming; never calls a model.
 *
 * @throws ExtractError `INPUT_UNREADABLE` (missing file, not an output), `INVALID_OPTION`
 * (a CSV output without `schema`, a bad `maxRows`), and the schema's loading errors.
 * @example
 * const html = await createReport("tickets.out.jsonl", { schema: "ticket", model: "gpt-4o-mini" });
 * await writeFile("report.html", html);
 */
export async function createReport(output: string, options: ReportOptions = {}): Promise<string> {
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  if (!Number.isInteger(maxRows) || maxRows < 0) throw invalidOption("maxRows", "a whole number from 0 up", options.maxRows);
  const leaves = options.schema === undefined ? undefined : await schemaLeaves(options.schema, options.schemasDir);
  const { summary, rows } = await collectReportData(readOutputFile(output, leaves), leaves, { maxRows, maxChars: MAX_EMBEDDED_CHARS });
  const cost = options.model && summary.usage ? estimateCost(options.model, summary.usage) : undefined;
  const accuracy = options.gold === undefined ? undefined : await accuracyAgainst(output, options);
  return renderReportPage({ source: output, summary, rows, model: options.model, cost, run: options.run, accuracy });
}

/** Each field's right values of those compared, from `evaluate()` against the gold file. */
async function accuracyAgainst(output: string, options: ReportOptions): Promise<ReadonlyMap<string, { correct: number; n: number }>> {
  const report = await evaluate(output, options.gold!, { key: options.key, schema: options.schema, schemasDir: options.schemasDir });
  return new Map(report.fields.map((field) => [field.field, { correct: field.correct, n: field.n }]));
}

async function schemaLeaves(schema: SchemaInput, schemasDir: string | undefined): Promise<LeafColumn[]> {
  checkSchemaOption(schema);
  const zod = typeof schema === "string" ? (await loadSchema(schema, { schemasDir })).schema : schema;
  return leafColumns(toPromptJsonSchema(zod));
}
