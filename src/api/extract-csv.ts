import { createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Writable } from "node:stream";
import { openCsv, type CsvInput, type CsvRow } from "../io/input/read.js";
import { leafColumns } from "../schema/columns.js";
import { createOutputWriter, type OutputFormat } from "../io/output/write.js";
import { ExtractError } from "../errors/extract-error.js";
import { runExtraction } from "../run/extraction.js";
import { emptyTotals, type ExtractOptions, type ProgressEvent, type RunTotals, type SchemaInput } from "../config/options.js";
import { normalizeOfflineBatchOptions, type BatchOptions, type OfflineBatchOptions } from "../config/batch-options.js";
import type { OfflineBatchFacts } from "./batch-offline.js";
import type { BatchPhase } from "./batch-phase.js";
import type { RowSource } from "../run/ordered.js";
import { normalizeCsvOptions, type CsvOptions, type CsvSettings } from "../config/csv-options.js";
import { buildMessages, type ChatMessage, type InputRecord } from "../core/prompt.js";
import { preparePrompt, prepareRun, type RunContext } from "../run/context.js";
import type { DryRunEstimate } from "./dry-run.js";
import type { ReplyFormat } from "../engine/types.js";

/** Options of {@link extractCsv}: those of `extract()`, plus where and how to write. */
export interface ExtractCsvOptions<S extends SchemaInput = SchemaInput> extends Omit<ExtractOptions<S>, "onProgress">, CsvOptions, BatchOptions, OfflineBatchOptions {
  /**
   * The journal that makes `resume` possible. @default `<out>.journal` next to an output file;
   * a temporary file (removed at the end) when writing to a stream.
   */
  journal?: string;
  /** Called after each row with running totals and how far through the input the run is. */
  onProgress?: (event: CsvProgressEvent) => void;
}

/** A progress event of a CSV run: row totals plus how far into the input, for a percentage and an ETA. */
export interface CsvProgressEvent extends ProgressEvent {
  /** Input consumed up to the last row written (characters; bytes for ASCII text). */
  bytesRead: number;
  /** Size of the input file; undefined for stdin or a stream. */
  totalBytes?: number;
}

/** What a CSV run did. */
export interface CsvRunSummary extends RunTotals {
  input: string;
  /** The output file, or "stdout" / "stream". */
  output: string;
  format: OutputFormat;
  model: string;
  elapsedMs: number;
  /**
   * True when `stopSignal` ended the run before the input did (`resume` finishes it), or when an
   * offline batch job wrote a request file and waits on its results (`batch.offline.waitingOn`:
   * `batchResults` goes on).
   */
  interrupted: boolean;
  /** The journal a resume would read; undefined when it was temporary. */
  journal?: string;
  /** HTTP requests sent, retries included, and how many were answered 429 (HTTP engines only). */
  transport?: { requests: number; rateLimited: number };
  /** With `batch`: the batches this run created, the rounds, the job file, and the batches left live if it stopped. */
  batch?: { batchesCreated: number; rounds: number; jobFile: string; liveBatches: string[]; offline?: OfflineBatchFacts };
}

/**
 * Extracts every row of a CSV file (or stdin, `"-"`, or a stream) into a CSV or JSONL output:
 * the CLI's job as a function, with the same option names. Streams end to end with flat memory;
 * the output has every input row exactly once, in input order (failed rows with `_error`),
 * malformed CSV rows included (unless `strict`), unless the run is stopped or a fatal error (bad
 * credentials, invalid UTF-8, a malformed row with `strict`) ends it, in which
 * case the journal lets `resume: true` finish it without redoing finished rows.
 *
 * Configuration problems (schema, options, API key, unreadable input, unknown `columns`,
 * unwritable output) throw before any model call.
 *
 * @example
 * const summary = await extractCsv("examples/tickets.csv", { schema: "ticket", out: "tickets.out.csv" });
 * console.log(`${summary.rowsOk} ok, ${summary.rowsFailed} failed`);
 */
