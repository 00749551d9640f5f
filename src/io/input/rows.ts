/**
 * The pure half of CSV reading: header de-duplication, parsed records to rows, and the wording
 * of parse errors. read.ts wires it to the file, the decoder and csv-parse.
 */
import type { CsvError } from "csv-parse";
import { ExtractError } from "../../errors/extract-error.js";

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
  /**
   * Set only for a malformed row (unless `strict`, which throws it instead): an ExtractError with
   * code CSV_MALFORMED (file, line, message saying what), whose message starts with `line <n>:`.
   */
  error?: ExtractError;
}

/** A header name that had to change; `position` is 1-based. */
export interface HeaderRename {
  position: number;
  from: string;
  to: string;
}

/** Longest row accepted, in bytes: far beyond any model's context, it stops an unclosed quote from swallowing the file into memory. */
export const MAX_ROW_BYTES = 8 * 1024 * 1024;

/** Stands for the header record in the parser's output; data rows follow it. */
export const HEADER = Symbol("header");
export type Parsed = CsvRow | typeof HEADER;

/**
 * Header names made unique: empty -> `column_<position>`, repeats -> `name_2`, `name_3`...,
 * never reusing a name the header already has. Positions are 1-based.
 */
export function dedupeHeader(names: readonly string[]): { columns: string[]; renamed: HeaderRename[] } {
  const written = new Set(names);
  const used = new Set<string>();
  const renamed: HeaderRename[] = [];
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

const LINE_BREAKS = /\r\n|\n|\r/g;

/** Line breaks in `text` (CRLF, LF or CR each count once), as a parser of record delimiters sees them. */
export function countLineBreaks(text: string): number {
  return text.match(LINE_BREAKS)?.length ?? 0;
}

const FIX_QUOTES = 'Add the missing closing quote, or double each quote that is part of the text ("")';

/**
 * Turns parsed records into rows. It runs inside the parser (`RowParser` in read.ts), in file
 * order, so its line count is exact at the moment a parse error is raised, however far the
 * consumer lags behind.
 */
export class RowBuilder {
  columns: string[] = [];
  renamed: HeaderRename[] = [];
  private headerSeen = false;
  private hasProtoColumn = false;
  private index = 0;
  private nextLine = 1;
  private emptyLinesSeen = 0;
  /** csv-parse counts "\r\n" inside quotes as two lines; this is its surplus so far. */
  private lineSurplus = 0;

  constructor(
    private readonly name: string,
    /** Throw at the first malformed row (CSV_MALFORMED) instead of recording it as a failed row. */
    readonly strict: boolean,
  ) {}

  /** Continues the line count at `line` for records from a new parser, whose counts start at 0. */
  private restartAt(line: number): void {
    this.nextLine = line;
    this.emptyLinesSeen = 0;
    // The new parser's line 1 is `line`.
    this.lineSurplus = 1 - line;
  }

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
      row.error = this.malformed(
        line,
        `${plural(fields.length, "field")}, but the header has ${this.columns.length}`,
        "Fix the row (a missing or extra comma or quote?)",
        row.index,
      );
    }
    return row;
  }

  /** True once the header is read: from then on a parse error can fail a row instead of the file. */
  get hasHeader(): boolean {
    return this.headerSeen;
  }

  /**
   * The failed row of a record csv-parse could not parse (permissive mode). The record starts
   * after `blankLines` empty lines; `firstLine` is its first line, written in the first column.
   * The caller parses the lines after it again, with a new parser: the line count goes on there.
   * `linesAfter` is how many lines that is (for an unclosed quote, how many it swallowed), or
   * undefined when the input goes on; `errorLine` is the line where csv-parse gave up, relative to
   * the record's first line (0 on that line).
   */
  unparsable(error: CsvError, blankLines: number, firstLine: string, linesAfter: number | undefined, errorLine: number, end: number): CsvRow {
    const line = this.nextLine + blankLines;
    const readAgain =
      linesAfter === undefined ? "; the lines after it are read again as rows" : linesAfter === 0 ? "" : `; the ${plural(linesAfter, "line")} after it were read again as rows`;
    const details: Partial<Record<CsvError["code"], [string, string]>> = {
      CSV_QUOTE_NOT_CLOSED: [
        !linesAfter
          ? "an opening quote in this row is never closed (the file ends inside it)"
          : `an opening quote in this row is never closed; it swallowed the ${plural(linesAfter, "line")} to the end of the file, which were read again as rows`,
        FIX_QUOTES,
      ],
      CSV_MAX_RECORD_SIZE: [`this row runs on for more than ${MAX_ROW_BYTES} bytes, most likely because a quote opened in it is never closed${readAgain}`, FIX_QUOTES],
      CSV_INVALID_CLOSING_QUOTE: [
        errorLine > 0
          ? `a quote opened in this row seems never closed: text follows the next quote, at line ${line + errorLine}${readAgain}`
          : `a quoted field goes on after its closing quote${readAgain}`,
        FIX_QUOTES,
      ],
      INVALID_OPENING_QUOTE: [`a quote appears inside a field that does not start with one${readAgain}`, 'Quote the whole field and double each quote inside it ("")'],
    };
    const [detail, fix] = details[error.code] ?? [`malformed CSV (${error.message})${readAgain}`, "Fix the row"];
    const row: CsvRow = { index: this.index++, line, end, record: this.toRecord([firstLine]) };
    row.error = this.malformed(line, detail, fix, row.index);
    this.restartAt(line + 1);
    return row;
  }

  /**
   * A CSV_MALFORMED error for a row. Strict mode throws it to end the run, so its message leads
   * with the file and says how to go on instead; otherwise it is the row's `_error`, which leads
   * with `line <n>:` (the output already belongs to the file) and says how to redo the row.
   */
  private malformed(line: number, detail: string, fix: string, row: number): ExtractError {
    const message = this.strict
      ? `${this.name} line ${line}: ${detail}. ${fix}, or leave out \`strict\` to record such rows as failed and read on.`
      : `line ${line}: ${detail} (in ${this.name}). ${fix}, then rerun with \`resume\`: only the rows not done yet are sent.`;
    return new ExtractError("CSV_MALFORMED", message, { file: this.name, line, row });
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
    const what: Partial<Record<CsvError["code"], string>> = {
      CSV_QUOTE_NOT_CLOSED: `a quote opened in the row starting here is never closed (the file ends inside it). ${FIX_QUOTES}.`,
      CSV_MAX_RECORD_SIZE: `the row starting here is longer than ${MAX_ROW_BYTES} bytes, most likely because a quote opened in it is never closed. ${FIX_QUOTES}.`,
      CSV_INVALID_CLOSING_QUOTE: `a quoted field goes on after its closing quote. Inside a quoted field, write each quote as two ("").`,
      INVALID_OPENING_QUOTE: `a quote appears inside a field that does not start with one. Quote the whole field and double each quote inside it ("").`,
    };
    const message = `${this.name} line ${line}: ${what[error.code] ?? `malformed CSV (${error.message}).`}`;
    return new ExtractError("CSV_MALFORMED", message, { file: this.name, line, cause: error });
  }
}
