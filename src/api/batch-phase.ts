import type { ExtractOptions, RunTotals } from "../config/options.js";
import { normalizeBatchOptions, normalizeOfflineBatchOptions, type BatchOptions, type OfflineBatchOptions } from "../config/batch-options.js";
import type { InputRecord } from "../core/prompt.js";
import { ExtractError } from "../errors/extract-error.js";
import { runBatch, type BatchOutcome } from "../run/batch/batch-runner.js";
import type { RunContext } from "../run/context.js";
import { Journal, type ResultStore } from "../run/journal.js";
import { offlineWaitingOn, prepareOfflineBatch, type OfflineBatch, type OfflineBatchFacts } from "./batch-offline.js";

/** What a batch run leaves for the output pass: its outcome, and the journal's results to write from. */
export interface BatchPhase {
  outcome: BatchOutcome;
  /** Every finished row's result as journaled, failures included; undefined when the run was interrupted. */
  store?: ResultStore;
  /** An offline job's (`batchFile`, `batchResults`): the results read, and the request file it now waits on. */
  offline?: OfflineBatchFacts;
}

/**
 * The batch part of `extractCsv(..., { batch: true })` and `extractBatch()`: options checked, the
 * Batch API of the configured server (or, with `batchFile` / `batchResults`, local files), the runner; then, once every row is done, the journal
 * reopened whole (this run's rows included) for the output pass, which writes every row from it
 * in input order exactly as the synchronous path would, with no model call.
 */
export async function runBatchPhase(
  context: RunContext,
  records: readonly (InputRecord | ExtractError)[],
  options: BatchOptions & OfflineBatchOptions & Pick<ExtractOptions, "client" | "resume" | "signal" | "stopSignal"> & { journal: string },
): Promise<BatchPhase> {
  const settings = normalizeBatchOptions(options);
  const offlineSettings = normalizeOfflineBatchOptions(options);
  const { api, resume, resultsRead }: OfflineBatch = offlineSettings
    ? prepareOfflineBatch(context, records, offlineSettings, options)
    : { api: await httpBatchApi(context, options.client, settings.pollMs), resume: options.resume ?? false };
  const outcome = await runBatch(context, records, { ...options, api, settings, resume });
  const offline = offlineSettings && { resultsRead, waitingOn: offlineWaitingOn(options.journal) };
  if (outcome.interrupted) return { outcome, offline };
  const journal = await Journal.open(options.journal, { resume: true, fingerprint: context.fingerprint });
  const store: ResultStore = {
    lookup: (key) => journal.get(key),
    record: () => undefined, // every row is journaled already
    close: () => journal.close(),
  };
  return { outcome, store, offline };
}

/** The Batch API of the configured server. */
async function httpBatchApi(context: RunContext, client: ExtractOptions["client"], pollMs: number) {
  const { createBatchApi } = await import("../engine/http/batches.js"); // the SDK, on demand as for the engine
  const { model, connection, timeout, maxRetries } = context.settings;
  return createBatchApi({ model, client, ...connection, timeout, maxRetries }, Math.min(pollMs, 2_000));
}

/**
 * The run's totals from the output pass's (which finds every row in the journal, so counts them
 * all as reused) and what the batch run did: its rows are not reused, and its calls and tokens
 * are those of every round.
 */
export function batchTotals(written: RunTotals, outcome: BatchOutcome): RunTotals {
  return {
    ...written,
    rowsReused: Math.max(0, written.rowsReused - outcome.finished.rowsDone),
    modelCalls: outcome.finished.modelCalls,
    usage: { ...outcome.finished.usage },
  };
}

/** The error the library throws when a batch run is stopped while batches are live: they keep running. */
export function stoppedWhileLive(outcome: BatchOutcome): ExtractError {
  const ids = outcome.liveBatches.join(", ");
  return new ExtractError(
    "ABORTED",
    `Stopped while waiting for ${outcome.liveBatches.length === 1 ? "batch" : "batches"} ${ids}, which keep running. ` +
      "Run again with `resume` to collect them (rows in a live batch are not sent again), or cancel them.",
  );
}
