import { readEnvironment } from "../config/env.js";
import { resolveConnection } from "../config/connection.js";
import { DEFAULTS, type ExtractOptions } from "../config/options.js";
import { ExtractError } from "../errors/extract-error.js";
import { jobFileOf, readJobFile } from "../run/batch/job-file.js";

/** Options of {@link batchJobStatus} and {@link cancelBatchJob}: which job, and how to reach its server. */
export interface BatchJobOptions extends Pick<ExtractOptions, "baseURL" | "apiKey" | "client" | "timeout" | "maxRetries"> {
  /** The run's output file: its journal is `<out>.journal`, as `extractCsv()` names it. */
  out?: string;
  /** The run's journal, when it was given explicitly. */
  journal?: string;
}

/** One batch of a job, as the provider reports it now. */
export interface JobBatch {
  /** The job file's part it holds. */
  part: string;
  batch: string;
  status: string;
  requests: { total: number; completed: number; failed: number };
  /** True once the run has taken its results into the journal. */
  collected: boolean;
}

/**
 * The batches a batch run (`extractCsv(..., { batch: true })`) created for the job of `out` (or
 * `journal`), each with its status and request counts as the provider reports them now.
 * @throws ExtractError `INPUT_UNREADABLE` when there is no job file for it.
 */
export async function batchJobStatus(options: BatchJobOptions): Promise<JobBatch[]> {
  const { job, api } = await open(options);
  const batches: JobBatch[] = [];
  for (const part of job.parts.values()) {
    if (!part.batch) continue;
    const batch = await api.retrieve(part.batch);
    const requests = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
    batches.push({ part: part.part, batch: batch.id, status: batch.status, requests, collected: part.closed });
  }
  return batches;
}

/**
 * Cancels the job's batches that are not collected yet and still running; a `resume` of the run
 * then collects what they finished (cancelled batches keep their partial results) and sends the rest again.
 * @returns the job's batches after the cancel requests.
 */
export async function cancelBatchJob(options: BatchJobOptions): Promise<JobBatch[]> {
  const { job, api } = await open(options);
  for (const part of job.parts.values()) {
    if (!part.batch || part.closed) continue;
    const batch = await api.retrieve(part.batch);
    if (["validating", "in_progress", "finalizing"].includes(batch.status)) await api.cancel(part.batch);
  }
  return batchJobStatus(options);
}

async function open(options: BatchJobOptions) {
  const journal = options.journal ?? (options.out ? `${options.out}.journal` : undefined);
  if (!journal) throw new ExtractError("INVALID_OPTION", "Name the run's output file (`out`) or its `journal`: its batch job is found next to it.", { path: "out" });
  const file = jobFileOf(journal);
  const job = readJobFile(file);
  if (!job) throw new ExtractError("INPUT_UNREADABLE", `No batch job at ${file}: was the run made with \`batch\` and this output?`, { file });
  const connection = resolveConnection(options, readEnvironment());
  const { createBatchApi } = await import("../engine/http/batches.js");
  const api = createBatchApi({
    model: connection.azure?.deployment ?? DEFAULTS.model,
    client: options.client,
    ...connection,
    timeout: options.timeout ?? DEFAULTS.timeout,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
  });
  return { job, api };
}
