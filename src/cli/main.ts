#!/usr/bin/env node
/**
 * The `extract` command: a thin shell over `extractCsv()`. This is the only module that prints
 * or sets exit codes. Data goes to stdout or the output file; messages go to stderr.
 */
import { readFileSync } from "node:fs";
import v8 from "node:v8";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseCommandLine, USAGE, type CliCommand } from "./args.js";
import { renderForCli } from "./render.js";
import { CLI_NAME_OF_OPTION } from "./flags.js";
import { ExtractError, redactSecrets } from "../errors/extract-error.js";
import type { CsvRunSummary } from "../api/extract-csv.js";
import { DEFAULTS } from "../config/options.js";
import { environmentSecrets, readEnvironment } from "../config/env.js";

// Start-up is part of every run's cost (a one-row run against a local server should finish as
// soon as the plainest script would): what a command does not use is not loaded. `--help` and
// `--version` load the flags table only; a run loads the pipeline; the dry run, the report and
// the subcommands load their own modules when asked for.

// A CLI run is one long stream of short-lived request objects. By default V8 lets the heap grow
// to about four times what survives a full collection before collecting again (~260 MB of RSS
// for a live set of ~35 MB); growing by at most 2x keeps the peak near 170 MB for ~3% more CPU.
// Set here, not in the library: how the heap of a user's own process behaves is theirs to decide.
v8.setFlagsFromString("--heap-growing-percent=100");

/** Exit codes, as documented in the usage text and the README. */
const EXIT = { ok: 0, rowsFailed: 1, usage: 2, interrupted: 130 } as const;

/** A command other than extraction, named by the first argument: `extract eval ...`, `extract report ...`. */
interface Subcommand {
  /** Runs with the arguments after the command's name; resolves to the text for stdout. */
  run(argv: readonly string[]): Promise<string>;
  /** How its library messages name options on the command line (see `renderForCli`). */
  cliNames: ReadonlyMap<string, string>;
}

/**
 * The subcommands. A first argument that names one is the command, never an input file: a file
 * called `eval` is given as `./eval`.
 */
const SUBCOMMANDS: Readonly<Record<string, () => Promise<Subcommand>>> = {
  eval: async () => {
    const { runEval, EVAL_CLI_NAMES } = await import("./eval-command.js");
    return { run: runEval, cliNames: EVAL_CLI_NAMES };
  },
  report: async () => {
    const { runReport, REPORT_CLI_NAMES } = await import("./report-command.js");
    return { run: runReport, cliNames: REPORT_CLI_NAMES };
  },
  batch: async () => {
    const { runBatchCommand, BATCH_CLI_NAMES } = await import("./batch-command.js");
    return { run: runBatchCommand, cliNames: BATCH_CLI_NAMES };
  },
};

async function main(argv: readonly string[]): Promise<number> {
  // As git does: a bare command is a request for the usage, but not a successful run.
  if (argv.length === 0) return print(process.stderr, USAGE, EXIT.usage);
  const command = parseCommandLine(argv);
  if (command.help) return print(process.stdout, USAGE);
  if (command.version) return print(process.stdout, version());
  if (command.dryRun) return dryRun(command);

  // First Ctrl-C: finish the rows in flight, write them, stop. Second: abort those too.
  const stop = new AbortController();
  const abort = new AbortController();
  const onSigint = () => {
    if (!stop.signal.aborted) {
      stop.abort();
      const stopping = command.options.batch ? "leaving the batches running" : "finishing the rows in flight (Ctrl-C again to abort them)";
      if (!command.quiet) process.stderr.write(`\nStopping: ${stopping}...\n`);
    } else abort.abort();
  };
  process.on("SIGINT", onSigint);

  let exitCode: number = EXIT.ok;
  try {
    for (const input of command.inputs) {
      const summary = await runOne(command, input, stop.signal, abort.signal);
      if (summary.batch?.offline?.waitingOn) continue; // an offline batch job's step: it says what to run next
      if (summary.interrupted) {
        process.stderr.write(resumeHint(summary));
        return EXIT.interrupted;
      }
      if (summary.rowsFailed > 0) exitCode = EXIT.rowsFailed;
    }
  } catch (error) {
    if (error instanceof ExtractError && error.code === "ABORTED") {
      process.stderr.write("Aborted. Rows finished before are kept in the journal: rerun with --resume to finish.\n");
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSigint);
  }
  return exitCode;
}

