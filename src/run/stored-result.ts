import type { ExtractErrorCode } from "../errors/extract-error.js";
import type { Usage } from "../engine/types.js";

// What a finished row leaves behind for later runs, and when that still answers for the row.

/** A finished row as stored: enough to write its output again without a model call. */
export interface StoredResult {
  ok: boolean;
  data?: unknown;
  error?: { code: ExtractErrorCode; message: string };
  attempts: number;
  usage: Usage;
  repaired: boolean;
  /**
   * Failed rows: the output token budget of the row's last call, so that a later run with a
   * higher budget tries an `OUTPUT_TRUNCATED` row again. Absent in journals of earlier versions.
   */
  maxTokens?: number;
}

/**
 * The budgets a row may spend: not part of the row key (raising them changes no answer already
 * given), but a failure they caused is tried again once they are raised (see {@link stillStands}).
 */
export interface RowBudget {
  maxAttempts: number;
  maxTokens: number;
  maxTokensCap: number;
}

/**
 * Failures worth another try on a later run: they say nothing about the row, only about the
 * network or the server at the time, or (INPUT_TOO_LARGE) about a limit the user may have raised
 * since; checking it again costs no call. Model-output failures are kept: re-asking costs money
 * and would most likely fail the same way, unless the budget that failed them was raised.
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(["RATE_LIMITED", "TIMEOUT", "CONNECTION_FAILED", "MODEL_ERROR", "INPUT_TOO_LARGE"]);

/**
 * Whether a stored result still stands for a run with `budget`, or the row is to be done again:
 * successes always stand; transport failures never do; a failure the budget caused stands only
 * while the budget is not raised: `INVALID_JSON` / `SCHEMA_MISMATCH` until `maxAttempts` exceeds
 * the attempts the row had, `OUTPUT_TRUNCATED` until the largest output budget the run could
 * reach (`maxTokens` doubled per attempt, up to `maxTokensCap`) exceeds the row's last one.
 */
export function stillStands(result: StoredResult, budget?: RowBudget): boolean {
  if (result.ok) return true;
  const code = result.error?.code;
  if (code === undefined || TRANSIENT_CODES.has(code)) return false;
  if (!budget) return true;
  if (code === "INVALID_JSON" || code === "SCHEMA_MISMATCH") return budget.maxAttempts <= result.attempts;
  if (code === "OUTPUT_TRUNCATED") return result.maxTokens === undefined || largestOutputBudget(budget) <= result.maxTokens;
  return true;
}

/** The output budget of the last attempt a row may make: the attempt loop doubles it after each cut-off reply. */
function largestOutputBudget(budget: RowBudget): number {
  return Math.min(budget.maxTokensCap, budget.maxTokens * 2 ** (budget.maxAttempts - 1));
}
