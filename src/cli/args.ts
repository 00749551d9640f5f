import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ExtractError } from "../errors.js";
import type { ExtractCsvOptions } from "../extract-csv.js";
import type { OutputFormat } from "../csv/write.js";

/** The `extract` command's usage text. */
export const USAGE = `Usage: extract <input.csv ...|-> --schema <name|path> [-o out.csv|out.jsonl|DIR/] [options]

Turns each CSV row into one record of the schema's shape with a language model, and writes
the input columns, one column per schema field, and _error (empty when the row succeeded).

  -s, --schema <name|path>  a schema in ./schemas (or $EXTRACT_SCHEMAS_DIR) by name, or a
                            .ts/.mts/.js/.mjs/.json file
  -o, --out <file|dir/>     output file; .csv or .jsonl picks the format; DIR/ writes one
                            output per input; default: CSV to stdout
  -f, --format <csv|jsonl>  output format, when the -o extension does not say
  -m, --model <name>        default: $EXTRACT_MODEL, else gpt-4o-mini; local:FILE.gguf or an
                            hf: URI runs the model in this process (needs node-llama-cpp)
      --mode <mode>         how the JSON is asked for: json_object (default; JSON mode,
                            the most widely supported), json_schema (strict Structured
                            Outputs; optional fields must be .nullable()) or tools (a
                            forced function call, for servers without response_format)
  -c, --concurrency <n>     requests in flight (default 8)
      --max-attempts <n>    model calls per row, re-asks included (default 3)
      --columns <a,b,...>   input columns sent to the model (default: all)
      --instructions <text|@file>  extra instructions for the model
      --resume              reuse rows an earlier run of the same job finished (needs -o)
      --dry-run             print the first row's messages and a token/cost estimate; no calls
      --strict              stop at the first malformed CSV row (exit 2) instead of writing
                            it as a failed row and reading on
      --skip-bad-rows       deprecated, does nothing: malformed rows are failed rows by default
      --no-formula-guard    write cells starting with = + - @ as they are (CSV output)
      --base-url <url>      any Chat Completions server (default: $OPENAI_BASE_URL, else OpenAI)
      --api-key <key>       default: $OPENAI_API_KEY (not needed with --base-url)
                            Azure OpenAI: set AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and
                            optionally AZURE_OPENAI_DEPLOYMENT, OPENAI_API_VERSION
      --max-tokens <n>      output budget of a first attempt (default 1024)
      --max-tokens-cap <n>  the most it grows to after cut-off replies (default 8192)
      --temperature <t>     0 to 2 (default: the server's)
      --timeout <duration>  per request: 500ms, 30s, 2m, or milliseconds (default 120s)
      --max-retries <n>     transport retries per request (default 4)
      --rpm <n>             requests per minute to stay under (limits the server
                            announces in x-ratelimit-* headers are followed anyway)
      --tpm <n>             tokens per minute to stay under (prompt + --max-tokens per request)
      --max-input-tokens <n>  fail rows whose prompt is longer, without a call (INPUT_TOO_LARGE)
      --delimiter <char>    input field delimiter (default ,)
  -q, --quiet               no progress and no summary on stderr
  -h, --help                this text
      --version             the version

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
  options: ExtractCsvOptions;
}

/** Which flag sets which option: error messages name the flag the user typed. */
export const FLAG_OF_OPTION: Record<string, string> = {
  concurrency: "--concurrency",
  maxAttempts: "--max-attempts",
  maxTokens: "--max-tokens",
  maxTokensCap: "--max-tokens-cap",
  temperature: "--temperature",
  timeout: "--timeout",
  maxRetries: "--max-retries",
  rpm: "--rpm",
  tpm: "--tpm",
  maxInputTokens: "--max-input-tokens",
  columns: "--columns",
  model: "--model",
  schema: "--schema",
  resume: "--resume",
  out: "--out",
  format: "--format",
  mode: "--mode",
};

/**
 * Maps argv to library options. Checks only what the library cannot (flag syntax, numbers,
 * durations, files named by flags); ranges are checked once, by the library.
 * @throws ExtractError `INVALID_OPTION` with the flag's name.
 */
export function parseCommandLine(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      allowNegative: true,
      options: {
        schema: { type: "string", short: "s" },
        out: { type: "string", short: "o" },
        format: { type: "string", short: "f" },
        model: { type: "string", short: "m" },
        concurrency: { type: "string", short: "c" },
        "max-attempts": { type: "string" },
        columns: { type: "string" },
        instructions: { type: "string" },
        resume: { type: "boolean" },
        "dry-run": { type: "boolean" },
        strict: { type: "boolean" },
        "skip-bad-rows": { type: "boolean" },
        "formula-guard": { type: "boolean", default: true },
        "base-url": { type: "string" },
        "api-key": { type: "string" },
        "max-tokens": { type: "string" },
        "max-tokens-cap": { type: "string" },
        temperature: { type: "string" },
        timeout: { type: "string" },
        "max-retries": { type: "string" },
        rpm: { type: "string" },
        tpm: { type: "string" },
        "max-input-tokens": { type: "string" },
        mode: { type: "string" },
        delimiter: { type: "string" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    });
  } catch (error) {
    throw usage(`${(error as Error).message}. Run extract --help for the flags.`);
  }
  const { values, positionals } = parsed;
  const command: CliCommand = {
    help: values.help === true,
    version: values.version === true,
    dryRun: values["dry-run"] === true,
    quiet: values.quiet === true,
    inputs: positionals,
    options: { schema: values.schema ?? "" },
  };
  if (command.help || command.version) return command;
  if (!values.schema) throw usage("Missing --schema: name a schema in ./schemas (e.g. --schema ticket) or give a path.");
  if (positionals.length === 0) throw usage("Missing input: give one or more CSV files, or - for stdin.");

  const options = command.options;
  options.model = values.model;
  options.baseURL = values["base-url"];
  options.apiKey = values["api-key"];
  options.concurrency = integer(values.concurrency, "--concurrency");
  options.maxAttempts = integer(values["max-attempts"], "--max-attempts");
  options.maxTokens = integer(values["max-tokens"], "--max-tokens");
  options.maxTokensCap = integer(values["max-tokens-cap"], "--max-tokens-cap");
  options.maxRetries = integer(values["max-retries"], "--max-retries");
  options.rpm = number(values.rpm, "--rpm");
  options.tpm = number(values.tpm, "--tpm");
  options.maxInputTokens = integer(values["max-input-tokens"], "--max-input-tokens");
  // Checked by the library (INVALID_OPTION naming the allowed modes), like every other range.
  options.mode = values.mode as ExtractCsvOptions["mode"];
  options.temperature = number(values.temperature, "--temperature");
  options.timeout = duration(values.timeout);
  options.columns = values.columns?.split(",").map((column) => column.trim()).filter(Boolean);
  options.instructions = instructions(values.instructions);
  options.resume = values.resume;
  options.strict = values.strict;
  options.skipBadRows = values["skip-bad-rows"];
  options.formulaGuard = values["formula-guard"];
  options.delimiter = values.delimiter;
  options.format = format(values.format);

  const out = values.out;
  if (out && (out.endsWith("/") || out.endsWith(path.sep) || isDirectory(out))) command.outDir = out;
  else if (out) options.out = out;
  if (positionals.length > 1 && !command.outDir) {
    throw usage(`${positionals.length} inputs need an output folder: -o DIR/ writes one output per input.`);
  }
  if (positionals.filter((input) => input === "-").length > 1) throw usage("stdin (-) can be read only once.");
  return command;
}

function usage(message: string): ExtractError {
  return new ExtractError("INVALID_OPTION", message);
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw usage(`${flag} expects a whole number, got "${value}".`);
  return Number(value);
}

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) throw usage(`${flag} expects a number, got "${value}".`);
  return parsed;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `500ms`, `30s`, `2m`, or a bare number of milliseconds (the library's unit). */
function duration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
  if (!match) throw usage(`--timeout expects a duration such as 30s, 2m or 500ms, got "${value}".`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]!);
}

function instructions(value: string | undefined): string | undefined {
  if (!value?.startsWith("@")) return value;
  const file = value.slice(1);
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw usage(`--instructions ${value}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
}

function format(value: string | undefined): OutputFormat | undefined {
  if (value === undefined || value === "csv" || value === "jsonl") return value;
  throw usage(`--format expects csv or jsonl, got "${value}".`);
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
