import path from "node:path";
import { resultsFileFor, type OfflineBatchFacts } from "../api/batch-offline.js";

// What the CLI says after a run of an offline batch job (`--batch-file`, `--batch-results`):
// what it read, what it wrote, and the two commands to run next.

/** Flags that say which step of an offline job a command is: left out of the next command. */
const STEP_FLAGS = new Set(["--batch-file", "--batch-results", "--resume"]);
const VALUED = new Set(["--batch-file", "--batch-results"]);

/**
 * `Read requests.results.jsonl: 118 of 120 requests answered (2 missing: asked again).`
 * A results file read, as one line; "" when the run read none.
 */
export function formatResultsRead(facts: OfflineBatchFacts | undefined): string {
  const read = facts?.resultsRead;
  if (!read) return "";
  const asked = read.answered + read.missing;
  const missing = read.missing > 0 ? ` (${read.missing} missing: asked again)` : "";
  return `Read ${shown(read.file)}: ${read.answered} of ${asked} ${asked === 1 ? "request" : "requests"} answered${missing}.\n`;
}

/**
 * The request file the job now waits on, and the commands that go on: vLLM's `run-batch` for it,
 * then the same `extract` command (`argv`, its step flags replaced) with `--batch-results`.
 */
export function formatNextStep(waitingOn: NonNullable<OfflineBatchFacts["waitingOn"]>, model: string, argv: readonly string[]): string {
  const requests = shown(waitingOn.requestFile);
  const results = resultsFileFor(requests);
  const what = waitingOn.round === 1 ? "" : ": re-asks with the validator's feedback, and requests missing from the results";
  return (
    `Wrote ${waitingOn.requests} ${waitingOn.requests === 1 ? "request" : "requests"} (round ${waitingOn.round}) to ${requests}${what}. No model was called.\n` +
    "Run them, then read the results back:\n" +
    `  vllm run-batch -i ${quote(requests)} -o ${quote(results)} --model ${quote(model)}\n` +
    `  extract ${[...withoutStepFlags(argv), "--batch-results", results].map(quote).join(" ")}\n`
  );
}

function withoutStepFlags(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split("=", 1)[0]!;
    if (!STEP_FLAGS.has(name)) kept.push(arg);
    else if (VALUED.has(name) && !arg.includes("=")) i++; // its value
  }
  return kept;
}

/** A path as the user would type it: relative to the working directory when it is under it. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

/** A word for a POSIX shell: as it is when it is safe, else in single quotes. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
