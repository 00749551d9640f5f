import type { z } from "zod";
import { prepareRun } from "../run/context.js";
import { extractRecord } from "../run/attempts.js";
import { runExtraction } from "../run/extraction.js";
import type { RowSource } from "../run/ordered.js";
import { ExtractError } from "../errors/extract-error.js";
import type { ExtractOptions, SchemaInput } from "../config/options.js";
import type { InputRecord } from "../core/prompt.js";
import { toExtractError, type ExtractResult, type RowInput } from "../core/row-result.js";
import type { ObjectSchema } from "../schema/json-schema.js";

export type { ExtractFailure, ExtractResult, ExtractSuccess, RowInput } from "../core/row-result.js";

/** The data type a schema yields: `z.output` of a zod schema, a plain record for a schema named by string. */
export type InferData<S extends SchemaInput> = S extends ObjectSchema ? z.output<S> : Record<string, unknown>;

/**
 * Extracts one record per row, with bounded concurrency, yielding one result per row in input
 * order. A row that fails is a result with `ok: false`; the iteration itself throws only for
 * what no row can survive: a configuration error (bad schema or option, missing API key),
 * rejected credentials, an unknown model, or an abort.
 *
 * Identical rows are sent once: the first one's result is reused (with a `journal`, across the
 * whole input and, with `resume`, across runs).
 *
 * @example
 * for await (const result of extract(rows, { schema: ticket, concurrency: 8 })) {
 *   if (result.ok) console.log(result.data.urgency);
 *   else console.error(`row ${result.index}: ${result.error.code} ${result.error.message}`);
 * }
 */
export async function* extract<S extends SchemaInput, R extends RowInput = RowInput>(
  rows: RowSource<R>,
  options: ExtractOptions<S>,
): AsyncGenerator<ExtractResult<InferData<S>, R>, void, undefined> {
  const context = await prepareRun(options);
  const toRecord = (row: R, index: number) => toInputRecord(row, context.settings.columns, index);
  try {
    yield* runExtraction(context, rows, toRecord, options) as AsyncGenerator<ExtractResult<InferData<S>, R>>;
  } finally {
    await context.close();
  }
}

/**
 * Extracts one record from one input: a string (free text) or a record of fields.
 *
 * @example
 * const data = await extractOne("Hi, I'm Ana from Acme, order #123 arrived broken", { schema: ticket });
 * @throws ExtractError with the code of what failed (see `ExtractErrorCode`).
 */
export async function extractOne<S extends SchemaInput>(input: RowInput, options: ExtractOptions<S>): Promise<InferData<S>> {
  const context = await prepareRun(options);
  let result;
  try {
    const record = toInputRecord(input, context.settings.columns, 0);
    if (record instanceof ExtractError) throw record;
    result = await extractRecord(context, record, options.signal);
  } catch (error) {
    if (error instanceof ExtractError) error.row ??= 0;
    throw error;
  } finally {
    await context.close();
  }
  if (!result.ok) throw toExtractError({ ...result.error, row: 0, cause: result.error.cause });
  return result.data as InferData<S>;
}

/** The part of a row the model sees: the selected columns, or `{ text }` for a string. */
export function toInputRecord(row: RowInput, columns: readonly string[] | undefined, index: number): InputRecord | ExtractError {
  if (typeof row === "string") return { text: row };
  if (!columns) return row;
  const missing = columns.filter((column) => !Object.hasOwn(row, column));
  if (missing.length) {
    return new ExtractError(
      "COLUMN_NOT_FOUND",
      `Row ${index} has no column ${missing.map((c) => `"${c}"`).join(", ")}. Available: ${Object.keys(row).join(", ") || "(none)"}.`,
      { row: index, path: missing[0] },
    );
  }
  return Object.fromEntries(columns.map((column) => [column, row[column]]));
}
