import { checkInputSize } from "../core/input-size.js";
import { buildMessages, type InputRecord } from "../core/prompt.js";
import { failedBeforeAnyCall, type RowResult } from "../core/row-result.js";
import { attemptBudgetOf, startRow, stepRow, type RowState } from "../core/step.js";
import { endsRun } from "../errors/codes.js";
import { ExtractError } from "../errors/extract-error.js";
import type { ObjectSchema } from "../schema/json-schema.js";
import type { PromptContext, RunContext } from "./context.js";

/**
 * Extracts one record with the run's engine, one call at a time: the synchronous driver of the
 * attempt step (`stepRow`), which decides after each reply whether the row is done or what to
 * ask next. A row whose prompt is over `maxInputTokens` fails before any call.
 *
 * @returns the row's result, failed or not.
 * @throws ExtractError only for what ends the whole run (rejected credentials, an unknown model,
 * a server never reached, an abort...), with the attempts made so far.
 */
export async function extractRecord<S extends ObjectSchema>(context: RunContext<S>, record: InputRecord, signal?: AbortSignal): Promise<RowResult<S["_output"]>> {
  const first = firstCall(context, record);
  return "request" in first ? continueRow(context, first, signal) : first;
}

/**
 * A row's state before its first call, or, for a row whose prompt is over `maxInputTokens`, its
 * failed result (no call is made): where the synchronous and the batch runner both start a row.
 */
export function firstCall(context: PromptContext, record: InputRecord): RowState | RowResult<never> {
  const { settings } = context;
  const firstMessages = buildMessages(context.systemPrompt, record, context.exampleMessages);
  if (context.countInputTokens && settings.maxInputTokens !== undefined) {
    const limit = { maxInputTokens: settings.maxInputTokens, countInputTokens: context.countInputTokens, model: settings.model };
    const tooLarge = checkInputSize(record, firstMessages, limit);
    if (tooLarge) return { ...failedBeforeAnyCall(tooLarge), maxTokens: settings.maxTokens };
  }
  return startRow(firstMessages, attemptBudgetOf(settings));
}

/**
 * Drives a row from `state` to its result with the run's engine: from its first call, or from
 * where a batch left it (`batchFinish: "sync"` finishes a batch's re-asks this way).
 *
 * @throws ExtractError only for what ends the whole run, with the attempts made so far.
 */
export async function continueRow<S extends ObjectSchema>(context: RunContext<S>, state: RowState, signal?: AbortSignal): Promise<RowResult<S["_output"]>> {
  const { engine, schema, settings } = context;
  for (;;) {
    let answer;
    try {
      answer = await engine.complete({ ...state.request, temperature: settings.temperature, signal, replyFormat: context.replyFormat });
    } catch (error) {
      answer = error instanceof ExtractError ? error : new ExtractError("MODEL_ERROR", String(error), { cause: error });
      if (endsRun(answer)) {
        answer.attempts = state.attempts;
        throw answer;
      }
    }
    const step = stepRow(state, answer, schema);
    if (step.done) return step.result;
    state = step.state;
  }
}
