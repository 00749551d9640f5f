import { ExtractError } from "../errors/extract-error.js";
import type { Usage } from "../engine/types.js";
import { buildCorrectionMessages, buildMessages, buildTruncationMessages, type ChatMessage, type InputRecord } from "../core/prompt.js";
import type { RunContext } from "./context.js";
import { countTokens } from "../models/tokens.js";
import type { ObjectSchema } from "../schema/json-schema.js";
import { validateReply, type ReplyFailure } from "../core/verdict.js";

/** How one row ended, after all its attempts. */
export type RowOutcome<T> = {
  attempts: number;
  /** Tokens of every attempt, failed ones included: what the row cost. */
  usage: Usage;
  /** True when the accepted reply needed a local JSON repair. */
  repaired: boolean;
  /** The output token budget of the last call (a resume retries a cut-off row once it is raised). */
  maxTokens: number;
} & ({ ok: true; data: T } | { ok: false; error: ExtractError });

/**
 * Asks the model for one record until a reply fits the schema or `maxAttempts` calls are spent.
 * Cut-off replies are re-asked with a doubled output budget (up to `maxTokensCap`); unparseable
 * or ill-shaped replies are re-asked with the reply and what was wrong with it; refusals and
 * content-filter stops end the row at once. Transport errors end the row too: the engine has
 * already retried them. Never throws, except for aborts of the whole run.
 */
export async function extractRecord<S extends ObjectSchema>(
  context: RunContext<S>,
  record: InputRecord,
  signal?: AbortSignal,
): Promise<RowOutcome<S["_output"]>> {
  const { engine, schema, settings } = context;
  const firstMessages = buildMessages(context.systemPrompt, record);
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  const tooLarge = checkInputSize(context, record, firstMessages);
  if (tooLarge) return { ok: false, error: tooLarge, attempts: 0, usage, repaired: false, maxTokens: settings.maxTokens };
  let messages: ChatMessage[] = firstMessages;
  let maxTokens = settings.maxTokens;
  let lastFailure: ReplyFailure | undefined;
  let lastMaxTokens = maxTokens;
  let attempts = 0;

  while (attempts < settings.maxAttempts) {
    attempts++;
    lastMaxTokens = maxTokens;
    let reply;
    try {
      reply = await engine.complete({ messages, maxTokens, temperature: settings.temperature, signal, replyFormat: context.replyFormat });
    } catch (error) {
      const failure = error instanceof ExtractError ? error : new ExtractError("MODEL_ERROR", String(error), { cause: error });
      failure.attempts = attempts;
      return { ok: false, error: failure, attempts, usage, repaired: false, maxTokens };
    }
    usage.prompt_tokens += reply.usage.prompt_tokens;
    usage.completion_tokens += reply.usage.completion_tokens;

    const verdict = validateReply(reply, schema);
    if (verdict.ok) return { ok: true, data: verdict.data, attempts, usage, repaired: verdict.repaired, maxTokens };
    lastFailure = verdict;
    if (verdict.code === "REFUSED" || verdict.code === "CONTENT_FILTERED") break;
    if (verdict.code === "OUTPUT_TRUNCATED") {
      lastFailure = { ...verdict, message: `The reply was cut off at the output limit of ${maxTokens} tokens.` };
      maxTokens = Math.min(maxTokens * 2, settings.maxTokensCap);
      messages = buildTruncationMessages(firstMessages);
      continue;
    }
    messages = buildCorrectionMessages(firstMessages, reply.content ?? "", verdict.feedback);
  }

  const failure = lastFailure!;
  const advice = ADVICE[failure.code];
  const error = new ExtractError(failure.code, `${sentence(failure.message, attempts)}${advice ? ` ${advice}` : ""}`, { attempts });
  return { ok: false, error, attempts, usage, repaired: false, maxTokens: lastMaxTokens };
}

/**
 * The failure as one sentence, with the attempt count, so that advice after it reads as the
 * next sentence: zod's issues and JSON.parse's messages end without a period.
 */
function sentence(message: string, attempts: number): string {
  if (attempts <= 1 && /[.!?]$/.test(message)) return message;
  return `${message.replace(/\.$/, "")}${attempts > 1 ? ` (after ${attempts} attempts)` : ""}.`;
}

/**
 * `INPUT_TOO_LARGE` when the first attempt's prompt is over `maxInputTokens`, naming the largest
 * field, so the row fails before any call rather than at the server (or, worse, after a bill).
 */
function checkInputSize(context: RunContext, record: InputRecord, messages: readonly ChatMessage[]): ExtractError | undefined {
  const limit = context.settings.maxInputTokens;
  if (!context.countInputTokens || limit === undefined) return undefined;
  const tokens = context.countInputTokens(messages);
  if (tokens <= limit) return undefined;
  // Only on this rare path: the size of each field, to say which one to cut.
  let largest: { field: string; tokens: number } | undefined;
  for (const [field, value] of Object.entries(record)) {
    const size = countTokens(typeof value === "string" ? value : JSON.stringify(value) ?? "", context.settings.model);
    if (!largest || size > largest.tokens) largest = { field, tokens: size };
  }
  const where = largest ? ` The largest field is "${largest.field}" (${largest.tokens.toLocaleString("en-US")} tokens).` : "";
  return new ExtractError(
    "INPUT_TOO_LARGE",
    `The prompt would be ${tokens.toLocaleString("en-US")} tokens, over \`maxInputTokens\` ${limit.toLocaleString("en-US")}.${where} Send fewer \`columns\`, shorten the field, or raise \`maxInputTokens\`.`,
    { attempts: 0, path: largest?.field },
  );
}

/**
 * What a user can do about each way a row's replies may fail. Options are named in backticks
 * (the CLI prints them as flags); this text also goes into `_error` cells and the journal.
 */
const ADVICE: Partial<Record<ReplyFailure["code"], string>> = {
  OUTPUT_TRUNCATED: "Raise `maxTokens` / `maxTokensCap`, or make the schema's strings shorter.",
  INVALID_JSON: "Try a model that follows JSON mode more reliably, or raise `maxAttempts`.",
  SCHEMA_MISMATCH: "Check the field descriptions and allowed values, or raise `maxAttempts`.",
};
