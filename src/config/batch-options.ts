import { ExtractError } from "../errors/extract-error.js";
import { DEFAULTS, invalidOption } from "./options.js";

// The options of batch runs: through the Batch API, or offline through request and result files
// (vLLM's run-batch); their defaults stay in DEFAULTS with every other option's.

/** What a batch run reports while it waits: each live batch's status and request counts. */
export interface BatchProgressEvent {
  /** Rounds submitted so far: the first calls, then each round of re-asks. */
  round: number;
  /** Distinct rows finished so far (reused ones included) and distinct rows in the job. */
  rowsDone: number;
  rowsTotal: number;
  batches: { id: string; status: string; completed: number; failed: number; total: number }[];
}

/**
 * Options of a batch run (`extractCsv(..., { batch: true })`, `extractBatch()`): rows go to the
 * provider's Batch API (half the price, results within 24 h) instead of one call each.
 */
export interface BatchOptions {
  /** Send the rows through the Batch API. @default false */
  batch?: boolean;
  /**
   * How re-asks after the first batch are made: `batch` (another batch per round, at batch
   * prices) or `sync` (synchronous calls, so the last rows do not wait another day). @default "batch"
   */
  batchFinish?: "batch" | "sync";
  /** Keep the uploaded request files and the result files instead of deleting them after collection. @default false */
  keepBatchFiles?: boolean;
  /** Milliseconds between two looks at the live batches. @default 30000 */
  batchPoll?: number;
  /** Called after each look at the live batches. */
  onBatchProgress?: (event: BatchProgressEvent) => void;
}

/**
 * Options of an offline batch job (`extractCsv()` only): the request lines go to a file instead of
 * the Batch API, for a runner such as vLLM's `run-batch`, and its results file is read back.
 * Either one implies `batch`; the job's state is kept beside the journal between the runs.
 */
export interface OfflineBatchOptions {
  /**
   * Write the request lines of the next round to this file (JSON Lines, one Chat Completions
   * request per row: `{custom_id, method, url: "/v1/chat/completions", body}`) and stop, with no
   * network call and no API key. With `batchResults`, where the next round's file goes.
   * @default with `batchResults`: beside the last request file, `<name>.round<N>.jsonl`
   */
  batchFile?: string;
  /**
   * Read a results file for the request file the job waits on (lines `{id, custom_id, response,
   * error}`, any order), then write the next round's request file or, once every row is done,
   * the output.
   */
  batchResults?: string;
}

/** Offline batch options after checks: undefined when neither is given. */
export interface OfflineBatchSettings {
  requestFile?: string;
  resultsFile?: string;
}

/**
 * Checks `batchFile` and `batchResults`; undefined when the job is not an offline one.
 * @throws ExtractError `INVALID_OPTION`
 */
export function normalizeOfflineBatchOptions(options: OfflineBatchOptions): OfflineBatchSettings | undefined {
  const { batchFile, batchResults } = options;
  if (batchFile === undefined && batchResults === undefined) return undefined;
  if (batchFile !== undefined && !(typeof batchFile === "string" && batchFile !== "")) throw invalidOption("batchFile", "a file path", batchFile);
  if (batchResults !== undefined && !(typeof batchResults === "string" && batchResults !== "")) throw invalidOption("batchResults", "a file path", batchResults);
  if (batchFile !== undefined && batchFile === batchResults) {
    throw new ExtractError("INVALID_OPTION", `\`batchFile\` and \`batchResults\` name the same file (${batchFile}): the results must not overwrite the requests.`, { path: "batchFile" });
  }
  return { requestFile: batchFile, resultsFile: batchResults };
}

/** Batch options after defaults and checks. */
export interface BatchSettings {
  finish: "batch" | "sync";
  keepFiles: boolean;
  pollMs: number;
}

/**
 * Applies defaults to the batch options and rejects bad values, naming the option.
 * @throws ExtractError `INVALID_OPTION`
 */
export function normalizeBatchOptions(options: BatchOptions): BatchSettings {
  const finish = options.batchFinish ?? DEFAULTS.batchFinish;
  if (finish !== "batch" && finish !== "sync") throw invalidOption("batchFinish", '"batch" or "sync"', options.batchFinish);
  const pollMs = options.batchPoll ?? DEFAULTS.batchPoll;
  if (!(typeof pollMs === "number" && Number.isFinite(pollMs) && pollMs >= 0)) throw invalidOption("batchPoll", "a number of milliseconds from 0 and up", options.batchPoll);
  const keepFiles = options.keepBatchFiles ?? false;
  if (typeof keepFiles !== "boolean") throw invalidOption("keepBatchFiles", "true or false", options.keepBatchFiles);
  return { finish, keepFiles, pollMs };
}