export async function extractCsv<S extends SchemaInput>(input: string | NodeJS.ReadableStream, options: ExtractCsvOptions<S>): Promise<CsvRunSummary> {
  const started = performance.now();
  const csvSettings = normalizeCsvOptions(input, options);
  const offline = normalizeOfflineBatchOptions(options);
  if (offline && !csvSettings.outPath && !options.journal) {
    const option = offline.resultsFile === undefined ? "batchFile" : "batchResults";
    throw new ExtractError("INVALID_OPTION", `\`${option}\` needs \`out\` (a file) or \`journal\`: the job's state is kept beside it between the runs.`, { path: "out" });
  }
  const context = offline ? await (await import("./batch-offline.js")).prepareOfflineRun(options) : await prepareRun(options);
  try {
    return await writeRun(context, input, options, csvSettings, started);
  } finally {
    await context.close();
  }
}

/** Batch mode's modules, loaded when a run asks for it: a synchronous run has no use for them. */
const batchModule = () => import("./batch-phase.js");

/** The body of {@link extractCsv}, once the run is prepared. */
async function writeRun(
  context: RunContext,
  input: string | NodeJS.ReadableStream,
  options: ExtractCsvOptions,
  { outPath, format, strict, delimiter, formulaGuard }: CsvSettings,
  started: number,
): Promise<CsvRunSummary> {
  const csv = await openCsv(input, { strict, delimiter });
  let columns: readonly string[];
  let destination: Writable;
  const temporaryDir = options.journal || outPath ? undefined : await mkdtemp(path.join(os.tmpdir(), "llm-extract-"));
  const journal = options.journal ?? (outPath ? `${outPath}.journal` : path.join(temporaryDir!, "run.journal"));
  const toRecord = (row: CsvRow) => row.error ?? pick(row.record, columns);
  // Counted as the runner pulls rows, to tell a stopped run from a finished one.
  const read = { rows: 0, done: false };
  async function* countRows(): AsyncGenerator<CsvRow> {
    for await (const row of csv.rows) {
      read.rows++;
      yield row;
    }
    read.done = true;
  }
  let rows: RowSource<CsvRow> = countRows();
  let batch: BatchPhase | undefined;
  try {
    columns = selectColumns(csv, context.settings.columns);
    if (options.batch || options.batchFile !== undefined || options.batchResults !== undefined) {
      // Every row is needed before the first file is written; the output is written once all are done.
      const all: CsvRow[] = [];
      for await (const row of rows) all.push(row);
      batch = await (await batchModule()).runBatchPhase(context, all.map(toRecord), { ...options, journal });
      if (!batch.store) {
        if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
        return batchStopped(batch, { input: csv.name, output: outPath ?? "stream", format, journal: temporaryDir ? undefined : journal }, context, started);
      }
      rows = all;
    }
    destination = outPath ? await openOutputFile(outPath) : (options.out as Writable | undefined) ?? process.stdout;
  } catch (error) {
    await csv.rows[Symbol.asyncIterator]().return?.(); // close the input we will not read
    if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
    throw error;
  }
  const writer = createOutputWriter(destination, {
    format,
    inputColumns: csv.columns,
    leaves: leafColumns(context.jsonSchema),
    formulaGuard,
    grounding: context.settings.grounding,
  });

  const totals: RunTotals = emptyTotals();
  // Progress follows the last row written, not the reader, which runs ahead by a buffer or two
  // (a small file is read whole before the first row is done).
  let position = 0;
  const { totalBytes } = csv.progress();
  const listener = options.onProgress;
  const onProgress = listener && ((event: ProgressEvent) => listener({ ...event, bytesRead: position, totalBytes }));

  let rowsWritten = 0;
  try {
    for await (const result of runExtraction(context, rows, toRecord, { ...options, journal, onProgress, totals, store: batch?.store })) {
      await writer.write({
        index: result.index,
        input: result.row.record,
        data: result.data,
        error: result.error,
        attempts: result.attempts,
        usage: result.usage,
        repaired: result.repaired,
        coerced: result.coerced,
        spans: result.spans,
        ungrounded: result.ungrounded,
      });
      rowsWritten++;
      position = result.row.end;
    }
    await writer.close();
  } catch (error) {
    await writer.close().catch(() => undefined); // keep what was written; the first error is the one to report
    throw error;
  } finally {
    if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
  }
  return {
    ...(batch ? (await batchModule()).batchTotals(totals, batch.outcome) : totals),
    input: csv.name,
    output: outPath ?? (destination === process.stdout ? "stdout" : "stream"),
    format,
    model: context.settings.model,
    elapsedMs: performance.now() - started,
    interrupted: !read.done || rowsWritten < read.rows,
    journal: temporaryDir ? undefined : journal,
    transport: context.engine.pacing && { requests: context.engine.pacing.requests, rateLimited: context.engine.pacing.rateLimited },
    batch: batch && batchFacts(batch),
  };
}

