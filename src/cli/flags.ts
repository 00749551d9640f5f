/**
 * The one table of the `extract` command's flags. The parseArgs configuration, the flag list of
 * the usage text, the option each flag sets (and so how library messages are rendered for the
 * command line) and typo suggestions all come from it: a flag is added here and nowhere else.
 */
import type { ExtractCsvOptions } from "../api/extract-csv.js";
import { outputFormat } from "../config/csv-options.js";
import { columnList, duration, instructions, integer, number } from "./values.js";

/** One flag of a command; `Option` names the library options it may set (the `extract` command's by default). */
export interface FlagSpec<Option extends string = keyof ExtractCsvOptions & string> {
  /** The long name as typed, without dashes: `max-tokens`. */
  name: string;
  /** A one-letter alias: `c` for `-c`. */
  short?: string;
  type: "string" | "boolean";
  /** A string flag that may be given more than once; its values come as a list. */
  multiple?: boolean;
  /**
   * The library option the flag sets. Library messages name this option in backticks
   * (`maxTokens`); the CLI prints the flag (--max-tokens) in its place.
   */
  option?: Option;
  /** Turns the typed text into the option's value; throws `INVALID_OPTION` naming the flag. Default: the text as is. */
  parse?: (value: string, flag: string) => unknown;
  /** The value's placeholder in the usage text: `<n>`. */
  value?: string;
  /** A boolean that is on by default, so only its `--no-` form is listed and meant. */
  negated?: boolean;
  /** The usage text's description; each further line is a continuation line. */
  help: string;
}

/** A flag of any command's table, for the code that works on every table. */
export type AnyFlagSpec = FlagSpec<string>;

