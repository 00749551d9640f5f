import { readFileSync } from "node:fs";
import path from "node:path";
import type { ExtractOptions } from "../config/options.js";
import type { OfflineBatchSettings } from "../config/batch-options.js";
import type { InputRecord } from "../core/prompt.js";
import { createBatchFilesApi, requestFileOf } from "../engine/batch-files.js";
import type { BatchApi } from "../engine/http/batches.js";
import { tokenLimitFieldFor } from "../engine/http/chat-body.js";
import type { ChatEngine } from "../engine/types.js";
import { ExtractError } from "../errors/extract-error.js";
import { jobFileOf, readJobFile, type JobState } from "../run/batch/job-file.js";
import { checkResultsFile, type ResultsCount } from "../run/batch/results-file.js";
import { preparePrompt, prepareRun, type RunContext } from "../run/context.js";
import { rowKey } from "../run/journal.js";

// An offline batch job (`batchFile`, `batchResults`): the batch runner over local files instead
// of the Batch API, for vLLM's `run-batch` or any runner of the Batch format. Each run writes one
// round's request file and stops; the next reads that round's results back and writes the next
// round's file, or, once every row is done, lets the output be written.

/** What an offline run read and where it stands. */
export interface OfflineBatchFacts {
  /** The results file read, and what it held for the requests waited on. */
  resultsRead?: ResultsCount & { file: string };
  /** The request file the job now waits on (its results are for the next run): rows in it and its round. */
  waitingOn?: { requestFile: string; requests: number; round: number };
}

/** The Files/Batches calls of an offline run, and whether it resumes the job. */
export interface OfflineBatch {
  api: BatchApi;
  resume: boolean;
  resultsRead?: OfflineBatchFacts["resultsRead"];
}

/**
 * Sets up an offline run: with `batchResults`, the job in the journal's job file must wait on a
 * request file (written by `batchFile`) for the same rows and settings, and the results file is
 * checked whole before anything of it is used.
 * @throws ExtractError `INVALID_OPTION` for a results file with no job to read it into,
 * `INPUT_UNREADABLE` for a results file that cannot be read or is not this job's (file and line).
 */
export function prepareOfflineBatch(
  context: RunContext,
  records: readonly (InputRecord | ExtractError)[],
  settings: OfflineBatchSettings,
  options: { journal: string; resume?: boolean },
): OfflineBatch {
  const { model, connection } = context.settings;
  const api = (requestFile: string, resultsFile?: string) =>
    createBatchFilesApi({
      model,
      requestFile,
      resultsFile,
      tokenLimitField: tokenLimitFieldFor(connection.baseURL ?? ""),
      errors: { model, baseURL: resultsFile ?? requestFile, maxRetries: 0, secrets: connection.secrets },
    });
  const { resultsFile } = settings;
  if (resultsFile === undefined) return { api: api(path.resolve(settings.requestFile!)), resume: options.resume ?? false };

  const job = readJobFile(jobFileOf(options.journal));
  const open = job ? [...job.parts.values()].filter((part) => !part.closed) : [];
  if (!job || open.length === 0) {
    const why = job
      ? "the results of its last request file were read already (to write the next round's file after a crash, give `batchFile` with `resume`)"
      : "no request file was written for it: write one first with `batchFile`";
    throw new ExtractError("INVALID_OPTION", `\`batchResults\`: the job of ${options.journal} waits on no results: ${why}.`, { path: "batchResults" });
  }
  const online = open.find((part) => !part.batch || requestFileOf(part.batch) === undefined);
  if (online) {
    throw new ExtractError("INVALID_OPTION", `\`batchResults\`: the job of ${options.journal} sent its rows to the Batch API (${online.batch ?? "a batch being created"}): collect them with \`resume\`.`, {
      path: "batchResults",
    });
  }
  checkSameRows(job, records, context.fingerprint);
  let text: string;
  try {
    text = readFileSync(resultsFile, "utf8");
  } catch (error) {
    throw new ExtractError("INPUT_UNREADABLE", `Cannot read the results file ${resultsFile}: ${(error as Error).message}.`, { file: resultsFile, cause: error });
  }
  const resultsRead = { file: resultsFile, ...checkResultsFile(text, resultsFile, job) };
  const last = requestFileOf(open.at(-1)!.batch!)!;
  const next = settings.requestFile === undefined ? nextRoundFile(last, job.parts.size + 1) : path.resolve(settings.requestFile);
  return { api: api(next, resultsFile), resume: true, resultsRead };
}

/**
 * The rows a job waits on must be this input's, under this run's settings (schema, prompt,
 * model, mode): else the results would be read into other rows, or not at all.
 */
function checkSameRows(job: JobState, records: readonly (InputRecord | ExtractError)[], fingerprint: string): void {
  for (const part of job.parts.values()) {
    if (part.closed) continue;
    for (const row of part.rows) {
      const record = records[row.i];
      if (record === undefined || record instanceof ExtractError || rowKey(fingerprint, record) !== row.k) {
        throw new ExtractError(
          "INVALID_OPTION",
          `\`batchResults\`: the request file ${part.file} was written for other rows or settings (input row ${row.i + 1} differs). ` +
            "Give the same input, schema, `model`, `mode` and `instructions` as the run with `batchFile`.",
          { path: "batchResults" },
        );
      }
    }
  }
}

/** What the job waits on after a run: the request file of its open part, if any. */
export function offlineWaitingOn(journal: string): OfflineBatchFacts["waitingOn"] {
  const job = readJobFile(jobFileOf(journal));
  if (!job) return undefined;
  let round = 0;
  for (const part of job.parts.values()) {
    round++;
    const requestFile = part.batch && requestFileOf(part.batch);
    if (!part.closed && requestFile) return { requestFile, requests: part.rows.length, round };
  }
  return undefined;
}

/** The request file of a later round, beside the first: `requests.jsonl` -> `requests.round2.jsonl`. */
export function nextRoundFile(previous: string, round: number): string {
  const extension = path.extname(previous);
  const stem = previous.slice(0, previous.length - extension.length).replace(/\.round\d+$/, "");
  return `${stem}.round${round}${extension}`;
}

/** Where to suggest the results of a request file go: `requests.jsonl` -> `requests.results.jsonl`. */
export function resultsFileFor(requestFile: string): string {
  const extension = path.extname(requestFile) || ".jsonl";
  return `${requestFile.slice(0, requestFile.length - path.extname(requestFile).length)}.results${extension}`;
}

/**
 * The run context of an offline job: an engine that makes no call (no key, no server), since
 * every answer comes from a results file; unless `batchFinish` is "sync", whose re-asks are calls
 * and need the configured server.
 */
export async function prepareOfflineRun(options: Omit<ExtractOptions, "onProgress"> & { batchFinish?: string }): Promise<RunContext> {
  if (options.batchFinish === "sync" || options.engine) return prepareRun(options);
  const prompt = await preparePrompt(options);
  const engine: ChatEngine = {
    model: prompt.settings.model,
    complete: () => Promise.reject(new ExtractError("INVALID_OPTION", 'An offline batch job (`batchFile`, `batchResults`) makes no model call: for calls, give `batchFinish` "sync" and a server.')),
  };
  return { ...prompt, engine, close: async () => undefined };
}
