import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ExtractOptions, SchemaInput } from "../config/options.js";
import type { BatchOptions } from "../config/batch-options.js";
import type { RowInput } from "../core/row-result.js";
import { prepareRun } from "../run/context.js";
import { runExtraction } from "../run/extraction.js";
import type { RowSource } from "../run/ordered.js";
import { runBatchPhase, stoppedWhileLive } from "./batch-phase.js";
import { toInputRecord, type ExtractResult, type InferData } from "./extract.js";

/** Options of {@link extractBatch}: those of `extract()` and the batch options (`batch` itself is implied). */
export type ExtractBatchOptions<S extends SchemaInput = SchemaInput> = ExtractOptions<S> & Omit<BatchOptions, "batch">;

/**
 * Extracts one record per row through the provider's Batch API (half the price; results within
 * 24 hours), yielding one result per row in input order once every row is done, exactly as
 * `extract()` would: the same prompt, reply format, validation, re-asks (each round of re-asks
 * is a further batch, or synchronous calls with `batchFinish: "sync"`), grounding and results.
 * Every row is read before the first batch is submitted.
 *
 * With a `journal`, the job is durable: batch and file ids and each row's place are written
 * before the run waits, so that after a crash `resume: true` re-attaches to the live batches
 * (a row in a live batch is never submitted again) and collects them. Without one, a temporary
 * journal is used and removed.
 *
 * @throws ExtractError `ABORTED` when `signal` or `stopSignal` stops the wait: the batches keep
 * running, and a run with the same `journal` and `resume: true` collects them. Otherwise as `extract()`.
 * @example
 * for await (const result of extractBatch(rows, { schema: ticket, journal: "tickets.journal", resume: true })) {
 *   if (result.ok) console.log(result.data.urgency);
 * }
 */
export async function* extractBatch<S extends SchemaInput, R extends RowInput = RowInput>(
  rows: RowSource<R>,
  options: ExtractBatchOptions<S>,
): AsyncGenerator<ExtractResult<InferData<S>, R>, void, undefined> {
  const context = await prepareRun(options);
  const temporaryDir = options.journal ? undefined : await mkdtemp(path.join(os.tmpdir(), "llm-extract-"));
  const journal = options.journal ?? path.join(temporaryDir!, "run.journal");
  try {
    const all: R[] = [];
    for await (const row of rows) all.push(row);
    const toRecord = (row: R, index: number) => toInputRecord(row, context.settings.columns, index);
    const { outcome, store } = await runBatchPhase(context, all.map(toRecord), { ...options, journal });
    if (!store) throw stoppedWhileLive(outcome);
    yield* runExtraction(context, all, toRecord, { ...options, store, stopSignal: undefined }) as AsyncGenerator<ExtractResult<InferData<S>, R>>;
  } finally {
    await context.close();
    if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
  }
}
