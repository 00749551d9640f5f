import { open } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream";
import { CsvError, Parser, type Options } from "csv-parse";
import { ExtractError } from "../errors.js";
import { createDecoder } from "./decode.js";

/** One data row of a CSV file. */
export interface CsvRow {
  /** 0-based data row index (the header is not a row). */
  index: number;
  /** 1-based line of the file where the row starts (header is line 1 for a normal file). */
  line: number;
  /** Values by (de-duplicated) header name. For a malformed row: the fields there were, mapped to the first columns. */
  record: Record<string, string>;
  /**
   * Characters of the file consumed up to the end of this row (bytes, for ASCII text), so that
   * progress can follow the rows done rather than the read-ahead.
   */
  end: number;
  /** Set only for a malformed row when `skipBadRows` is on: an ExtractError with code CSV_MALFORMED (file, line, message saying what). */
  error?: ExtractError;
}

/** An opened CSV input: its header, and its rows to be read once. */
export interface CsvInput {
  /** Display name: the file path, "stdin", or "input" for another stream. */
  name: string;
  /** Header names after de-duplication, in file order. [] for an empty file. */
  columns: string[];
  /**
   * Header names that had to be changed (`position` is 1-based): an empty name becomes
   * `column_<position>`; a repeated name becomes `name_2`, `name_3`... in order of appearance,
   * skipping any name the header already has (`a,a,a_2` gives `a`, `a_3`, `a_2`).
   */
  renamed: { position: number; from: string; to: string }[];
  /**
   * The data rows, read lazily with backpressure (single use). Throws ExtractError
   * (CSV_MALFORMED / INVALID_ENCODING / INPUT_UNREADABLE) at the bad spot unless `skipBadRows`
   * applies. Reading to the end, an error, or breaking out of the loop closes the input; to
   * abandon it unread, call `rows[Symbol.asyncIterator]().return()`.
   */
  rows: AsyncIterable<CsvRow>;
  /** Bytes read so far and the file's size when known (undefined for stdin), for progress/ETA. */
  progress(): { bytesRead: number; totalBytes?: number };
}

/** Options of {@link openCsv}. */
export interface OpenCsvOptions {
  /** Record ragged rows (wrong number of fields) as rows with `error` instead of throwing. @default false */
  skipBadRows?: boolean;
  /** Field delimiter. @default "," */
  delimiter?: string;
}

/** Longest row accepted, in bytes: far beyond any model's context, it stops an unclosed quote from swallowing the file into memory. */
const MAX_ROW_BYTES = 8 * 1024 * 1024;

const REASONS: Record<string, string> = {
  ENOENT: "does not exist",
  ENOTDIR: "does not exist (a part of the path is not a directory)",
  EISDIR: "is a directory, not a CSV file",
  EACCES: "cannot be read: permission denied",
  EPERM: "cannot be read: permission denied",
};

