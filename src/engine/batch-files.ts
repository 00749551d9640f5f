import { readFileSync, writeFileSync } from "node:fs";
import { ExtractError } from "../errors/extract-error.js";
import type { ErrorContext } from "./http/api-errors.js";
import type { Batch, BatchApi } from "./http/batches.js";
import type { TokenLimitField } from "./http/chat-body.js";

// The Batch API's part of a job done with local files, for a runner outside this process
// (vLLM's `run-batch`): "uploading" writes the request file, a batch is that file waiting for
// its results, and a later run, given the results file, finds the batch completed with it as
// its output. Nothing is deleted: the files are the user's.

/** Options of {@link createBatchFilesApi}. */
export interface BatchFilesOptions {
  /** The `model` of each line: the name the runner serves the model under. */
  model: string;
  tokenLimitField: TokenLimitField;
  /** Where this run writes its round's request lines (one file per round). */
  requestFile: string;
  /** The results of the request file the job waits on; undefined when there are none yet. */
  resultsFile?: string;
  /** How error lines are mapped and scrubbed. */
  errors: ErrorContext;
}

/** The batch id of a request file: the file, named. */
const ID_PREFIX = "file:";

/** The batch id that stands for a request file. */
export function fileBatchId(requestFile: string): string {
  return `${ID_PREFIX}${requestFile}`;
}

/** The request file a batch id of {@link fileBatchId} stands for; undefined for a Batch API batch. */
export function requestFileOf(batchId: string): string | undefined {
  return batchId.startsWith(ID_PREFIX) ? batchId.slice(ID_PREFIX.length) : undefined;
}

/**
 * A {@link BatchApi} over local files (`offline`): `upload` writes `requestFile`, `create` makes
 * its batch, and `retrieve` says a batch made by this run is `in_progress` (the runner then stops)
 * and one made by an earlier run `completed`, with `resultsFile` as its output.
 * @throws ExtractError `OUTPUT_UNWRITABLE` / `INPUT_UNREADABLE` from the calls, naming the file.
 */
export function createBatchFilesApi(options: BatchFilesOptions): BatchApi {
  const madeHere = new Set<string>();
  const batchOf = (id: string, status: Batch["status"], output?: string): Batch => ({
    id,
    object: "batch",
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
    created_at: 0,
    input_file_id: requestFileOf(id) ?? id,
    status,
    output_file_id: output,
    error_file_id: undefined,
  });
  return {
    url: "/v1/chat/completions",
    lineModel: options.model,
    tokenLimitField: options.tokenLimitField,
    azure: false,
    offline: true,
    errors: options.errors,
    async upload(_name, text) {
      const file = options.requestFile;
      try {
        writeFileSync(file, text);
      } catch (error) {
        throw new ExtractError("OUTPUT_UNWRITABLE", `Cannot write the request file ${file}: ${(error as Error).message}.`, { file, cause: error });
      }
      return file;
    },
    async create(inputFileId) {
      const id = fileBatchId(inputFileId);
      madeHere.add(id);
      return batchOf(id, "in_progress");
    },
    async retrieve(batchId) {
      if (madeHere.has(batchId) || options.resultsFile === undefined) return batchOf(batchId, "in_progress");
      return batchOf(batchId, "completed", options.resultsFile);
    },
    // A file batch is made in one step, so a run never dies between creating it and noting it.
    find: async () => undefined,
    // Nothing runs here to cancel: the batch stays as it is.
    cancel: async (batchId) => batchOf(batchId, "in_progress"),
    async content(fileId) {
      try {
        return readFileSync(fileId, "utf8");
      } catch (error) {
        throw new ExtractError("INPUT_UNREADABLE", `Cannot read ${fileId}: ${(error as Error).message}.`, { file: fileId, cause: error });
      }
    },
    remove: async () => undefined,
  };
}