/** The summary of a batch run stopped while batches were live: no output yet; `resume` collects them. */
function batchStopped(
  batch: BatchPhase,
  where: Pick<CsvRunSummary, "input" | "output" | "format" | "journal">,
  context: RunContext,
  started: number,
): CsvRunSummary {
  const { finished } = batch.outcome;
  return {
    ...emptyTotals(),
    rowsDone: finished.rowsDone,
    modelCalls: finished.modelCalls,
    usage: { ...finished.usage },
    ...where,
    model: context.settings.model,
    elapsedMs: performance.now() - started,
    interrupted: true,
    batch: batchFacts(batch),
  };
}

function batchFacts({ outcome, offline }: BatchPhase): CsvRunSummary["batch"] {
  return { batchesCreated: outcome.batchesCreated, rounds: outcome.rounds, jobFile: outcome.jobFile, liveBatches: outcome.liveBatches, offline };
}

/** What `--dry-run` prints: the first row's messages and an estimate for the whole input. */
export interface CsvEstimate {
  input: string;
  model: string;
  /** The exact messages of the first row's first attempt; undefined for an input with no rows. */
  firstMessages?: ChatMessage[];
  /** How the JSON would be asked for (the `mode`), with the strict schema it would send. */
  replyFormat: ReplyFormat;
  estimate: DryRunEstimate;
}

/**
 * The dry run of {@link extractCsv}: reads the input (streaming) and counts the tokens a run
 * would send, with no network call and no API key needed.
 */
export async function estimateCsv<S extends SchemaInput>(
  input: string | NodeJS.ReadableStream,
  options: Pick<ExtractCsvOptions<S>, "schema" | "schemasDir" | "instructions" | "examples" | "model" | "columns" | "maxTokens" | "delimiter" | "mode" | "batch">,
): Promise<CsvEstimate> {
  const { delimiter } = normalizeCsvOptions(input, { delimiter: options.delimiter });
  const context = await preparePrompt(options);
  const csv = await openCsv(input, { delimiter });
  const columns = selectColumns(csv, context.settings.columns);
  let firstMessages: ChatMessage[] | undefined;
  async function* records(): AsyncGenerator<InputRecord> {
    for await (const row of csv.rows) {
      const record = pick(row.record, columns);
      firstMessages ??= buildMessages(context.systemPrompt, record, context.exampleMessages);
      yield record;
    }
  }
  const { model, maxTokens } = context.settings;
  const { systemPrompt, exampleMessages, jsonSchema } = context;
  const { estimateRun } = await import("./dry-run.js");
  const estimate = await estimateRun(records(), { systemPrompt, exampleMessages, jsonSchema, model, maxTokens, batch: options.batch });
  return { input: csv.name, model, firstMessages, replyFormat: context.replyFormat, estimate };
}

/** The columns the model sees: all, or the `columns` option checked against the header. */
function selectColumns(csv: CsvInput, wanted: readonly string[] | undefined): readonly string[] {
  if (!wanted) return csv.columns;
  const missing = wanted.filter((column) => !csv.columns.includes(column));
  if (missing.length) {
    throw new ExtractError(
      "COLUMN_NOT_FOUND",
      `${csv.name} has no column ${missing.map((c) => `"${c}"`).join(", ")}. Available columns: ${csv.columns.join(", ") || "(none: the file is empty)"}.`,
      { file: csv.name, path: missing[0] },
    );
  }
  return wanted;
}

function pick(record: Record<string, string>, columns: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const column of columns) picked[column] = record[column] ?? "";
  return picked;
}

/** Opens the output file and waits until it is open, so an unwritable path fails before any call. */
async function openOutputFile(file: string): Promise<WriteStream> {
  const stream = createWriteStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", (error) =>
      reject(new ExtractError("OUTPUT_UNWRITABLE", `Cannot write ${file}: ${error.message}. Check the folder exists and is writable.`, { file, cause: error })),
    );
  });
  return stream;
}
