import type { RowResult } from "../core/row-result.js";
import type { AttemptBudget } from "../core/step.js";
import { isTransient } from "../errors/codes.js";

/**
 * Whether a stored result still stands for a run with `budget`, or the row is to be done again.
 * The budgets are not part of the row key (raising them changes no answer already given), but a
 * failure they caused is tried again once they are raised:
 * - successes stand, except those with `coerced` values once `coerce` is off;
 * - transient failures (`ERROR_CODES[code].transient`: transport, `INPUT_TOO_LARGE`) never do;
 * - `INVALID_JSON` / `SCHEMA_MISMATCH` stand until `maxAttempts` exceeds the attempts the row had;
 * - `OUTPUT_TRUNCATED` stands until the largest output budget the run could reach (`maxTokens`
 *   doubled per attempt, up to `maxTokensCap`) exceeds the row's last one.
 */
export function stillStands(result: RowResult, budget?: AttemptBudget): boolean {
  if (result.ok) return !(budget && !budget.coerce && result.coerced.length > 0);
  const code = result.error.code;
  if (isTransient(code)) return false;
  if (!budget) return true;
  if (code === "INVALID_JSON" || code === "SCHEMA_MISMATCH") return budget.maxAttempts <= result.attempts;
  if (code === "OUTPUT_TRUNCATED") return result.maxTokens === undefined || largestOutputBudget(budget) <= result.maxTokens;
  return true;
}

/** The output budget of the last attempt a row may make: the attempt step doubles it after each cut-off reply. */
function largestOutputBudget(budget: AttemptBudget): number {
  return Math.min(budget.maxTokensCap, budget.maxTokens * 2 ** (budget.maxAttempts - 1));
}
