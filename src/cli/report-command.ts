/**
 * `extract report OUTPUT -o report.html`: a thin shell over `createReport()`. Its flags table,
 * usage text and command-line parsing, and the writing of the page (also for `--report` on a
 * run); main.ts dispatches to it.
 */
import { writeFile } from "node:fs/promises";
import { ExtractError } from "../errors/extract-error.js";
import { createReport, type ReportOptions } from "../quality/report.js";
import { parseSubcommandArgs } from "./args.js";
import { cliNamesOf, formatFlagList, setOptionsFromFlags, type FlagSpec } from "./flags.js";
import { integer, usageError } from "./values.js";

/** The `extract report` command's flags; what they set are `createReport()`'s options. */
export const REPORT_FLAGS: readonly FlagSpec<keyof ReportOptions>[] = [
  { name: "out", short: "o", type: "string", value: "<report.html>", help: "where to write the report (required)" },
  {
    name: "schema",
    short: "s",
    type: "string",
    option: "schema",
    value: "<name|path>",
    help: "the run's schema: needed for a CSV output; for JSONL, fields\nare read from the records without it",
  },
  { name: "model", short: "m", type: "string", option: "model", value: "<name>", help: "the run's model, to estimate the cost of its tokens" },
  { name: "gold", type: "string", option: "gold", value: "<gold.jsonl|gold.csv>", help: "a gold file: each field also shows its accuracy (see extract eval)" },
  { name: "key", type: "string", option: "key", value: "<column>", help: "the column rows are matched to the gold file by (default: id)" },
  { name: "max-rows", type: "string", option: "maxRows", parse: integer, value: "<n>", help: "rows embedded for the row browser (default 5000)" },
  { name: "help", short: "h", type: "boolean", help: "this text" },
];

/** What `extract report` prints for each option name a library message may name. */
export const REPORT_CLI_NAMES: ReadonlyMap<string, string> = cliNamesOf(REPORT_FLAGS, { schemasDir: "$EXTRACT_SCHEMAS_DIR" });

/** The `extract report` command's usage text. */
export const REPORT_USAGE = `Usage: extract report <output.jsonl|output.csv> -o report.html [--gold GOLD] [options]

Writes one self-contained HTML page about an llm-extract output file: totals, each field's fill
and ungrounded rates, failures by error code, and a row browser that highlights where each value
was found in the row's source text (JSONL outputs). Opens from disk; makes no request.
A file named report is given as ./report.

${formatFlagList(REPORT_FLAGS)}

Exit codes: 0 the report was written; 2 usage error or unreadable file.`;

/** `extract report ...` (the arguments after `report`): writes the page; the text for stdout is its usage or nothing. */
export async function runReport(argv: readonly string[]): Promise<string> {
  const { values, positionals } = parseSubcommandArgs("report", argv, REPORT_FLAGS);
  if (values.help === true) return REPORT_USAGE;
  if (positionals.length !== 1) throw usageError(`extract report takes one output file, got ${positionals.length}: extract report out.jsonl -o report.html.`);
  if (typeof values.out !== "string") throw usageError("Missing -o: where to write the report, e.g. -o report.html.");
  const options: ReportOptions = {};
  setOptionsFromFlags(REPORT_FLAGS, values, options);
  await writeReport(positionals[0]!, values.out, options);
  return "";
}

/**
 * Writes the report of `output` to `file`.
 * @throws ExtractError `OUTPUT_UNWRITABLE` naming the file, and `createReport()`'s errors.
 */
export async function writeReport(output: string, file: string, options: ReportOptions): Promise<void> {
  const html = await createReport(output, options);
  await writeFile(file, html).catch((error: Error) => {
    throw new ExtractError("OUTPUT_UNWRITABLE", `Cannot write the report ${file}: ${error.message}.`, { file, cause: error });
  });
}