function unreadable(name: string, error: unknown): ExtractError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  let reason = (code && REASONS[code]) || `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
  if (code === "ENOENT" && !path.isAbsolute(name)) reason += ` (looked for ${path.resolve(name)})`;
  return new ExtractError("INPUT_UNREADABLE", `${name} ${reason}.`, { file: name, cause: error });
}

interface Source {
  name: string;
  stream: NodeJS.ReadableStream;
  totalBytes?: number;
}

async function openSource(source: string | NodeJS.ReadableStream): Promise<Source> {
  if (typeof source !== "string") return { name: source === process.stdin ? "stdin" : "input", stream: source };
  if (source === "-") return { name: "stdin", stream: process.stdin };
  const handle = await open(source, "r").catch((error: unknown) => {
    throw unreadable(source, error);
  });
  const stats = await handle.stat();
  // Opening a directory succeeds on Linux; reading it would fail later and less clearly.
  if (stats.isDirectory()) {
    await handle.close();
    throw unreadable(source, Object.assign(new Error("is a directory"), { code: "EISDIR" }));
  }
  return { name: source, stream: handle.createReadStream(), totalBytes: stats.isFile() ? stats.size : undefined };
}

/** Stands for the header record in the parser's output; data rows follow it. */
const HEADER = Symbol("header");
type Parsed = CsvRow | typeof HEADER;

/**
 * Header names made unique: empty -> `column_<position>`, repeats -> `name_2`, `name_3`...,
 * never reusing a name the header already has. Positions are 1-based.
 */
function dedupeHeader(names: readonly string[]): Pick<CsvInput, "columns" | "renamed"> {
  const written = new Set(names);
  const used = new Set<string>();
  const renamed: CsvInput["renamed"] = [];
  const columns = names.map((from, i) => {
    let to = from;
    if (from === "" || used.has(from)) {
      const base = from === "" ? `column_${i + 1}` : from;
      to = from === "" ? base : `${base}_2`;
      for (let n = from === "" ? 2 : 3; written.has(to) || used.has(to); n++) to = `${base}_${n}`;
      renamed.push({ position: i + 1, from, to });
    }
    used.add(to);
    return to;
  });
  return { columns, renamed };
}

function isBlank(fields: readonly string[]): boolean {
  return fields.length === 1 && fields[0]!.trim() === "";
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Turns parsed records into rows. It runs inside the parser (see {@link RowParser}), in file
 * order, so its line count is exact at the moment a parse error is raised, however far the
 * consumer lags behind.
 */
class RowBuilder {
  columns: string[] = [];
  renamed: CsvInput["renamed"] = [];
  private headerSeen = false;
  private hasProtoColumn = false;
  private index = 0;
  private nextLine = 1;
  private emptyLinesSeen = 0;
  /** csv-parse counts "\r\n" inside quotes as two lines; this is its surplus so far. */
  private lineSurplus = 0;

  constructor(
    private readonly name: string,
    private readonly skipBadRows: boolean,
  ) {}

  /** Handles one record; `emptyLines`, `parserLines` and `parserBytes` are csv-parse's running counts. */
  accept(fields: string[], emptyLines: number, parserLines: number, parserBytes: number): Parsed | null {
    const line = this.nextLine + emptyLines - this.emptyLinesSeen;
    let lastLine = line;
    for (const field of fields) {
      for (let at = field.indexOf("\n"); at !== -1; at = field.indexOf("\n", at + 1)) lastLine++;
    }
    this.emptyLinesSeen = emptyLines;
    this.nextLine = lastLine + 1;
    this.lineSurplus = parserLines - lastLine;
    if (isBlank(fields)) return null;
    if (!this.headerSeen) {
      this.headerSeen = true;
      ({ columns: this.columns, renamed: this.renamed } = dedupeHeader(fields));
      this.hasProtoColumn = this.columns.includes("__proto__");
      return HEADER;
    }
    const row: CsvRow = { index: this.index++, line, end: parserBytes, record: this.toRecord(fields) };
    if (fields.length !== this.columns.length) {
      const hint = this.skipBadRows ? "" : ", or pass --skip-bad-rows to record such rows as failed";
      row.error = new ExtractError(
        "CSV_MALFORMED",
        `${this.name} line ${line}: ${plural(fields.length, "field")}, but the header has ${this.columns.length}. ` +
          `Fix the row (a missing or extra comma or quote?)${hint}.`,
        { file: this.name, line, row: row.index },
      );
    }
    return row;
  }

  private toRecord(fields: readonly string[]): Record<string, string> {
    const count = Math.min(fields.length, this.columns.length);
    // Assigning to "__proto__" would set the prototype; fromEntries defines a property instead.
    if (this.hasProtoColumn) return Object.fromEntries(this.columns.slice(0, count).map((column, i) => [column, fields[i]!]));
    const record: Record<string, string> = {};
    for (let i = 0; i < count; i++) record[this.columns[i]!] = fields[i]!;
    return record;
  }

  /** Describes a csv-parse error at the line where the problem is. */
  parseError(error: CsvError): ExtractError {
    // An unclosed quote is only noticed at the end; the row it opened in is where to look.
    const atRowStart = error.code === "CSV_QUOTE_NOT_CLOSED" || error.code === "CSV_MAX_RECORD_SIZE";
    const line = atRowStart
      ? this.nextLine + Number(error.empty_lines) - this.emptyLinesSeen
      : Number(error.lines) - this.lineSurplus;
    const fixQuotes = 'Add the missing closing quote, or double each quote that is part of the text ("").';
    const what: Partial<Record<CsvError["code"], string>> = {
      CSV_QUOTE_NOT_CLOSED: `a quote opened in the row starting here is never closed (the file ends inside it). ${fixQuotes}`,
      CSV_MAX_RECORD_SIZE: `the row starting here is longer than ${MAX_ROW_BYTES} bytes, most likely because a quote opened in it is never closed. ${fixQuotes}`,
      CSV_INVALID_CLOSING_QUOTE: `a quoted field goes on after its closing quote. Inside a quoted field, write each quote as two ("").`,
      INVALID_OPENING_QUOTE: `a quote appears inside a field that does not start with one. Quote the whole field and double each quote inside it ("").`,
    };
    const message = `${this.name} line ${line}: ${what[error.code] ?? `malformed CSV (${error.message}).`}`;
    return new ExtractError("CSV_MALFORMED", message, { file: this.name, line, cause: error });
  }
}

/**
 * csv-parse's Parser, handing each record to a RowBuilder the moment it is parsed. Overriding
 * `push` lets the builder read the parser's live `info` counters; csv-parse's `on_record` and
 * `info` options copy all of them into a new object per record, which nearly doubles parse time.
 */
class RowParser extends Parser {
  constructor(
    private readonly builder: RowBuilder,
    options: Options,
  ) {
    super(options);
  }

  override push(record: string[] | null): boolean {
    if (record === null) return super.push(null);
    const item = this.builder.accept(record, this.info.empty_lines, this.info.lines, this.info.bytes);
    return item === null || super.push(item);
  }
}

function checkDelimiter(delimiter: unknown): string {
  if (typeof delimiter === "string" && delimiter !== "" && !/["\r\n]/.test(delimiter)) return delimiter;
  throw new ExtractError(
    "INVALID_OPTION",
    `Expected \`delimiter\` to be a non-empty string without quotes or line breaks, got ${JSON.stringify(delimiter)}.`,
  );
}

