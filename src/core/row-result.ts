import type { Usage } from "../engine/types.js";
import { ExtractError, type ExtractErrorCode, type ExtractErrorContext } from "../errors/extract-error.js";
import type { Grounding } from "../quality/grounding.js";

/**
 * Why a row failed, as plain data: the code, the message and the error's whole context (the CSV
 * `line` of a `CSV_MALFORMED`, the field `path` of an `INPUT_TOO_LARGE`, ...). It is what the
 * library hands its callers and what the journal keeps. The original error, when there was one,
 * rides along as a non-enumerable `cause`, so it reaches {@link toExtractError} but never a file.
 */
export interface RowError extends Omit<ExtractErrorContext, "cause" | "fatal"> {
  code: ExtractErrorCode;
  message: string;
  readonly cause?: unknown;
}

/**
 * THE result of one row, from the attempt step's verdict through the journal to the writer. The
 * library's `ExtractResult` adds where the row stands (`index`, `row`, `reused`).
 */
export type RowResult<T = unknown> = {
  /** Model calls made for the row, re-asks included (0 if it failed before any call). */
  attempts: number;
  /** Tokens of every call for the row, failed attempts included: what the row cost. */
  usage: Usage;
  /** True when the accepted reply needed a local JSON repair (no extra call was made). */
  repaired: boolean;
  /**
   * The field paths (`total`, `order_items[0].quantity`) whose loose values were read as the
   * schema's type (`"123 USD"` as 123, `"yes"` as true) instead of a re-ask; [] when none, and
   * for failed rows.
   */
  coerced: string[];
  /**
   * Failed rows: the output token budget of the row's last call, so that a later run with a
   * higher budget tries an `OUTPUT_TRUNCATED` row again. Absent in journals of earlier versions.
   */
  maxTokens?: number;
} & ({ ok: true; data: T; error?: undefined } | { ok: false; data?: undefined; error: RowError });

/** No tokens: what a row costs before its first call. */
export function noUsage(): Usage {
  return { prompt_tokens: 0, completion_tokens: 0 };
}

/** The plain-data form of `error`: its code, message and every context field it has set. */
export function rowErrorOf(error: ExtractError): RowError {
  const { code, message, row, attempts, file, line, column, path } = error;
  const plain: RowError = { code, message };
  const context = { row, attempts, file, line, column, path };
  for (const [key, value] of Object.entries(context)) if (value !== undefined) Object.assign(plain, { [key]: value });
  if (error.cause !== undefined) Object.defineProperty(plain, "cause", { value: error.cause, enumerable: false });
  return plain;
}

/** A row that failed before or without a model call (a bad record, a prompt over the limit). */
export function failedBeforeAnyCall(error: ExtractError): RowResult<never> {
  return { ok: false, error: rowErrorOf(error), attempts: 0, usage: noUsage(), repaired: false, coerced: [] };
}

/** The error to throw for a failed row, where a caller wants an exception (`extractOne()`). */
export function toExtractError(error: RowError): ExtractError {
  const { code, message, cause, ...context } = error;
  return new ExtractError(code, message, { ...context, cause });
}

/** One input row: a record of column values, or a plain string (sent as `{ "text": ... }`). */
export type RowInput = Record<string, unknown> | string;

interface Placement<R> {
  /** 0-based position of the row in the input. */
  index: number;
  /** The row as it was given. */
  row: R;
  /**
   * True when no model call was made for this row in this run: its result came from the
   * journal or from an identical row. `attempts` and `usage` are then those of the original.
   */
  reused: boolean;
}

/**
 * A row that yielded valid data. With `grounding` on (the default) it has `spans` and
 * `ungrounded` (see `groundRecord()`), computed for this run from the row and the data, never
 * kept in the journal; with `grounding: false` neither is there.
 */
export type ExtractSuccess<T, R = RowInput> = Placement<R> & Omit<Extract<RowResult<T>, { ok: true }>, "maxTokens"> & Partial<Grounding>;

/** A row that failed after its attempts; the run goes on. `error` carries the error's whole context. */
export type ExtractFailure<R = RowInput> = Placement<R> &
  Omit<Extract<RowResult, { ok: false }>, "maxTokens"> & { spans?: undefined; ungrounded?: undefined };

/** The result for one row, as the library yields it: narrow on `ok` to reach typed `data` or `error`. */
export type ExtractResult<T, R = RowInput> = ExtractSuccess<T, R> | ExtractFailure<R>;
