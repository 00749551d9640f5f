import type { z } from "zod";
import { extractRecord } from "../run/attempts.js";
import { runOrdered, type RowSource } from "../run/ordered.js";
import type { Usage } from "../engine/types.js";
import { endsRun, ExtractError } from "../errors/extract-error.js";
import { Journal, MemoryStore, rowKey, type ResultStore } from "../run/journal.js";
import { emptyTotals, type ExtractOptions, type SchemaInput } from "../config/options.js";
import type { InputRecord } from "../core/prompt.js";
import { prepareRun, type RunContext } from "../run/context.js";
import type { RowBudget, StoredResult } from "../run/stored-result.js";
import type { ObjectSchema } from "../schema/json-schema.js";

/** One input row: a record of column values, or a plain string (sent as `{ "text": ... }`). */
export type RowInput = Record<string, unknown> | string;

/** The data type a schema yields: `z.output` of a zod schema, a plain record for a schema named by string. */
export type InferData<S extends SchemaInput> = S extends ObjectSchema ? z.output<S> : Record<string, unknown>;

interface ResultBase<R> {
  /** 0-based position of the row in the input. */
  index: number;
  /** The row as it was given. */
  row: R;
  /** Model calls made for the row, re-asks included (0 if it failed before any call). */
  attempts: number;
  /** Tokens of every call for the row, failed attempts included. */
  usage: Usage;
  /** True when the accepted reply needed a local JSON repair (no extra call was made). */
  repaired: boolean;
  /**
   * True when no model call was made for this row in this run: its result came from the
   * journal or from an identical row. `attempts` and `usage` are then those of the original.
   */
  reused: boolean;
}

/** A row that yielded valid data. */
export interface ExtractSuccess<T, R = RowInput> extends ResultBase<R> {
  ok: true;
  data: T;
  error?: undefined;
}

/** A row that failed after its attempts; the run goes on. */
export interface ExtractFailure<R = RowInput> extends ResultBase<R> {
  ok: false;
  data?: undefined;
  error: { code: ExtractError["code"]; message: string };
}

/** The result for one row: narrow on `ok` to reach typed `data` or `error`. */
export type ExtractResult<T, R = RowInput> = ExtractSuccess<T, R> | ExtractFailure<R>;

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
 * The engine room of {@link extract}, for callers that prepared the run themselves (the CSV
 * runner): `toRecord` turns a row into what the model sees, or into the error that fails it.
 */
export async function* runExtraction<R>(
  context: RunContext,
  rows: RowSource<R>,
  toRecord: (row: R, index: number) => InputRecord | ExtractError,
  options: Pick<ExtractOptions, "journal" | "resume" | "signal" | "stopSignal" | "onProgress" | "onResume">,
): AsyncGenerator<ExtractResult<unknown, R>, void, undefined> {
  const journal = options.journal
    ? await Journal.open(options.journal, { resume: options.resume ?? false, fingerprint: context.fingerprint })
    : undefined;
  const store: ResultStore = journal ?? new MemoryStore();
  if (journal && options.resume) options.onResume?.(journal.resumeInfo);
  // Rows of a journal written before budgets left the key match only under the old key.
  const legacyFingerprint = journal?.hasEarlierVersionRows ? context.legacyFingerprint : undefined;
  const { maxAttempts, maxTokens, maxTokensCap } = context.settings;
  const budget: RowBudget = { maxAttempts, maxTokens, maxTokensCap };
  const inFlight = new Map<string, Promise<StoredResult>>();
  const totals = emptyTotals();

  /** A row's result: from the store, from an identical row in flight, or from the model. */
  const resolve = async (record: InputRecord, index: number, signal: AbortSignal): Promise<StoredResult & { reused: boolean }> => {
    const key = rowKey(context.fingerprint, record);
    const stored =
      store.lookup(key, budget) ??
      (legacyFingerprint === undefined ? undefined : store.lookup(rowKey(legacyFingerprint, record), budget)) ??
      (await inFlight.get(key));
    if (stored) return { ...stored, reused: true };
    const running = extractRecord(context, record, signal).then((outcome): StoredResult => {
      if (!outcome.ok && endsRun(outcome.error)) throw outcome.error;
      const { ok, attempts, usage, repaired } = outcome;
      // A failure keeps the output budget it ended with, so a resume can tell whether it was raised since.
      const result = outcome.ok
        ? { ok, data: outcome.data, attempts, usage, repaired }
        : { ok, error: { code: outcome.error.code, message: outcome.error.message }, attempts, usage, repaired, maxTokens: outcome.maxTokens };
      store.record(key, index, result);
      return result;
    });
    inFlight.set(key, running);
    try {
      return { ...(await running), reused: false };
    } finally {
      inFlight.delete(key);
    }
  };

  const processRow = async (row: R, index: number, signal: AbortSignal): Promise<ExtractResult<unknown, R>> => {
    const record = toRecord(row, index);
    const result =
      record instanceof ExtractError
        ? { ok: false, error: { code: record.code, message: record.message }, attempts: 0, usage: { prompt_tokens: 0, completion_tokens: 0 }, repaired: false, reused: false }
        : await resolve(record, index, signal);

    totals.rowsDone++;
    if (result.ok) totals.rowsOk++;
    else totals.rowsFailed++;
    if (result.reused) totals.rowsReused++;
    else {
      totals.modelCalls += result.attempts;
      totals.usage.prompt_tokens += result.usage.prompt_tokens;
      totals.usage.completion_tokens += result.usage.completion_tokens;
    }
    options.onProgress?.({ index, ...totals, usage: { ...totals.usage } });

    const { attempts, usage, repaired, reused } = result;
    return result.ok
      ? { index, row, ok: true, data: result.data, attempts, usage, repaired, reused }
      : { index, row, ok: false, error: result.error!, attempts, usage, repaired, reused };
  };

  try {
    yield* runOrdered(rows, processRow, {
      concurrency: context.settings.concurrency,
      signal: options.signal,
      stopSignal: options.stopSignal,
    });
  } finally {
    store.close();
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
  let outcome;
  try {
    const record = toInputRecord(input, context.settings.columns, 0);
    if (record instanceof ExtractError) throw record;
    outcome = await extractRecord(context, record, options.signal);
  } finally {
    await context.close();
  }
  if (!outcome.ok) {
    outcome.error.row = 0;
    throw outcome.error;
  }
  return outcome.data as InferData<S>;
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