/**
 * Pulls what the parser produced, one item at a time, throwing for a ragged row unless
 * `skipBadRows`. Unlike the stream's own async iterator, it hands out the items already parsed
 * before a failure, then throws the failure as an ExtractError, so it surfaces at the bad spot.
 */
async function* readParsed(parser: Parser, builder: RowBuilder, name: string, skipBadRows: boolean): AsyncGenerator<Parsed> {
  let failure: unknown;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  parser.on("readable", notify);
  parser.on("error", (error) => {
    failure ??= error;
    notify();
  });
  // "close" also covers a parser destroyed without an error.
  for (const event of ["end", "close"]) {
    parser.on(event, () => {
      finished = true;
      notify();
    });
  }
  try {
    for (;;) {
      const item = parser.read() as Parsed | null;
      if (item !== null) {
        if (item !== HEADER && item.error !== undefined && !skipBadRows) throw item.error;
        yield item;
        continue;
      }
      if (failure !== undefined) {
        if (failure instanceof ExtractError) throw failure;
        throw failure instanceof CsvError ? builder.parseError(failure) : unreadable(name, failure);
      }
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    parser.destroy();
  }
}

/**
 * Opens CSV input and reads its header eagerly, so columns are known before any model call.
 * The file is streamed (never read whole); rows come lazily through `rows`. Blank lines, and
 * lines holding only spaces or tabs, are skipped; line numbers still count them.
 *
 * @param source A file path, "-" for stdin, or a readable byte stream.
 * @throws ExtractError `INPUT_UNREADABLE` (missing file, a directory, no permission),
 *   `INVALID_OPTION` (bad delimiter), or `CSV_MALFORMED` / `INVALID_ENCODING` in the header.
 * @example
 * const input = await openCsv("tickets.csv", { skipBadRows: true });
 * console.log(input.columns);
 * for await (const row of input.rows) console.log(row.line, row.error?.message ?? row.record);
 */
export async function openCsv(source: string | NodeJS.ReadableStream, options: OpenCsvOptions = {}): Promise<CsvInput> {
  const delimiter = checkDelimiter(options.delimiter ?? ",");
  const skipBadRows = options.skipBadRows ?? false;
  const { name, stream, totalBytes } = await openSource(source);
  const builder = new RowBuilder(name, skipBadRows);
  const decoder = createDecoder(name);
  const parser = new RowParser(builder, {
    delimiter,
    // Listed rather than detected, so a file mixing line endings leaves no stray "\r" in values.
    record_delimiter: ["\r\n", "\n", "\r"],
    skip_empty_lines: true,
    // Row length is checked against the header by RowBuilder, which reports it better.
    relax_column_count: true,
    max_record_size: MAX_ROW_BYTES,
  });
  // Errors reach the parser through pipeline(), which destroys every stage; readParsed reports them.
  pipeline(stream, decoder, parser, () => {});
  const parsed = readParsed(parser, builder, name, skipBadRows);
  // The header is always the first item (none for an empty file); only rows follow it.
  await parsed.next();
  return {
    name,
    columns: builder.columns,
    renamed: builder.renamed,
    rows: parsed as AsyncGenerator<CsvRow>,
    progress: () => ({ bytesRead: decoder.bytesRead, totalBytes }),
  };
}
