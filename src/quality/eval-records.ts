/**
 * Reads the two sides of an evaluation, an llm-extract output and a gold file, into one shape:
 * a record per row with the values a key may come from and the extracted (or true) data.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { ExtractError } from "../errors/extract-error.js";
import { openCsv } from "../io/input/read.js";
import { isPlainObject } from "./eval-fields.js";
import { isJsonLines } from "./output-file.js";

/** One row of an output or gold file. */
export interface EvalRecord {
  /** 0-based position in its file. */
  position: number;
  /** Values a key column may name: a CSV's cells; a JSON line's own scalar values and its `input` (or `row`). */
  keys: Record<string, unknown>;
  /** The record: nested objects rebuilt from dotted CSV columns, empty cells as null. */
  data: unknown;
  /** `CODE: message` when the output says the row failed. */
  error?: string;
}

/** Rows as a library caller has them: `extract()` results, parsed JSONL lines, gold objects. */
export type EvalRows = readonly Record<string, unknown>[];

/** Columns of a CSV output that are not data: `_error`, `_ungrounded` and any other `_` column. */
const isBookkeeping = (column: string): boolean => column.startsWith("_");
/** The prefix the writer gives an extracted column whose name an input column already has. */
const COLLISION_PREFIX = "extracted.";

/**
 * The records of an output or gold file: CSV (llm-extract's output shape: input columns, dotted
 * field columns, `_error`) or JSON Lines (`{index, input, data, error, ...}` or `{<key>, data}`),
 * told apart by the extension (`.jsonl`, `.ndjson`, `.json`), else by a first character `{`.
 *
 * @throws ExtractError `INPUT_UNREADABLE` for a file that cannot be read or a line that is not a JSON object.
 */
export async function readEvalFile(file: string): Promise<EvalRecord[]> {
  return (await isJsonLines(file)) ? readJsonLines(file) : readCsvRecords(file);
}

/** The records of rows a library caller already has in memory (see {@link EvalRows}). */
export function evalRecordsOf(rows: EvalRows): EvalRecord[] {
  return rows.map((row, position) => recordOfObject(row, position));
}

async function readCsvRecords(file: string): Promise<EvalRecord[]> {
  const input = await openCsv(file, { strict: true });
  const records: EvalRecord[] = [];
  for await (const row of input.rows) {
    const data: Record<string, unknown> = {};
    for (const column of input.columns) if (!isBookkeeping(column)) setPath(data, column.split("."), cellValue(row.record[column]));
    // An extracted field renamed because an input column had its name: the field wins in `data`.
    for (const column of input.columns) {
      const field = column.slice(COLLISION_PREFIX.length);
      if (column.startsWith(COLLISION_PREFIX) && input.columns.includes(field)) setPath(data, field.split("."), cellValue(row.record[column]));
    }
    records.push({ position: row.index, keys: row.record, data, ...(row.record._error && { error: row.record._error }) });
  }
  return records;
}

async function readJsonLines(file: string): Promise<EvalRecord[]> {
  const records: EvalRecord[] = [];
  let lineNumber = 0;
  for await (const line of lines(file)) {
    lineNumber++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw unreadable(file, `line ${lineNumber} is not JSON (${(error as Error).message})`, lineNumber);
    }
    if (!isPlainObject(value)) throw unreadable(file, `line ${lineNumber} is not a JSON object`, lineNumber);
    records.push(recordOfObject(value, records.length));
  }
  return records;
}

function recordOfObject(row: Record<string, unknown>, position: number): EvalRecord {
  const scalars = Object.fromEntries(Object.entries(row).filter(([, value]) => !isPlainObject(value) && !Array.isArray(value)));
  const input = isPlainObject(row.input) ? row.input : isPlainObject(row.row) ? row.row : {};
  const error = isPlainObject(row.error) ? `${String(row.error.code)}: ${String(row.error.message)}` : undefined;
  return { position, keys: { ...scalars, ...input }, data: "data" in row ? row.data : null, ...(error && { error }) };
}

function cellValue(cell: string | undefined): string | null {
  return cell === undefined || cell === "" ? null : cell;
}

function setPath(target: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

async function* lines(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    throw unreadable(file, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  try {
    yield* createInterface({ input: stream, crlfDelay: Infinity });
  } finally {
    stream.destroy(); // also when the caller stops early, after the first line
  }
}

function unreadable(file: string, reason: string, line?: number): ExtractError {
  return new ExtractError("INPUT_UNREADABLE", `Cannot read ${file}: ${reason}.`, { file, ...(line && { line }) });
}
