import type { ExtractErrorCode } from "./extract-error.js";

/** What a code means for the run, and what a user can do about it. */
export interface ErrorCodeRule {
  /**
   * `run`: no row can succeed (configuration, credentials, the caller's abort), so the first one
   * ends the whole run. `row`: one row failed; the others go on.
   */
  scope: "run" | "row";
  /**
   * True when a row that failed with it is tried again on resume: the failure said nothing about
   * the row, only about the network or the server at the time, or about a limit the user may have
   * raised since (checking `INPUT_TOO_LARGE` again costs no call). Model-output failures are kept:
   * re-asking costs money and would most likely fail the same way (unless their budget was raised).
   */
  transient: boolean;
  /**
   * Advice added to a row's failure message, naming options in backticks: the library shows them
   * as they are, the CLI renders each as its flag. Failures built elsewhere carry their advice in
   * their own message, where it depends on the details (which field, which URL).
   */
  advice?: string;
  /** The options the advice concerns, e.g. `["maxAttempts"]`. */
  options?: readonly string[];
}

const configuration: ErrorCodeRule = { scope: "run", transient: false };
const badRow: ErrorCodeRule = { scope: "row", transient: false };
const passing: ErrorCodeRule = { scope: "row", transient: true };

/** THE table of error codes: every code once, checked by the compiler. */
export const ERROR_CODES = {
  SCHEMA_NOT_FOUND: configuration,
  SCHEMA_INVALID: configuration,
  SCHEMA_LOAD_FAILED: configuration,
  INVALID_OPTION: configuration,
  MISSING_API_KEY: configuration,
  ENGINE_UNAVAILABLE: configuration,
  COLUMN_NOT_FOUND: configuration,
  INPUT_UNREADABLE: configuration,
  OUTPUT_UNWRITABLE: configuration,
  // Ends the run where it stands: the decoder cannot say where the next row begins.
  INVALID_ENCODING: configuration,
  // A row on its own, unless `strict` makes the reader throw it.
  CSV_MALFORMED: badRow,
  INPUT_TOO_LARGE: passing,
  INVALID_JSON: {
    ...badRow,
    advice: "Try a model that follows JSON mode more reliably, or raise `maxAttempts`.",
    options: ["maxAttempts"],
  },
  SCHEMA_MISMATCH: {
    ...badRow,
    advice: "Check the field descriptions and allowed values, or raise `maxAttempts`.",
    options: ["maxAttempts"],
  },
  OUTPUT_TRUNCATED: {
    ...badRow,
    advice: "Raise `maxTokens` / `maxTokensCap`, or make the schema's strings shorter.",
    options: ["maxTokens", "maxTokensCap"],
  },
  REFUSED: badRow,
  CONTENT_FILTERED: badRow,
  AUTH_FAILED: configuration,
  MODEL_NOT_FOUND: configuration,
  QUOTA_EXCEEDED: configuration,
  MODE_UNSUPPORTED: configuration,
  RATE_LIMITED: passing,
  TIMEOUT: passing,
  // A row's matter once the server has answered; before that the engine marks it `fatal`.
  CONNECTION_FAILED: passing,
  MODEL_ERROR: passing,
  ABORTED: configuration,
} as const satisfies Record<ExtractErrorCode, ErrorCodeRule>;

/** The codes that end the whole run instead of failing one row (scope `run` in {@link ERROR_CODES}). */
export const FATAL_CODES: ReadonlySet<ExtractErrorCode> = new Set(
  (Object.keys(ERROR_CODES) as ExtractErrorCode[]).filter((code) => ERROR_CODES[code].scope === "run"),
);

/** True when a row that failed with `code` is to be tried again by a later run (see {@link ErrorCodeRule.transient}). */
export function isTransient(code: ExtractErrorCode): boolean {
  return ERROR_CODES[code].transient;
}

/** The advice the table gives for `code`, if any. */
export function adviceFor(code: ExtractErrorCode): string | undefined {
  return (ERROR_CODES[code] as ErrorCodeRule).advice;
}

/** True when `error` ends the whole run: its code's scope is `run`, or it is marked `fatal`. */
export function endsRun(error: { code: ExtractErrorCode; fatal?: boolean }): boolean {
  return error.fatal === true || FATAL_CODES.has(error.code);
}
