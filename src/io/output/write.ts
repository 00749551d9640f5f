import { once } from "node:events";
import { finished, type Writable } from "node:stream";
import { stringify } from "csv-stringify";
import type { Usage } from "../../engine/types.js";
import { ExtractError } from "../../errors/extract-error.js";
import type { Span } from "../../quality/grounding.js";
import type { LeafColumn } from "../../schema/columns.js";
import { cellText, flattenRecordInto } from "./flatten.js";

/** How rows are written: CSV with flattened columns, or one JSON object per line. */
export type OutputFormat = "csv" | "jsonl";

/** What the writer needs of one finished row. */
export interface OutputRow {
  index: number;
  /** The input row as read (all input columns, not only those sent to the model). */
  input: Record<string, string>;
  /** The extracted record; present when the row succeeded. */
  data?: unknown;
  /** Why the row failed; present when it failed. */
  error?: { code: string; message: string };
  attempts: number;
  usage: Usage;
  /** True when the accepted reply needed a local JSON repair (JSONL writes it; absent means not known). */
  repaired?: boolean;
  /** Field paths whose loose values were read as the schema's type (JSONL writes it; absent means not known). */
  coerced?: readonly string[];
  /** Where each value was found in the input (successful rows, with grounding on). */
  spans?: readonly Span[];
  /** The field paths of values found nowhere in the input (successful rows, with grounding on). */
  ungrounded?: readonly string[];
}

/** Options of {@link createOutputWriter}. */
export interface OutputOptions {
  format: OutputFormat;
  /** Input column names, in order (CSV: written first). */
  inputColumns: readonly string[];
  /** The schema's leaf columns, from `leafColumns()` (CSV only). */
  leaves: readonly LeafColumn[];
  /** Guard CSV cells against spreadsheet formula injection. @default true for CSV (ignored for JSONL) */
  formulaGuard?: boolean;
  /** Write what grounding found: CSV, an `_ungrounded` column; JSONL, `spans` and `ungrounded`. @default false */
  grounding?: boolean;
}

/** Writes finished rows to a stream, in the order they are given. */
export interface OutputWriter {
  /** The CSV header actually written (after collision renaming); [] for JSONL. */
  readonly header: readonly string[];
  /** Writes one row; resolves when the destination can take more (honours backpressure: awaits 'drain'). */
  write(row: OutputRow): Promise<void>;
  /** Ends the stream and resolves when everything is flushed to the destination (for files: 'finish'/'close'); rejects on a stream error. */
  close(): Promise<void>;
}

/** Column that says why a row failed (`CODE: message`), empty when it succeeded. */
const ERROR_COLUMN = "_error";
/** Column listing the fields whose value is nowhere in the input, comma-separated (with grounding). */
const UNGROUNDED_COLUMN = "_ungrounded";
/** Prefix given to an output column whose name is already taken by an input column. */
const COLLISION_PREFIX = "extracted.";

/**
 * Creates the writer. For CSV the header row is written at once, so even 0 rows give a
 * header-only file: the input columns, then the leaf columns, then (with `grounding`)
 * `_ungrounded`, then `_error`. A leaf (or `_ungrounded`, `_error`) whose name is already an
 * input column is written as `extracted.<name>`, so no input
 * value is shadowed (re-running on an earlier output file renames every extracted column).
 * Cells are RFC 4180 quoted, records end in "\n", no BOM. `close()` ends the destination, except
 * `process.stdout`/`process.stderr`, which are flushed and left open for whatever prints next.
 *
 * Formula guard (CSV, on by default): a cell starting with `=`, `+`, `-`, `@`, TAB or CR (or
 * their full-width forms, which some spreadsheets normalize) gets a leading `'`, so a spreadsheet
 * shows it as text instead of running it; input cells too, since customer text is untrusted.
 * Plain numbers (`-12.50`, `+3`, `-0.5e3`) are left alone: they run nothing, and prefixing
 * negative amounts would corrupt data.
 *
 * Options come checked (`normalizeCsvOptions()`). Writing rejects with `OUTPUT_UNWRITABLE`
 * naming the destination when the stream fails.
 * @example
 * const writer = createOutputWriter(createWriteStream("out.csv"), { format: "csv", inputColumns, leaves });
 * for await (const result of extract(rows, options)) await writer.write({ ...result, input: result.row });
 * await writer.close();
 */
