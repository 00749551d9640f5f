/**
 * Stable error codes. Callers branch on `code`, never on message text.
 *
 * Configuration (raised before any model call): `SCHEMA_NOT_FOUND`, `SCHEMA_INVALID`,
 * `SCHEMA_LOAD_FAILED`, `INVALID_OPTION`, `MISSING_API_KEY`, `ENGINE_UNAVAILABLE` (a `local:` or
 * `hf:` model without node-llama-cpp installed, or without a llama.cpp binary for the machine),
 * `COLUMN_NOT_FOUND`, `INPUT_UNREADABLE`, `OUTPUT_UNWRITABLE`. Input data: `INVALID_ENCODING`,
 * `CSV_MALFORMED`, `INPUT_TOO_LARGE`.
 * Model output (after the re-ask budget is spent): `INVALID_JSON`, `SCHEMA_MISMATCH`,
 * `OUTPUT_TRUNCATED`, `REFUSED`, `CONTENT_FILTERED`.
 * Transport (after the SDK's own retries): `AUTH_FAILED`, `MODEL_NOT_FOUND`, `QUOTA_EXCEEDED`,
 * `MODE_UNSUPPORTED` (the server refused the request shape of the `mode`: `response_format`, or
 * `tools` / `tool_choice`), `RATE_LIMITED`, `TIMEOUT`, `CONNECTION_FAILED`, `MODEL_ERROR`.
 * Run control: `ABORTED`.
 */
export type ExtractErrorCode =
  | "SCHEMA_NOT_FOUND"
  | "SCHEMA_INVALID"
  | "SCHEMA_LOAD_FAILED"
  | "INVALID_OPTION"
  | "MISSING_API_KEY"
  | "ENGINE_UNAVAILABLE"
  | "COLUMN_NOT_FOUND"
  | "INPUT_UNREADABLE"
  | "INVALID_ENCODING"
  | "CSV_MALFORMED"
  | "OUTPUT_UNWRITABLE"
  | "INPUT_TOO_LARGE"
  | "INVALID_JSON"
  | "SCHEMA_MISMATCH"
  | "OUTPUT_TRUNCATED"
  | "REFUSED"
  | "CONTENT_FILTERED"
  | "AUTH_FAILED"
  | "MODEL_NOT_FOUND"
  | "QUOTA_EXCEEDED"
  | "MODE_UNSUPPORTED"
  | "RATE_LIMITED"
  | "TIMEOUT"
  | "CONNECTION_FAILED"
  | "MODEL_ERROR"
  | "ABORTED";

/** Context attached to an {@link ExtractError}; every field is optional. */
export interface ExtractErrorContext {
  /** 0-based index of the input row the error belongs to. */
  row?: number;
  /** Model calls made for that row before giving up. */
  attempts?: number;
  /** File the error points at (schema file, CSV file). */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** 1-based column in `file`. */
  column?: number;
  /** Field path inside the schema or record, e.g. `contact.email`. */
  path?: string;
  /** The underlying error (an SDK `APIError`, a `SyntaxError`, a zod error...). */
  cause?: unknown;
  /**
   * True when this error ends the whole run although its code alone would fail only one row:
   * e.g. `CONNECTION_FAILED` before the server ever answered (see {@link endsRun}).
   */
  fatal?: boolean;
}

/** The context fields an {@link ExtractError} carries (declared once, merged into the class). */
export interface ExtractError extends Omit<ExtractErrorContext, "cause"> {}

/**
 * The one error class of llm-extract. Thrown at the public API edge; inside a batch, a failed
 * row carries `{ code, message }` in its result instead.
 */
export class ExtractError extends Error {
  override name = "ExtractError";
  readonly code: ExtractErrorCode;

  constructor(code: ExtractErrorCode, message: string, context: ExtractErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    const { cause: _cause, ...rest } = context;
    Object.assign(this, rest);
  }
}

/** Key-shaped tokens (OpenAI `sk-...`, bearer tokens) that must never reach output or logs. */
const KEY_PATTERN = /\b(sk-[A-Za-z0-9_*-]{6,}|Bearer\s+[A-Za-z0-9._~+/*-]{8,})/g;

/**
 * Removes secrets from text that may be shown to a user: every literal secret given, and
 * anything shaped like an API key (servers echo keys back, partly masked, in 401 messages).
 */
export function redactSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let clean = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) clean = clean.split(secret).join("[redacted]");
  }
  return clean.replace(KEY_PATTERN, "[redacted]");
}
