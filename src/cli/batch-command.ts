/**
 * `extract batch status|cancel --out out.csv`: a thin shell over `batchJobStatus()` and
 * `cancelBatchJob()`. Its flags table, usage text and parsing; main.ts dispatches to it.
 */
import { batchJobStatus, cancelBatchJob, type BatchJobOptions, type JobBatch } from "../api/batch-jobs.js";
import { parseSubcommandArgs } from "./args.js";
import { cliNamesOf, formatFlagList, setOptionsFromFlags, type FlagSpec } from "./flags.js";
import { usageError } from "./values.js";

/** The `extract batch` command's flags; what they set are `batchJobStatus()`'s options. */
export const BATCH_FLAGS: readonly FlagSpec<keyof BatchJobOptions>[] = [
  { name: "out", short: "o", type: "string", option: "out", value: "<file>", help: "the batch run's output file (its job is beside its journal)" },
  { name: "journal", type: "string", option: "journal", value: "<file>", help: "the run's journal, when not <out>.journal" },
  { name: "base-url", type: "string", option: "baseURL", value: "<url>", help: "the server the run used (default: $OPENAI_BASE_URL, else OpenAI)" },
  { name: "api-key", type: "string", option: "apiKey", value: "<key>", help: "default: $OPENAI_API_KEY (Azure: AZURE_OPENAI_* variables)" },
  { name: "help", short: "h", type: "boolean", help: "this text" },
];

/** What `extract batch` prints for each option name a library message may name. */
export const BATCH_CLI_NAMES: ReadonlyMap<string, string> = cliNamesOf(BATCH_FLAGS, { batch: "--batch" });

/** The `extract batch` command's usage text. */
export const BATCH_USAGE = `Usage: extract batch <status|cancel> --out <output> [options]

status: lists the batches of a batch run (extract ... --batch -o <output>) with their status and
request counts. cancel: cancels those not yet collected; rerun the extraction with --resume to
collect what they finished and send the rest again.

${formatFlagList(BATCH_FLAGS)}

Exit codes: 0 done; 2 usage error, no batch job, or the server refused.`;

/** `extract batch ...` (the arguments after `batch`): the text for stdout. */
export async function runBatchCommand(argv: readonly string[]): Promise<string> {
  const { values, positionals } = parseSubcommandArgs("batch", argv, BATCH_FLAGS);
  if (values.help === true) return BATCH_USAGE;
  const action = positionals[0];
  if (positionals.length !== 1 || (action !== "status" && action !== "cancel")) {
    throw usageError(`extract batch takes one action, status or cancel, got ${positionals.join(" ") || "none"}: extract batch status --out out.csv.`);
  }
  if (typeof values.out !== "string" && typeof values.journal !== "string") throw usageError("Missing --out: the output file of the batch run.");
  const options: BatchJobOptions = {};
  setOptionsFromFlags(BATCH_FLAGS, values, options);
  const batches = action === "status" ? await batchJobStatus(options) : await cancelBatchJob(options);
  return formatJobBatches(batches);
}

/** One line per batch: `batch_abc  in_progress  120/500 done, 2 failed  (part p1)`. */
export function formatJobBatches(batches: readonly JobBatch[]): string {
  if (batches.length === 0) return "The job has no batches yet.";
  return batches
    .map(({ batch, status, requests, part, collected }) =>
      `${batch}  ${status}  ${requests.completed}/${requests.total} done, ${requests.failed} failed  (part ${part}${collected ? ", collected" : ""})`,
    )
    .join("\n");
}
