/**
 * `extract eval OUTPUT --gold GOLD`: a thin shell over `evaluate()`. Its flags table, usage text
 * and command-line parsing; main.ts dispatches to it and prints what it returns.
 */
import { evaluate, type EvaluateOptions } from "../quality/evaluate.js";
import { parseSubcommandArgs } from "./args.js";
import { formatEvalReport } from "./eval-report-text.js";
import { cliNamesOf, formatFlagList, setOptionsFromFlags, type FlagSpec } from "./flags.js";
import { integer, number, usageError } from "./values.js";

/** The `extract eval` command's flags; what they set are `evaluate()`'s options. */
export const EVAL_FLAGS: readonly FlagSpec<keyof EvaluateOptions>[] = [
  { name: "gold", short: "g", type: "string", value: "<file>", help: "the true values: JSONL lines {\"<key>\": ..., \"data\": {...}}, or a\nCSV shaped like the output" },
  {
    name: "key",
    short: "k",
    type: "string",
    option: "key",
    value: "<column>",
    help: "the column that pairs rows (default: id if both sides have it,\nelse the one column both have, else by position)",
  },
  { name: "schema", short: "s", type: "string", option: "schema", value: "<name|path>", help: "the schema, for each field's type (default: from the gold values)" },
  {
    name: "tolerance",
    type: "string",
    multiple: true,
    option: "tolerance",
    value: "<field=n>",
    help: "a number field's largest difference still right: total=0.01;\nrepeat it or list them: total=0.01,tax=0.01",
  },
  { name: "fuzzy", type: "string", option: "fuzzy", parse: number, value: "<0..1>", help: "strings this similar count as right (default: equal after\nnormalizing case, spaces and end punctuation)" },
  { name: "worst", type: "string", option: "worst", parse: integer, value: "<n>", help: "rows listed with their differing fields (default 5)" },
  { name: "json", type: "boolean", help: "print the report as JSON, for programs" },
  { name: "help", short: "h", type: "boolean", help: "this text" },
];

/** What `extract eval` prints for each option name a library message may name. */
export const EVAL_CLI_NAMES: ReadonlyMap<string, string> = cliNamesOf(EVAL_FLAGS, { schemasDir: "$EXTRACT_SCHEMAS_DIR" });

/** The `extract eval` command's usage text. */
export const EVAL_USAGE = `Usage: extract eval <output.csv|output.jsonl> --gold <gold.jsonl|gold.csv> [options]

Scores an llm-extract output against true values written by hand: per field the accuracy,
the fill rate and, for nullable fields and arrays, precision and recall; then the overall
field accuracy, the rows exactly right, and the worst rows with the fields that differ.
A file named eval is given as ./eval.

${formatFlagList(EVAL_FLAGS)}

Exit codes: 0 the report was printed; 2 usage error or unreadable file.`;

/** `extract eval ...` (the arguments after `eval`): the text to print on stdout. */
export async function runEval(argv: readonly string[]): Promise<string> {
  const command = parseEvalCommandLine(argv);
  if (command === "help") return EVAL_USAGE;
  const report = await evaluate(command.output, command.gold, command.options);
  return command.json ? JSON.stringify(report, null, 2) : formatEvalReport(report, command.output, command.gold);
}

/** What an `extract eval` command line asks for. */
export interface EvalCommand {
  output: string;
  gold: string;
  json: boolean;
  options: EvaluateOptions;
}

/**
 * Maps the arguments after `eval` to `evaluate()`'s arguments, flag by flag from {@link EVAL_FLAGS}.
 * @throws ExtractError `INVALID_OPTION` naming the flag.
 */
export function parseEvalCommandLine(argv: readonly string[]): EvalCommand | "help" {
  const { values, positionals } = parseSubcommandArgs("eval", argv, EVAL_FLAGS);
  if (values.help === true) return "help";
  if (positionals.length !== 1) throw usageError(`extract eval takes one output file, got ${positionals.length}: extract eval OUTPUT --gold GOLD.`);
  if (typeof values.gold !== "string") throw usageError("Missing --gold: the file of true values to score the output against.");

  const options: Record<string, unknown> = {};
  setOptionsFromFlags(EVAL_FLAGS, values, options);
  if (Array.isArray(values.tolerance)) options.tolerance = tolerances(values.tolerance as string[]);
  return { output: positionals[0]!, gold: values.gold, json: values.json === true, options };
}

/** `["total=0.01", "tax=0.01,amount=1"]` -> `{ total: 0.01, tax: 0.01, amount: 1 }`. */
function tolerances(values: readonly string[]): Record<string, number> {
  const tolerance: Record<string, number> = {};
  for (const entry of values.flatMap((value) => value.split(","))) {
    const at = entry.lastIndexOf("=");
    if (at <= 0) throw usageError(`--tolerance expects field=number, e.g. total=0.01, got "${entry}".`);
    tolerance[entry.slice(0, at).trim()] = number(entry.slice(at + 1), `--tolerance ${entry.slice(0, at).trim()}=`);
  }
  return tolerance;
}
