import { extname, resolve } from "node:path";
import type { Writable } from "node:stream";
import { ExtractError } from "../errors/extract-error.js";
import type { OutputFormat } from "../io/output/write.js";
import { DEFAULTS, invalidOption } from "./options.js";

/** The options of a CSV run that `extract()` has not: where and how to write, how to read. */
export interface CsvOptions {
  /** Output file (.csv or .jsonl), or a stream. @default process.stdout */
  out?: string | Writable;
  /** Output format. @default from the `out` file's extension, else "csv" */
  format?: OutputFormat;
  /**
   * Stop at the first malformed CSV row (wrong number of fields, a quote never closed, text after
   * a closing quote) with a `CSV_MALFORMED` error, once the rows before it are done and written.
   * By default such a row is written as a failed row (`_error` starting `CSV_MALFORMED: line <n>:`)
   * and every other row is processed. @default false
   */
  strict?: boolean;
  /** @deprecated Malformed rows are recorded as failed rows by default now (see `strict`); this does nothing. */
  skipBadRows?: boolean;
  /** Guard CSV cells that start with `=`, `+`, `-`, `@` against spreadsheet formula injection. @default true */
  formulaGuard?: boolean;
  /** Field delimiter of the input. @default "," */
  delimiter?: string;
}

/** The CSV options after defaults and checks: what the reader and the writer are given. */
export interface CsvSettings {
  /** The output file; undefined when writing to a stream. */
  outPath?: string;
  format: OutputFormat;
  delimiter: string;
  strict: boolean;
  formulaGuard: boolean;
}

const FORMATS: readonly OutputFormat[] = ["csv", "jsonl"];

/**
 * Applies the CSV defaults and rejects bad values at once, naming the option and the value it
 * got; checks what needs no file access (an output that is the input, a resume with nowhere to
 * resume from, an output whose format its name does not tell).
 * @param input The input file, or a stream (nothing to compare the output with).
 * @throws ExtractError `INVALID_OPTION`
 * @example
 * const { format } = normalizeCsvOptions("in.csv", { out: "out.jsonl" }); // "jsonl"
 */
export function normalizeCsvOptions(
  input: string | NodeJS.ReadableStream,
  options: CsvOptions & { resume?: boolean; journal?: string },
): CsvSettings {
  const outPath = typeof options.out === "string" ? options.out : undefined;
  if (outPath && typeof input === "string" && resolve(outPath) === resolve(input)) {
    throw new ExtractError("INVALID_OPTION", `The output ${outPath} is the input file: writing it would destroy the input. Choose another \`out\`.`, {
      path: "out",
    });
  }
  if (options.resume && !outPath && !options.journal) {
    throw new ExtractError("INVALID_OPTION", "`resume` needs an output file (or a `journal` path) to find the earlier run's journal.", {
      path: "resume",
    });
  }
  const format = options.format === undefined ? (outPath ? formatFromPath(outPath) : DEFAULTS.format) : outputFormat(options.format);
  if (!format) {
    throw new ExtractError("INVALID_OPTION", `Cannot tell the output format of ${outPath}: name it .csv or .jsonl, or set \`format\`.`, {
      path: "format",
    });
  }
  return {
    outPath,
    format,
    delimiter: delimiterOf(options.delimiter ?? DEFAULTS.delimiter),
    strict: options.strict ?? DEFAULTS.strict,
    formulaGuard: options.formulaGuard ?? DEFAULTS.formulaGuard,
  };
}

/**
 * `csv` or `jsonl`, else the `INVALID_OPTION` error naming `format` (the CLI checks `--format`
 * with it too, before creating an output folder).
 */
export function outputFormat(format: unknown): OutputFormat {
  if (FORMATS.includes(format as OutputFormat)) return format as OutputFormat;
  throw invalidOption("format", FORMATS.map((name) => `"${name}"`).join(" or "), format);
}

/** The output format a file name implies (`.csv`, `.jsonl`, `.ndjson`), if any. */
export function formatFromPath(path: string): OutputFormat | undefined {
  const extension = extname(path).toLowerCase();
  if (extension === ".csv") return "csv";
  if (extension === ".jsonl" || extension === ".ndjson") return "jsonl";
  return undefined;
}

function delimiterOf(delimiter: unknown): string {
  if (typeof delimiter === "string" && delimiter !== "" && !/["\r\n]/.test(delimiter)) return delimiter;
  throw invalidOption("delimiter", "a non-empty string without quotes or line breaks", delimiter);
}
