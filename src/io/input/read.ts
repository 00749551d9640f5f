import { open } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream";
import { CsvError, Parser, type Options } from "csv-parse";
import { ExtractError } from "../../errors/extract-error.js";
import { createDecoder } from "./decode.js";
import { countLineBreaks, HEADER, MAX_ROW_BYTES, RowBuilder, type CsvRow, type HeaderRename, type Parsed } from "./rows.js";

export type { CsvRow, HeaderRename };

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
  renamed: HeaderRename[];
  /**
   * The data rows, read lazily with backpressure (single use). A malformed row (wrong number of
   * fields, a quote never closed) is a row with `error`, unless `strict`; other bad spots
   * (INVALID_ENCODING, INPUT_UNREADABLE, a misplaced quote) throw ExtractError there.
   * Reading to the end, an error, or breaking out of the loop closes the input; to
   * abandon it unread, call `rows[Symbol.asyncIterator]().return()`.
   */
  rows: AsyncIterable<CsvRow>;
  /** Bytes read so far and the file's size when known (undefined for stdin), for progress/ETA. */
  progress(): { bytesRead: number; totalBytes?: number };
}

/** Options of {@link openCsv}. */
export interface OpenCsvOptions {
  /**
   * Throw CSV_MALFORMED at the first malformed row (wrong number of fields, a quote never
   * closed) instead of yielding it as a row with `error` and reading on. @default false
   */
  strict?: boolean;
  /** @deprecated Malformed rows are recorded as failed rows by default now; this does nothing. */
  skipBadRows?: boolean;
  /** Field delimiter. @default "," */
  delimiter?: string;
}

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

/**
 * The parts of csv-parse's Parser that its types leave out: its synchronous core (`api.parse`,
 * which returns an error instead of emitting it) and that core's state and counters.
 */
interface ParserCore {
  api: { parse(input: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined };
  state: object;
  info: Parser["info"];
}

/**
 * csv-parse's Parser, handing each record to a RowBuilder the moment it is parsed. Overriding
 * `push` lets the builder read the parser's live `info` counters; csv-parse's `on_record` and
 * `info` options copy all of them into a new object per record, which nearly doubles parse time.
 *
 * Unless strict, a record csv-parse cannot parse (a quote never closed, text after a closing
 * quote...) fails alone: its first line becomes a failed row and the text after that line is
 * parsed again by a new csv-parse core. For that, the input since the start of the current
 * record is held (a chunk or two; csv-parse holds as much of a long record itself).
 */
class RowParser extends Parser {
  /** Input chunks from the one holding the start of the current record on. */
  private held: Buffer[] = [];
  /** Offset of `held[0]` in the input. */
  private heldStart = 0;
  /** Offset in the input where the current core's byte count starts. */
  private base = 0;
  /** Offset in the input where the current record starts. */
  private recordStart = 0;

  constructor(
    private readonly builder: RowBuilder,
    private readonly parseOptions: Options,
  ) {
    super(parseOptions);
  }

  override push(record: string[] | null): boolean {
    if (record === null) return super.push(null);
    const end = this.base + this.info.bytes;
    this.recordStart = end;
    const item = this.builder.accept(record, this.info.empty_lines, this.info.lines, end);
    return item === null || super.push(item);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.builder.strict) {
      while (this.held.length > 0 && this.heldStart + this.held[0]!.length <= this.recordStart) this.heldStart += this.held.shift()!.length;
      if (this.held.length === 0) this.heldStart = this.recordStart;
      this.held.push(chunk);
    }
    super._transform(chunk, encoding, (error) => callback(this.recover(error, false)));
  }

  override _flush(callback: (error?: Error | null) => void): void {
    super._flush((error) => callback(this.recover(error, true)));
  }