export function createOutputWriter(destination: Writable, options: OutputOptions): OutputWriter {
  const csv = options.format === "csv";
  const guard = csv && options.formulaGuard !== false;
  const grounding = options.grounding ?? false;
  const header = csv ? csvHeader(options.inputColumns, options.leaves, grounding).map((name) => (guard ? guardFormula(name) : name)) : [];

  // CSV goes through csv-stringify's stream, piped into the destination; JSONL lines go
  // straight to the destination. Either way backpressure shows on `head`.
  const stringifier = csv
    ? stringify({ bom: false, header: false, eof: true, record_delimiter: "\n", quote_record_delimiter: true })
    : undefined;
  const head: Writable = stringifier ?? destination;
  // Standard output is flushed but left open: the caller (or a later run) may still print to it.
  const endsDestination = destination !== process.stdout && destination !== process.stderr;

  let failure: ExtractError | undefined;
  let rejectFailed!: (error: ExtractError) => void;
  const failed = new Promise<never>((_resolve, reject) => (rejectFailed = reject));
  failed.catch(() => {}); // observed through Promise.race in write() and close()
  const fail = (error: unknown) => {
    if (failure) return;
    failure = outputError(destination, error);
    rejectFailed(failure);
    stringifier?.destroy();
  };
  let resolveFinished!: () => void;
  const destinationFinished = new Promise<void>((resolve) => (resolveFinished = resolve));
  // Errors, and a destination closed before we end it, both arrive here. `readable: false`
  // because a duplex destination (a TTY stdout is a socket) never ends its readable side.
  const stopWatching = finished(destination, { readable: false }, (error) => (error ? fail(error) : resolveFinished()));
  stringifier?.on("error", fail);
  stringifier?.pipe(destination, { end: false });

  /** `pending`, or the writer's failure if the destination fails first. */
  async function untilFailed(pending: Promise<unknown>): Promise<void> {
    try {
      await Promise.race([pending, failed]);
    } catch (error) {
      throw failure ?? outputError(destination, error);
    }
  }

  const toChunk = csv
    ? csvRowCells(options.inputColumns, options.leaves, guard, grounding)
    : (row: OutputRow): string => jsonLine(row, grounding);
  stringifier?.write(header);
  let closing: Promise<void> | undefined;

  async function write(row: OutputRow): Promise<void> {
    if (failure) throw failure;
    if (closing) throw new ExtractError("OUTPUT_UNWRITABLE", `Cannot write row ${row.index}: the output writer is already closed.`);
    if (!head.write(toChunk(row))) await untilFailed(once(head, "drain"));
  }

  async function finish(): Promise<void> {
    if (stringifier) {
      stringifier.end();
      await untilFailed(once(stringifier, "end"));
    }
    if (endsDestination) {
      destination.end();
      await untilFailed(destinationFinished);
    } else {
      await untilFailed(new Promise<void>((resolve, reject) => destination.write("", (error) => (error ? reject(error) : resolve()))));
    }
    stopWatching();
  }

  function close(): Promise<void> {
    if (failure) return Promise.reject(failure);
    closing ??= finish();
    return closing;
  }

  return { header, write, close };
}

function csvHeader(inputColumns: readonly string[], leaves: readonly LeafColumn[], grounding: boolean): string[] {
  const taken = new Set(inputColumns);
  const extracted = [...leaves.map((leaf) => leaf.name), ...(grounding ? [UNGROUNDED_COLUMN] : []), ERROR_COLUMN].map((name) => {
    let unique = name;
    while (taken.has(unique)) unique = COLLISION_PREFIX + unique;
    taken.add(unique);
    return unique;
  });
  return [...inputColumns, ...extracted];
}

