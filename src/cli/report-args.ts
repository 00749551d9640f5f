import { parseArgs } from "node:util";
import type { ReportOptions } from "../quality/report.js";
import { formatFlagList, parseArgsOptions, REPORT_FLAGS, setOptionsFromFlags } from "./flags.js";
import { usageError } from "./values.js";

/** The usage text of `extract report`. */
export const REPORT_USAGE = `Usage: extract report <output.jsonl|output.csv> -o report.html [options]

Writes one self-contained HTML page about an llm-extract output file: totals, each field's fill
and ungrounded rates, failures by error code, and a row browser that highlights where each value
was found in the row's source text (JSONL outputs). Opens from disk; makes no request.

${formatFlagList(REPORT_FLAGS)}`;

/** What `extract report ...` asks for. */
export interface ReportCommand {
  help: boolean;
  /** The output file to report on. */
  output: string;
  /** Where the HTML goes. */
  out: string;
  options: ReportOptions;
}

/**
 * Maps the arguments after `report` to {@link ReportOptions}, from the table in flags.ts.
 * @throws ExtractError `INVALID_OPTION` naming the flag.
 */
export function parseReportCommand(argv: readonly string[]): ReportCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: parseArgsOptions(REPORT_FLAGS) });
  } catch (error) {
    throw usageError(`${(error as Error).message}. Run extract report --help for the flags.`);
  }
  const { values, positionals } = parsed;
  const command: ReportCommand = { help: values.help === true, output: positionals[0] ?? "", out: typeof values.out === "string" ? values.out : "", options: {} };
  if (command.help) return command;
  if (positionals.length !== 1) throw usageError(`extract report takes one output file, got ${positionals.length}: extract report out.jsonl -o report.html.`);
  if (!command.out) throw usageError("Missing -o: where to write the report, e.g. -o report.html.");
  setOptionsFromFlags(REPORT_FLAGS, values, command.options);
  return command;
}