/** Every flag, in the order the usage text lists them. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: "schema",
    short: "s",
    type: "string",
    option: "schema",
    value: "<name|path>",
    help: "a schema in ./schemas (or $EXTRACT_SCHEMAS_DIR) by name, or a\n.ts/.mts/.js/.mjs/.json file",
  },
  {
    name: "out",
    short: "o",
    type: "string",
    option: "out",
    value: "<file|dir/>",
    help: "output file; .csv or .jsonl picks the format; DIR/ writes one\noutput per input; default: CSV to stdout",
  },
  { name: "format", short: "f", type: "string", option: "format", parse: outputFormat, value: "<csv|jsonl>", help: "output format, when the -o extension does not say" },
  {
    name: "model",
    short: "m",
    type: "string",
    option: "model",
    value: "<name>",
    help: "default: $EXTRACT_MODEL, else gpt-4o-mini; local:FILE.gguf or an\nhf: URI runs the model in this process (needs node-llama-cpp)",
  },
  {
    name: "mode",
    type: "string",
    option: "mode",
    // Checked by the library (INVALID_OPTION naming the allowed modes), like every other range.
    value: "<mode>",
    help:
      "how the JSON is asked for: json_object (default; JSON mode,\nthe most widely supported), json_schema (strict Structured\n" +
      "Outputs; optional fields must be .nullable()) or tools (a\nforced function call, for servers without response_format)",
  },
  { name: "concurrency", short: "c", type: "string", option: "concurrency", parse: integer, value: "<n>", help: "requests in flight (default 8)" },
  { name: "max-attempts", type: "string", option: "maxAttempts", parse: integer, value: "<n>", help: "model calls per row, re-asks included (default 3)" },
  {
    name: "coerce",
    type: "boolean",
    option: "coerce",
    negated: true,
    help: 'ask again instead of reading loose values as the schema\'s type\n("123 USD" as 123, "yes" as true, "High" as "high")',
  },
  { name: "columns", type: "string", option: "columns", parse: columnList, value: "<a,b,...>", help: "input columns sent to the model (default: all)" },
  { name: "instructions", type: "string", option: "instructions", parse: instructions, value: "<text|@file>", help: "extra instructions for the model" },
  {
    name: "examples",
    type: "string",
    option: "examples",
    value: "<file.jsonl>",
    help: 'more few-shot examples, one {"input": {...}, "output": {...}}\nper line, after the schema\'s own (<schema>.examples.jsonl)',
  },
  // Read by parseArgs as `examples: false` (its allowNegative strips the `no-`), which turns every example off.
  { name: "no-examples", type: "boolean", help: "send no few-shot examples, not even the schema's" },
  { name: "resume", type: "boolean", option: "resume", help: "reuse rows an earlier run of the same job finished (needs -o)" },
  {
    name: "batch",
    type: "boolean",
    option: "batch",
    help: "send the rows through the Batch API: half the price, results\nwithin 24 h; needs -o FILE to resume (--resume re-attaches to\nthe live batches)",
  },
  {
    name: "batch-finish",
    type: "string",
    option: "batchFinish",
    value: "<batch|sync>",
    help: "re-asks after the first batch: another batch per round\n(default), or sync calls so the last rows do not wait a day",
  },
  { name: "batch-poll", type: "string", option: "batchPoll", parse: duration, value: "<duration>", help: "time between looks at the live batches (default 30s)" },
  { name: "keep-batch-files", type: "boolean", option: "keepBatchFiles", help: "keep the uploaded and result files (default: deleted once\ncollected)" },
  {
    name: "batch-file",
    type: "string",
    option: "batchFile",
    value: "<file.jsonl>",
    help: "write the batch request lines to a file (for vllm run-batch)\nand stop: no call, no API key; needs -o FILE",
  },
  {
    name: "batch-results",
    type: "string",
    option: "batchResults",
    value: "<file.jsonl>",
    help: "read a run-batch results file back: writes the next round's\nrequest file (re-asks), or the output once every row is done",
  },
  { name: "dry-run", type: "boolean", help: "print the first row's messages and a token/cost estimate; no calls" },
  { name: "report", type: "string", value: "<file.html>", help: "after the run, write an HTML report of the output (needs -o FILE;\na .jsonl output shows where each value is in the source)" },
  {
    name: "strict",
    type: "boolean",
    option: "strict",
    help: "stop at the first malformed CSV row (exit 2) instead of writing\nit as a failed row and reading on",
  },
  { name: "skip-bad-rows", type: "boolean", option: "skipBadRows", help: "deprecated, does nothing: malformed rows are failed rows by default" },
  { name: "formula-guard", type: "boolean", option: "formulaGuard", negated: true, help: "write cells starting with = + - @ as they are (CSV output)" },
  {
    name: "grounding",
    type: "boolean",
    option: "grounding",
    negated: true,
    help: "do not look for the values in the input: no _ungrounded column\n(CSV), no spans and ungrounded (JSONL)",
  },
  { name: "base-url", type: "string", option: "baseURL", value: "<url>", help: "any Chat Completions server (default: $OPENAI_BASE_URL, else OpenAI)" },
  {
    name: "api-key",
    type: "string",
    option: "apiKey",
    value: "<key>",
    help:
      "default: $OPENAI_API_KEY (not needed with --base-url)\nAzure OpenAI: set AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and\n" +
      "optionally AZURE_OPENAI_DEPLOYMENT, OPENAI_API_VERSION",
  },
  { name: "max-tokens", type: "string", option: "maxTokens", parse: integer, value: "<n>", help: "output budget of a first attempt (default 1024)" },
  { name: "max-tokens-cap", type: "string", option: "maxTokensCap", parse: integer, value: "<n>", help: "the most it grows to after cut-off replies (default 8192)" },
  { name: "temperature", type: "string", option: "temperature", parse: number, value: "<t>", help: "0 to 2 (default: the server's)" },
  { name: "timeout", type: "string", option: "timeout", parse: duration, value: "<duration>", help: "per request: 500ms, 30s, 2m, or milliseconds (default 120s)" },
  { name: "max-retries", type: "string", option: "maxRetries", parse: integer, value: "<n>", help: "transport retries per request (default 4)" },
  {
    name: "rpm",
    type: "string",
    option: "rpm",
    parse: number,
    value: "<n>",
    help: "requests per minute to stay under (limits the server\nannounces in x-ratelimit-* headers are followed anyway)",
  },
  { name: "tpm", type: "string", option: "tpm", parse: number, value: "<n>", help: "tokens per minute to stay under (prompt + --max-tokens per request)" },
  {
    name: "max-input-tokens",
    type: "string",
    option: "maxInputTokens",
    parse: integer,
    value: "<n>",
    help: "fail rows whose prompt is longer, without a call (INPUT_TOO_LARGE)",
  },
  { name: "delimiter", type: "string", option: "delimiter", value: "<char>", help: "input field delimiter (default ,)" },
  { name: "quiet", short: "q", type: "boolean", help: "no progress and no summary on stderr" },
  { name: "help", short: "h", type: "boolean", help: "this text" },
  { name: "version", type: "boolean", help: "the version" },
];

/** The flag as a user types it: `--max-tokens`, or `--no-formula-guard` for a negated boolean. */
export function flagOf(spec: AnyFlagSpec): string {
  return `--${spec.negated ? "no-" : ""}${spec.name}`;
}

