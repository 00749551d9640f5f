import type { ExtractOptions } from "../config/options.js";
import { emptyTotals, type RunTotals } from "../config/options.js";
import type { InputRecord } from "../core/prompt.js";
import { failedBeforeAnyCall, type ExtractResult, type RowResult } from "../core/row-result.js";
import { attemptBudgetOf } from "../core/step.js";
import { ExtractError } from "../errors/extract-error.js";
import { groundRecord } from "../quality/grounding.js";
import { extractRecord } from "./attempts.js";
import type { RunContext } from "./context.js";
import { Journal, MemoryStore, rowKey, type ResultStore } from "./journal.js";
import { readAheadWindow, runOrdered, type RowSource } from "./ordered.js";

/**
 * The synchronous runner: rows in, one result per row out, in input order, with bounded
 * concurrency. A row's result comes from the store (the journal of an earlier run), from an
 * identical row in flight, or from the model; each new one is journaled before it is yielded.
 * `toRecord` turns a row into what the model sees, or into the error that fails it. With
 * `grounding`, each success is grounded in that record as it is yielded (reused rows too: the
 * journal keeps no spans, they are a pure function of the row and the data).
 *
 * @throws ExtractError for what ends the whole run (see `ERROR_CODES`).
 */
export async function* runExtraction<R>(
  context: RunContext,
  rows: RowSource<R>,
  toRecord: (row: R, index: number) => InputRecord | ExtractError,
  options: Pick<ExtractOptions, "journal" | "resume" | "signal" | "stopSignal" | "onProgress" | "onResume"> & {
    /** Where results come from instead of `journal` (a batch run's finished rows); closed at the end. */
    store?: ResultStore;
    /** The running totals, counted into this object as rows finish (the caller reads them at the end). */
    totals?: RunTotals;
  },
): AsyncGenerator<ExtractResult<unknown, R>, void, undefined> {
  const journal = options.store
    ? undefined
    : options.journal
    ? await Journal.open(options.journal, { resume: options.resume ?? false, fingerprint: context.fingerprint })
    : undefined;
  const store: ResultStore = options.store ?? journal ?? new MemoryStore();
  if (journal && options.resume) options.onResume?.(journal.resumeInfo);
  // Rows of a journal written before budgets left the key match only under the old key.
  const legacyFingerprint = journal?.hasEarlierVersionRows ? context.legacyFingerprint : undefined;
  const budget = attemptBudgetOf(context.settings);
  const inFlight = new Map<string, Promise<RowResult>>();
  const totals = options.totals ?? emptyTotals();
  const { onProgress } = options;

  /** A row's result: from the store, from an identical row in flight, or from the model. */
  const resolve = async (record: InputRecord, index: number, signal: AbortSignal): Promise<{ result: RowResult; reused: boolean }> => {
    const key = rowKey(context.fingerprint, record);
    const stored =
      store.lookup(key, budget) ??
      (legacyFingerprint === undefined ? undefined : store.lookup(rowKey(legacyFingerprint, record), budget)) ??
      (await inFlight.get(key));
    if (stored) return { result: stored, reused: true };
    const running = extractRecord(context, record, signal).then((result) => {
      store.record(key, index, result);
      return result;
    });
    inFlight.set(key, running);
    try {
      return { result: await running, reused: false };
    } finally {
      inFlight.delete(key);
    }
  };

  const processRow = async (row: R, index: number, signal: AbortSignal): Promise<ExtractResult<unknown, R>> => {
    const record = toRecord(row, index);
    const { result, reused } = record instanceof ExtractError ? { result: failedBeforeAnyCall(record), reused: false } : await resolve(record, index, signal);

    totals.rowsDone++;
    if (result.ok) totals.rowsOk++;
    else totals.rowsFailed++;
    totals.valuesCoerced += result.coerced.length;
    if (reused) totals.rowsReused++;
    else {
      totals.modelCalls += result.attempts;
      totals.usage.prompt_tokens += result.usage.prompt_tokens;
      totals.usage.completion_tokens += result.usage.completion_tokens;
    }
    // A copy per event only when someone listens: a run without a listener counts and moves on.
    if (onProgress) onProgress({ index, ...totals, usage: { ...totals.usage } });

    const { attempts, usage, repaired, coerced } = result;
    if (!result.ok) return { index, row, ok: false, error: result.error, attempts, usage, repaired, coerced, reused };
    const grounding = context.settings.grounding && !(record instanceof ExtractError) && groundRecord(record, result.data, context.jsonSchema);
    return { index, row, ok: true, data: result.data, attempts, usage, repaired, coerced, reused, ...grounding };
  };

  try {
    yield* runOrdered(rows, processRow, {
      // Rows whose calls wait in the engine (ChatEngine.waitingCalls) run here: the engine bounds
      // the requests in flight to the concurrency. The reorder window stays the concurrency's.
      concurrency: context.settings.concurrency + (context.engine.waitingCalls ?? 0),
      window: readAheadWindow(context.settings.concurrency),
      signal: options.signal,
      stopSignal: options.stopSignal,
    });
  } finally {
    store.close();
  }
}