  /** Turns a parse error into a failed row and parses on after its first line; returns the error that remains, if any. */
  private recover(error: Error | null | undefined, atEnd: boolean): Error | null | undefined {
    for (;;) {
      if (!(error instanceof CsvError) || this.builder.strict || !this.builder.hasHeader) return error;
      const text = Buffer.concat(this.held).subarray(this.recordStart - this.heldStart).toString("utf8");
      // Lines left empty before the record are skipped by csv-parse, but still count.
      const blank = /^(?:\r\n|\n|\r)*/.exec(text)![0];
      const firstBreak = /\r\n|\n|\r/.exec(text.slice(blank.length));
      const lineEnd = firstBreak ? blank.length + firstBreak.index : text.length;
      const restAt = firstBreak ? lineEnd + firstBreak[0].length : text.length;
      const rest = Buffer.from(text.slice(restAt));
      const blankLines = countLineBreaks(blank);
      const linesAfter = atEnd ? countLineBreaks(text.slice(restAt)) + (/[^\r\n]$/.test(text) && firstBreak ? 1 : 0) : undefined;
      // What the failed record holds so far: it tells on which of its lines csv-parse gave up.
      const { record, field } = (this as unknown as ParserCore).state as { record: string[]; field: { toString(encoding: string): string } };
      const errorLine = countLineBreaks(record.join("")) + countLineBreaks(field.toString("utf8"));
      const end = this.recordStart + Buffer.byteLength(text.slice(0, restAt));
      super.push(this.builder.unparsable(error, blankLines, text.slice(blank.length, lineEnd), linesAfter, errorLine, end));

      const core = new Parser(this.parseOptions) as unknown as ParserCore;
      Object.assign(this, { api: core.api, state: core.state, info: core.info });
      this.base = end;
      this.recordStart = this.heldStart = this.base;
      this.held = [rest];
      error = (this as unknown as ParserCore).api.parse(rest, atEnd, (record) => this.push(record), () => {});
      if (error === undefined) return undefined;
    }
  }
}

/**
 * Pulls what the parser produced, one item at a time, throwing for a malformed row if
 * `strict`. Unlike the stream's own async iterator, it hands out the items already parsed
 * before a failure, then throws the failure as an ExtractError, so it surfaces at the bad spot.
 */
async function* readParsed(parser: Parser, builder: RowBuilder, name: string): AsyncGenerator<Parsed> {
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
        if (item !== HEADER && item.error !== undefined && builder.strict) throw item.error;
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
 * lines holding only spaces or tabs, are skipped; line numbers still count them. A row with the
 * wrong number of fields, or whose quote is never closed, comes with `error` (its parsed fields
 * on the first columns; after an unclosed quote, the lines that follow are read again as rows),
 * unless `strict` makes it throw.
 *
 * @param source A file path, "-" for stdin, or a readable byte stream.
 * @throws ExtractError `INPUT_UNREADABLE` (missing file, a directory, no permission), or
 *   `CSV_MALFORMED` / `INVALID_ENCODING` in the header. The delimiter comes checked
 *   (`normalizeCsvOptions()`).
 * @example
 * const input = await openCsv("tickets.csv");
 * console.log(input.columns);
 * for await (const row of input.rows) console.log(row.line, row.error?.message ?? row.record);
 */
export async function openCsv(source: string | NodeJS.ReadableStream, options: OpenCsvOptions = {}): Promise<CsvInput> {
  const { name, stream, totalBytes } = await openSource(source);
  const builder = new RowBuilder(name, options.strict ?? false);
  const decoder = createDecoder(name);
  const parser = new RowParser(builder, {
    delimiter: options.delimiter ?? ",",
    // Listed rather than detected, so a file mixing line endings leaves no stray "\r" in values.
    record_delimiter: ["\r\n", "\n", "\r"],
    skip_empty_lines: true,
    // Row length is checked against the header by RowBuilder, which reports it better.
    relax_column_count: true,
    max_record_size: MAX_ROW_BYTES,
  });
  // Errors reach the parser through pipeline(), which destroys every stage; readParsed reports them.
  pipeline(stream, decoder, parser, () => {});
  const parsed = readParsed(parser, builder, name);
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
