import type { CompletionReply, Usage } from "../engine/types.js";
import { adviceFor } from "../errors/codes.js";
import { ExtractError } from "../errors/extract-error.js";
import type { ObjectSchema } from "../schema/json-schema.js";
import { buildCorrectionMessages, buildTruncationMessages, type ChatMessage } from "./prompt.js";
import { noUsage, rowErrorOf, type RowResult } from "./row-result.js";
import { validateReply, type ReplyFailure } from "./verdict.js";

/** What a row may spend on its attempts, and what it may fix locally instead of spending one. */
export interface AttemptBudget {
  /** Model calls per row, re-asks included. */
  maxAttempts: number;
  /** Output budget of the first call. */
  maxTokens: number;
  /** The most the output budget grows to after cut-off replies. */
  maxTokensCap: number;
  /** Read loose values as the schema's type where that is safe (`coerceToSchema`), instead of a re-ask. */
  coerce: boolean;
}

/** The next model call a row needs: its messages and its output budget. */
export interface AttemptRequest {
  messages: ChatMessage[];
  maxTokens: number;
}

/** Where a row stands between two calls. Plain data: a batch runner can keep it between files. */
export interface RowState {
  /** The first call's messages (system + row), which every re-ask starts from. */
  readonly firstMessages: readonly ChatMessage[];
  readonly budget: AttemptBudget;
  /** The call in flight (or about to be). */
  readonly request: AttemptRequest;
  /** Calls made so far, the one in flight included. */
  readonly attempts: number;
  /** Tokens of the calls answered so far. */
  readonly usage: Usage;
  /** Why the latest reply was not accepted. */
  readonly lastFailure?: ReplyFailure;
}

/** What to do after a reply: send `state.request`, or the row is done. */
export type StepOutcome<T> = { done: false; state: RowState } | { done: true; result: RowResult<T> };

/**
 * The budget fields of `settings` (the run's, which hold much more), picked once so that every
 * runner keys stored results and starts rows under the same budget.
 */
export function attemptBudgetOf({ maxAttempts, maxTokens, maxTokensCap, coerce }: AttemptBudget): AttemptBudget {
  return { maxAttempts, maxTokens, maxTokensCap, coerce };
}

/** The state of a row about to make its first call. */
export function startRow(firstMessages: readonly ChatMessage[], budget: AttemptBudget): RowState {
  return { firstMessages, budget, request: { messages: [...firstMessages], maxTokens: budget.maxTokens }, attempts: 1, usage: noUsage() };
}

/**
 * One step of a row's attempt loop, as a pure function: the row's state and what its latest call
 * brought (a reply, or the transport error the engine gave up with) in, the next call or the
 * row's result out. The synchronous runner drives it with an engine; a batch runner can drive it
 * with result files, one round of calls per file.
 *
 * - A reply that fits the schema (after local repair and coercion, if needed) finishes the row.
 * - A cut-off reply is asked again with a doubled output budget (up to `maxTokensCap`), without
 *   sending the cut-off text back.
 * - Unparseable or ill-shaped replies are asked again with the reply and what was wrong with it.
 * - A refusal or a content-filter stop ends the row at once, and so does a transport error (the
 *   engine has already retried it).
 * - When `maxAttempts` calls are spent, the last failure is the row's error, with the attempt
 *   count and the table's advice (`ERROR_CODES`).
 */
export function stepRow<S extends ObjectSchema>(state: RowState, answer: CompletionReply | ExtractError, schema: S): StepOutcome<S["_output"]> {
  const { attempts, request } = state;
  if (answer instanceof ExtractError) {
    answer.attempts = attempts;
    return { done: true, result: { ok: false, error: rowErrorOf(answer), attempts, usage: state.usage, repaired: false, coerced: [], maxTokens: request.maxTokens } };
  }
  const usage = {
    prompt_tokens: state.usage.prompt_tokens + answer.usage.prompt_tokens,
    completion_tokens: state.usage.completion_tokens + answer.usage.completion_tokens,
  };
  const verdict = validateReply(answer, schema, { coerce: state.budget.coerce });
  if (verdict.ok) return { done: true, result: { ok: true, data: verdict.data, attempts, usage, repaired: verdict.repaired, coerced: verdict.coerced } };

  const final = verdict.code === "REFUSED" || verdict.code === "CONTENT_FILTERED";
  if (final || attempts >= state.budget.maxAttempts) {
    const failure = verdict.code === "OUTPUT_TRUNCATED" ? truncatedAt(verdict, request.maxTokens) : verdict;
    return { done: true, result: failedAfterAttempts(failure, attempts, usage, request.maxTokens) };
  }
  const next: AttemptRequest =
    verdict.code === "OUTPUT_TRUNCATED"
      ? { messages: buildTruncationMessages(state.firstMessages), maxTokens: Math.min(request.maxTokens * 2, state.budget.maxTokensCap) }
      : { messages: buildCorrectionMessages(state.firstMessages, answer.content ?? "", verdict.feedback), maxTokens: request.maxTokens };
  return { done: false, state: { ...state, request: next, attempts: attempts + 1, usage, lastFailure: verdict } };
}

/**
 * A call that failed on the way and may pass if made again, inside a batch: a 5xx or 429 answer
 * to one request of a batch file, `batch_expired`, `request_timeout`, or a request the output and
 * error files both left out. The same request goes again as the row's next attempt (its budget
 * and messages unchanged), or, once `maxAttempts` calls are spent, the row fails with `error`.
 * The synchronous path never needs it: its engine retries transport failures itself (they are
 * not attempts) and {@link stepRow} ends the row on what still fails.
 */
export function retryRow(state: RowState, error: ExtractError): StepOutcome<never> {
  if (state.attempts >= state.budget.maxAttempts) {
    error.attempts = state.attempts;
    return { done: true, result: { ok: false, error: rowErrorOf(error), attempts: state.attempts, usage: state.usage, repaired: false, coerced: [], maxTokens: state.request.maxTokens } };
  }
  return { done: false, state: { ...state, attempts: state.attempts + 1 } };
}

/** A cut-off reply's message, with the budget it was cut off at. */
function truncatedAt(failure: ReplyFailure, maxTokens: number): ReplyFailure {
  return { ...failure, message: `The reply was cut off at the output limit of ${maxTokens} tokens.` };
}

function failedAfterAttempts(failure: ReplyFailure, attempts: number, usage: Usage, maxTokens: number): RowResult<never> {
  const advice = adviceFor(failure.code);
  const error = new ExtractError(failure.code, `${sentence(failure.message, attempts)}${advice ? ` ${advice}` : ""}`, { attempts });
  return { ok: false, error: rowErrorOf(error), attempts, usage, repaired: false, coerced: [], maxTokens };
}

/**
 * The failure as one sentence, with the attempt count, so that advice after it reads as the
 * next sentence: zod's issues and JSON.parse's messages end without a period.
 */
function sentence(message: string, attempts: number): string {
  if (attempts <= 1 && /[.!?]$/.test(message)) return message;
  return `${message.replace(/\.$/, "")}${attempts > 1 ? ` (after ${attempts} attempts)` : ""}.`;
}