/** The function that turns a row into its CSV cells; everything that does not vary per row is fixed here. */
function csvRowCells(
  inputColumns: readonly string[],
  leaves: readonly LeafColumn[],
  guard: boolean,
  grounding: boolean,
): (row: OutputRow) => string[] {
  const leafOffset = inputColumns.length;
  const ungroundedIndex = leafOffset + leaves.length;
  const errorIndex = ungroundedIndex + (grounding ? 1 : 0);
  const width = errorIndex + 1;
  return (row) => {
    // A fresh array per row: csv-stringify may hold it in its buffer while the destination is full.
    const cells = new Array<string>(width);
    for (let i = 0; i < leafOffset; i++) cells[i] = cellText(row.input[inputColumns[i]!]);
    if (row.error) {
      cells.fill("", leafOffset, errorIndex);
      cells[errorIndex] = `${row.error.code}: ${row.error.message}`;
    } else {
      flattenRecordInto(row.data, leaves, cells, leafOffset);
      if (grounding) cells[ungroundedIndex] = row.ungrounded?.join(",") ?? "";
      cells[errorIndex] = "";
    }
    if (guard) for (let i = 0; i < width; i++) cells[i] = guardFormula(cells[i]!);
    return cells;
  };
}

/**
 * One JSONL line; the objects are rebuilt so the key order is fixed and no extra fields leak in.
 * With grounding every line has `spans` and `ungrounded`, `[]` for a failed row (no values).
 */
function jsonLine(row: OutputRow, grounding: boolean): string {
  const error = row.error ? { code: row.error.code, message: row.error.message } : null;
  const usage = { prompt_tokens: row.usage.prompt_tokens, completion_tokens: row.usage.completion_tokens };
  const data = row.data === undefined ? null : row.data;
  const line = { index: row.index, input: row.input, data, error, attempts: row.attempts, usage, repaired: row.repaired, coerced: row.coerced };
  if (!grounding) return `${JSON.stringify(line)}\n`;
  const spans = (row.spans ?? []).map(({ path, column, start, end, match }) => ({ path, column, start, end, match }));
  return `${JSON.stringify({ ...line, spans, ungrounded: row.ungrounded ?? [] })}\n`;
}

/** A number a spreadsheet reads as a number, never as a formula. */
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `cell` prefixed with `'` when a spreadsheet would run it as a formula (see {@link createOutputWriter}). */
export function guardFormula(cell: string): string {
  switch (cell.charCodeAt(0)) {
    case 0x3d: // =
    case 0x40: // @
    case 0x09: // TAB
    case 0x0d: // CR
    case 0xff1d: // full-width =
    case 0xff20: // full-width @
    case 0xff0b: // full-width +
    case 0xff0d: // full-width -
      return `'${cell}`;
    case 0x2b: // +
    case 0x2d: // -
      return PLAIN_NUMBER.test(cell) ? cell : `'${cell}`;
    default:
      return cell;
  }
}

/** `OUTPUT_UNWRITABLE` naming the destination (the file path of an `fs.WriteStream`) and the reason. */
function outputError(destination: Writable, cause: unknown): ExtractError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const path = (destination as { path?: unknown }).path;
  const file = typeof path === "string" ? path : Buffer.isBuffer(path) ? path.toString() : undefined;
  if (file !== undefined) {
    return new ExtractError(
      "OUTPUT_UNWRITABLE",
      `Cannot write the output file ${file}: ${reason}. Check that its folder exists, that you may write there and that the disk is not full.`,
      { file, cause },
    );
  }
  const where = (destination as { fd?: unknown }).fd === 1 ? "standard output" : "the output stream";
  return new ExtractError("OUTPUT_UNWRITABLE", `Cannot write the output to ${where}: ${reason}.`, { cause });
}
