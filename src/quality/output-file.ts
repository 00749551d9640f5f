import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";
import type { Usage } from "../engine/types.js";
import { ExtractError } from "../errors/extract-error.js";
import type { LeafColumn } from "../schema/columns.js";

/** Where a value was found in its row's source (see the grounding layer): code points into `input[column]`. */
export interface OutputSpan {
  path: string;
  column: string;
  start: number;
  end: number;
  match: "exact" | "normalized" | "fuzzy";
}

/**
 * One row of an llm-extract output file, as read back. JSONL carries every field; CSV has no
 * `attempts`, `usage` or `spans`, its field values are the cell texts (JSON columns parsed), and
 * its `_ungrounded` cell becomes `ungrounded`.
 */
export interface OutputLine {
  index: number;
  input: Record<string, string>;
  /** The record (null for a failed row); from a CSV, rebuilt from its field cells (empty cells as null). */
  data: unknown;
  error: { code: string; message: string } | null;
  attempts?: number;
  usage?: Usage;
  repaired?: boolean;
  /** Field paths whose loose values were read as the schema's type (JSONL of this version on). */
  coerced?: string[];
  spans?: OutputSpan[];
  /** Field paths whose value was not found in the source; absent when the output has no grounding. */
  ungrounded?: string[];
}

const UNGROUNDED_COLUMN = "_ungrounded";

/** True when `file` holds JSON lines: by its extension, else by its first character. */
export async function isJsonLines(file: string): Promise<boolean> {
  const extension = path.extname(file).toLowerCase();
  if (extension === ".jsonl" || extension === ".ndjson" || extension === ".json") return true;
  if (extension === ".csv") return false;
  const handle = await open(file, "r").catch((error: Error) => {
    throw unreadable(file, error.message, error);
  });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    return buffer.subarray(0, bytesRead).toString("utf8").trimStart().startsWith("{");
  } finally {
    await handle.close();
  }
}

/**
 * Reads an llm-extract output file (CSV or JSONL, see {@link isJsonLines}) row by row, streaming.
 * A CSV output needs the schema's `leaves` to tell the input columns from the field columns.
 * @throws ExtractError `INPUT_UNREADABLE` for a missing file or a line that is not an output row;
 * `INVALID_OPTION` for a CSV output without `leaves`.
 */
export async function* readOutputFile(file: string, leaves?: readonly LeafColumn[]): AsyncGenerator<OutputLine> {
  if (await isJsonLines(file)) yield* readJsonLines(file);
  else {
    if (!leaves) {
      throw new ExtractError(
        "INVALID_OPTION",
        `${file} is a CSV output: name its \`schema\` so that its input columns can be told from its field columns (or report on a JSONL output).`,
        { file },
      );
    }
    yield* readCsv(file, leaves);
  }
}

async function* readJsonLines(file: string): AsyncGenerator<OutputLine> {
  const lines = createInterface({ input: openStream(file), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const text of lines) {
      number++;
      if (text.trim() === "") continue;
      yield parseLine(file, text, number);
    }
  } catch (error) {
    if (error instanceof ExtractError) throw error;
    throw unreadable(file, (error as Error).message, error);
  }
}

function parseLine(file: string, text: string, number: number): OutputLine {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch (error) {
    throw unreadable(file, `line ${number} is not JSON (${(error as Error).message})`, error, number);
  }
  if (!isOutputLine(line)) throw unreadable(file, `line ${number} is not an llm-extract output row ({index, input, data, error, ...})`, undefined, number);
  return line;
}

function isOutputLine(value: unknown): value is OutputLine {
  if (typeof value !== "object" || value === null) return false;
  const line = value as Record<string, unknown>;
  return typeof line.index === "number" && typeof line.input === "object" && line.input !== null && "data" in line && "error" in line;
}

async function* readCsv(file: string, leaves: readonly LeafColumn[]): AsyncGenerator<OutputLine> {
  const records = openStream(file).pipe(parse({ bom: true, relax_column_count: true }));
  let header: string[] | undefined;
  let layout: { inputs: number; ungrounded: boolean } | undefined;
  let index = 0;
  try {
    for await (const record of records as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        const ungrounded = header.at(-2) === UNGROUNDED_COLUMN;
        const inputs = header.length - 1 - (ungrounded ? 1 : 0) - leaves.length;
        if (inputs < 0 || !header.at(-1)?.endsWith("_error")) {
          throw unreadable(file, `its header is not that of an llm-extract CSV output of this schema (${leaves.length} field columns, then _error)`);
        }
        layout = { inputs, ungrounded };
        continue;
      }
      yield csvLine(record, header, leaves, layout!, index++);
    }
  } catch (error) {
    if (error instanceof ExtractError) throw error;
    throw unreadable(file, (error as Error).message, error);
  }
}

function csvLine(cells: string[], header: string[], leaves: readonly LeafColumn[], layout: { inputs: number; ungrounded: boolean }, index: number): OutputLine {
  const input: Record<string, string> = {};
  for (let i = 0; i < layout.inputs; i++) input[header[i]!] = cells[i] ?? "";
  const errorCell = cells[header.length - 1] ?? "";
  const separator = errorCell.indexOf(": ");
  const error = errorCell ? { code: separator > 0 ? errorCell.slice(0, separator) : "ERROR", message: errorCell.slice(separator + 2) } : null;
  const values = leaves.map((leaf, i) => cellValue(cells[layout.inputs + i] ?? "", leaf.json));
  // A schema without properties has one column, `data`, holding the whole record.
  const whole = leaves.length === 1 && leaves[0]!.path.length === 0;
  const data: Record<string, unknown> = {};
  if (!whole) leaves.forEach((leaf, i) => setAt(data, leaf.path, values[i]));
  const line: OutputLine = { index, input, data: error ? null : whole ? values[0] : data, error };
  if (layout.ungrounded) line.ungrounded = (cells[header.length - 2] ?? "").split(",").filter((field) => field !== "");
  return line;
}

function setAt(data: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let parent = data;
  for (const key of path.slice(0, -1)) parent = (parent[key] ??= {}) as Record<string, unknown>;
  parent[path.at(-1)!] = value;
}

/** An empty cell is null; a JSON column's text is parsed back (kept as text if it does not parse). */
function cellValue(cell: string, json: boolean): unknown {
  if (cell === "") return null;
  if (!json) return cell;
  try {
    return JSON.parse(cell);
  } catch {
    return cell;
  }
}

function openStream(file: string) {
  const stream = createReadStream(file, { encoding: "utf8" });
  stream.on("error", () => undefined); // surfaced by the consumer's iteration
  return stream;
}

function unreadable(file: string, reason: string, cause?: unknown, line?: number): ExtractError {
  return new ExtractError("INPUT_UNREADABLE", `Cannot read the output file ${file}: ${reason}.`, { file, line, cause });
}
