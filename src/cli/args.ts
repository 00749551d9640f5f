import { statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { ExtractCsvOptions } from "../api/extract-csv.js";
import { FLAGS, flagOf, formatFlagList, parseArgsOptions, setOptionsFromFlags, type AnyFlagSpec } from "./flags.js";
import { closestName } from "./suggest.js";
import { usageError } from "./values.js";

/** The `extract` command's usage text. */
export const USAGE = `Usage: extract <input.csv ...|-> --schema <name|path> [-o out.csv|out.jsonl|DIR/] [options]

Turns each CSV row into one record of the schema's shape with a language model, and writes
the input columns, one column per schema field, and _error (empty when the row succeeded).

${formatFlagList()}

Also: extract eval <output> --gold <gold>   score an output against true values
      extract report <output> -o report.html  an HTML report of an output
      extract batch status|cancel --out <output>  the batches of a --batch run
      (extract eval --help, extract report --help, extract batch --help for their flags;
      an input file named eval, report or batch is given as ./eval, ./report or ./batch)

Exit codes: 0 every row ok; 1 some rows failed (they are in the output, with _error);
2 usage or configuration error; 130 interrupted (rerun with --resume to finish).`;

/** What the command line asks for. */
export interface CliCommand {
  help: boolean;
  version: boolean;
  dryRun: boolean;
  quiet: boolean;
  inputs: string[];
  /** One output per input in this folder (from `-o DIR/`). */
  outDir?: string;
  /** Where to write the HTML report of the output after the run (`--report`). */
  report?: string;
  options: ExtractCsvOptions;
}

/**
 * Maps argv to library options, flag by flag from the table in flags.ts. Checks only what the
 * library cannot (flag syntax, numbers, durations, files named by flags); ranges are checked
 * once, by the library.
 * @throws ExtractError `INVALID_OPTION` with the flag's name.
 */
export function parseCommandLine(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, allowNegative: true, options: parseArgsOptions() });
  } catch (error) {
    throw usageError(`${explainMistake(argv) ?? `${(error as Error).message}.`} Run extract --help for the flags.`);
  }
  const { values, positionals } = parsed;
  const command: CliCommand = {
    help: values.help === true,
    version: values.version === true,
    dryRun: values["dry-run"] === true,
    quiet: values.quiet === true,
    inputs: positionals,
    options: { schema: "" },
  };
  if (command.help || command.version) return command;
  if (!values.schema) throw usageError("Missing --schema: name a schema in ./schemas (e.g. --schema ticket) or give a path.");
  if (positionals.length === 0) throw usageError("Missing input: give one or more CSV files, or - for stdin.");

  setOptionsFromFlags(FLAGS, values, command.options);

  const out = command.options.out;
  if (typeof out === "string" && (out.endsWith("/") || out.endsWith(path.sep) || isDirectory(out))) {
    command.outDir = out;
    delete command.options.out;
  }
  if (positionals.length > 1 && !command.outDir) {
    throw usageError(`${positionals.length} inputs need an output folder: -o DIR/ writes one output per input.`);
  }
  if (positionals.filter((input) => input === "-").length > 1) throw usageError("stdin (-) can be read only once.");
  if (typeof values.report === "string") {
    if (typeof command.options.out !== "string") throw usageError("--report needs -o FILE: the report is made from the output file.");
    command.report = values.report;
  }
  return command;
}

/**
 * The arguments after a subcommand's name (`extract eval ...`), parsed against its flags table.
 * @throws ExtractError `INVALID_OPTION` saying what is wrong in the terms of those flags, and
 * pointing at `extract <name> --help`.
 */
export function parseSubcommandArgs(name: string, argv: readonly string[], flags: readonly AnyFlagSpec[]) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options: parseArgsOptions(flags) });
  } catch (error) {
    throw usageError(`${explainMistake(argv, flags) ?? `${(error as Error).message}.`} Run extract ${name} --help for the flags.`);
  }
}

/**
 * What is wrong with a command line that parseArgs refused, said in the terms of our flags:
 * an unknown flag (with the closest known one), a flag without its value, or a value given to
 * a flag that takes none. Undefined when it is none of these: parseArgs' own message is kept.
 */
export function explainMistake(argv: readonly string[], flags: readonly AnyFlagSpec[] = FLAGS): string | undefined {
  const { tokens } = parseArgs({ args: [...argv], allowPositionals: true, allowNegative: true, strict: false, tokens: true, options: parseArgsOptions(flags) });
  const known = new Map(flags.map((spec) => [spec.name, spec]));
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = known.get(token.name);
    const negative = token.rawName.startsWith("--no-") && !token.rawName.startsWith(`--${token.name}`);
    // A `no-` flag of its own (--no-examples) negates a string flag.
    const negatable = spec?.type === "boolean" || known.get(`no-${token.name}`)?.type === "boolean";
    if (!spec || (negative && !negatable)) return unknownFlag(token.rawName, flags);
    if (negative && spec.type === "string") continue;
    if (spec.type === "string" && (token.value === undefined || (!token.inlineValue && token.value.startsWith("-") && token.value !== "-"))) {
      return missingValue(spec, token.rawName, token.value);
    }
    if (spec.type === "boolean" && token.inlineValue) return `${token.rawName} takes no value, got ${token.rawName}=${token.value}.`;
  }
  return undefined;
}

function unknownFlag(typed: string, flags: readonly AnyFlagSpec[]): string {
  const candidates = flags.flatMap((spec) => [flagOf(spec), ...(spec.short ? [`-${spec.short}`] : [])]);
  // One-letter flags are too close to each other for a guess to help.
  const guess = typed.startsWith("--") ? closestName(typed, candidates.filter((flag) => flag.startsWith("--"))) : undefined;
  return `Unknown flag ${typed}.${guess ? ` Did you mean ${guess}?` : ""}`;
}

function missingValue(spec: AnyFlagSpec, typed: string, next: string | undefined): string {
  const example = `${typed} ${spec.value ?? "<value>"}`;
  if (next === undefined) return `${typed} needs a value: ${example}.`;
  return `${typed} needs a value, but ${next} follows it: ${example} (to give a value that starts with -, write ${typed}=VALUE).`;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