/** Options that only an environment variable sets on the command line. */
const ENV_OF_OPTION: Partial<Record<keyof ExtractCsvOptions, string>> = { schemasDir: "$EXTRACT_SCHEMAS_DIR" };

/** What the CLI prints for each option name a library message may name: the flag, else the variable. */
export const CLI_NAME_OF_OPTION: ReadonlyMap<string, string> = cliNamesOf(FLAGS, ENV_OF_OPTION);

/** The map a command's messages are rendered with (see `renderForCli`): option name -> flag, else -> variable. */
export function cliNamesOf(flags: readonly AnyFlagSpec[], variables: Readonly<Record<string, string>> = {}): ReadonlyMap<string, string> {
  return new Map<string, string>([
    ...Object.entries(variables),
    ...flags.filter((spec) => spec.option).map((spec) => [spec.option!, flagOf(spec)] as const),
  ]);
}

/** Sets each option of `target` that a flag in `values` (parseArgs' result) names, through the flag's `parse`. */
export function setOptionsFromFlags(flags: readonly AnyFlagSpec[], values: Record<string, unknown>, target: object): void {
  const options = target as Record<string, unknown>;
  for (const spec of flags) {
    const value = values[spec.name];
    if (!spec.option || value === undefined) continue;
    options[spec.option] = typeof value === "string" && spec.parse ? spec.parse(value, flagOf(spec)) : value;
  }
}

type ParseArgsOptions = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: boolean }>;

/** A flags table (the `extract` command's by default) in the shape `util.parseArgs` takes. */
export function parseArgsOptions(flags: readonly AnyFlagSpec[] = FLAGS): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const spec of flags) {
    options[spec.name] = {
      type: spec.type,
      ...(spec.short && { short: spec.short }),
      ...(spec.multiple && { multiple: true }),
      ...(spec.negated && { default: true }),
    };
  }
  return options;
}

/** Where descriptions start in the usage text's flag list. */
const HELP_COLUMN = 28;

/** The usage text's flag list, two columns, from a flags table (the `extract` command's by default). */
export function formatFlagList(flags: readonly AnyFlagSpec[] = FLAGS): string {
  const lines: string[] = [];
  for (const spec of flags) {
    const left = `  ${spec.short ? `-${spec.short}, ` : "    "}${flagOf(spec)}${spec.value ? ` ${spec.value}` : ""}`;
    const [first, ...more] = spec.help.split("\n");
    lines.push(`${left.length <= HELP_COLUMN - 2 ? left.padEnd(HELP_COLUMN) : `${left}  `}${first}`);
    for (const line of more) lines.push(`${" ".repeat(HELP_COLUMN)}${line}`);
  }
  return lines.join("\n");
}