async function runOne(command: CliCommand, input: string, stopSignal: AbortSignal, signal: AbortSignal): Promise<CsvRunSummary> {
  const options = { ...command.options, stopSignal, signal };
  if (command.outDir) {
    await mkdir(command.outDir, { recursive: true }).catch((error: Error) => {
      throw new ExtractError("OUTPUT_UNWRITABLE", `Cannot create the output folder ${command.outDir}: ${error.message}.`, { cause: error });
    });
    const name = input === "-" ? "stdin" : path.basename(input, path.extname(input));
    options.out = path.join(command.outDir, `${name}.${options.format ?? DEFAULTS.format}`);
  }
  const [{ extractCsv }, { formatBatchProgress, formatResume, formatSummary, ProgressLine }] = await Promise.all([
    import("../api/extract-csv.js"),
    import("./progress.js"),
  ]);
  const progress = new ProgressLine(process.stderr, { enabled: process.stderr.isTTY === true && !command.quiet });
  const started = performance.now();
  try {
    const summary = await extractCsv(input, {
      ...options,
      onResume: (info) => {
        if (!command.quiet) process.stderr.write(`${formatResume(info)}\n`);
      },
      // No line to draw (quiet, or stderr not a terminal): no listener, so no event is built per row.
      onProgress: progress.enabled ? (event) => progress.update({ ...event, elapsedMs: performance.now() - started }) : undefined,
      onBatchProgress: (event) => progress.show(formatBatchProgress(event)),
    });
    progress.finish();
    if (!command.quiet) {
      const offline = summary.batch?.offline;
      // An offline batch job's step says what it read and what to run next (loaded only for one).
      const offlineText = offline && (await import("./batch-file-text.js"));
      if (offlineText) process.stderr.write(offlineText.formatResultsRead(offline));
      const waitingOn = offline?.waitingOn;
      process.stderr.write(offlineText && waitingOn ? offlineText.formatNextStep(waitingOn, summary.model, argv) : `${summary.input}: ${formatSummary(summary)}\n`);
    }
    if (command.report && !summary.interrupted) {
      const { writeReport } = await import("./report-command.js");
      await writeReport(summary.output, command.report, { schema: options.schema, schemasDir: options.schemasDir, model: summary.model, run: summary });
      if (!command.quiet) process.stderr.write(`Report: ${command.report}\n`);
    }
    return summary;
  } finally {
    progress.finish();
  }
}

/** `--dry-run`: the first row's messages and an estimate for the whole input; no network. */
async function dryRun(command: CliCommand): Promise<number> {
  const [{ estimateCsv }, { formatDryRun }] = await Promise.all([import("../api/extract-csv.js"), import("../api/dry-run.js")]);
  for (const input of command.inputs) {
    const { input: name, model, firstMessages, replyFormat, estimate } = await estimateCsv(input, command.options);
    const heading = command.inputs.length > 1 ? `== ${name}\n` : "";
    print(process.stdout, `${heading}${formatDryRun(firstMessages, estimate, model, replyFormat, renderForCli)}`);
  }
  return EXIT.ok;
}

function resumeHint(summary: CsvRunSummary): string {
  const live = summary.batch?.liveBatches ?? [];
  if (live.length > 0) {
    const out = summary.output === "stdout" || summary.output === "stream" ? "<output>" : summary.output;
    return (
      `Stopped while waiting for ${live.length === 1 ? "batch" : `${live.length} batches`} ${live.join(", ")}, which keep${live.length === 1 ? "s" : ""} running.\n` +
      `Run the same command with --resume to collect ${live.length === 1 ? "it" : "them"} (their rows are not sent again), ` +
      `or cancel: extract batch cancel --out ${out}\n`
    );
  }
  const done = `Interrupted after ${summary.rowsDone} rows of ${summary.input}.`;
  return summary.journal
    ? `${done} Run the same command with --resume to finish: finished rows are not sent again.\n`
    : `${done} Output went to ${summary.output}, so there is no journal to resume from: use -o FILE next time.\n`;
}

/** Writes `text` as whole lines; nothing at all for "" (a subcommand whose output is a file). */
function print(stream: NodeJS.WritableStream, text: string, exitCode: number = EXIT.ok): number {
  if (text !== "") stream.write(text.endsWith("\n") ? text : `${text}\n`);
  return exitCode;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** One line on stderr, naming the flags the user types where the library names options, never a secret. */
function reportError(error: unknown, apiKey: string | undefined, cliNames: ReadonlyMap<string, string>): number {
  const secrets = [apiKey, ...environmentSecrets(readEnvironment())];
  if (error instanceof ExtractError) {
    const message = renderForCli(error.message, cliNames);
    process.stderr.write(`extract: ${error.code}: ${redactSecrets(message, secrets)}\n`);
    return EXIT.usage;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`extract: internal error (please report it): ${redactSecrets(text, secrets)}\n`);
  return EXIT.usage;
}

const argv = process.argv.slice(2);
const loadSubcommand = argv[0] !== undefined && Object.hasOwn(SUBCOMMANDS, argv[0]) ? SUBCOMMANDS[argv[0]] : undefined;
let subcommand: Subcommand | undefined;
(loadSubcommand
  ? loadSubcommand().then((loaded) => (subcommand = loaded).run(argv.slice(1)).then((text) => print(process.stdout, text)))
  : main(argv)
).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportError(error, apiKeyFlag(argv), subcommand?.cliNames ?? CLI_NAME_OF_OPTION);
  },
);

/** The --api-key value, if any, so that it can be scrubbed from messages. */
function apiKeyFlag(args: readonly string[]): string | undefined {
  const at = args.findIndex((arg) => arg === "--api-key" || arg.startsWith("--api-key="));
  if (at === -1) return undefined;
  return args[at]!.includes("=") ? args[at]!.slice("--api-key=".length) : args[at + 1];
}
