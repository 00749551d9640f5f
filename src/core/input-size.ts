import { ExtractError } from "../errors/extract-error.js";
import { countTokens } from "../models/tokens.js";
import type { ChatMessage, InputRecord } from "./prompt.js";

/** What the input-size check needs: the limit, and how the run counts a first call's prompt. */
export interface InputSizeLimit {
  /** The `maxInputTokens` option. */
  maxInputTokens: number;
  /** Prompt tokens of a first call's messages (the run's system message counted once). */
  countInputTokens: (messages: readonly ChatMessage[]) => number;
  /** The model, whose tokenizer sizes each field. */
  model: string;
}

/**
 * `INPUT_TOO_LARGE` when the first call's prompt is over `maxInputTokens`, naming the largest
 * field, so the row fails before any call rather than at the server (or, worse, after a bill).
 */
export function checkInputSize(record: InputRecord, messages: readonly ChatMessage[], limit: InputSizeLimit): ExtractError | undefined {
  const tokens = limit.countInputTokens(messages);
  if (tokens <= limit.maxInputTokens) return undefined;
  // Only on this rare path: the size of each field, to say which one to cut.
  let largest: { field: string; tokens: number } | undefined;
  for (const [field, value] of Object.entries(record)) {
    const size = countTokens(typeof value === "string" ? value : JSON.stringify(value) ?? "", limit.model);
    if (!largest || size > largest.tokens) largest = { field, tokens: size };
  }
  const where = largest ? ` The largest field is "${largest.field}" (${largest.tokens.toLocaleString("en-US")} tokens).` : "";
  return new ExtractError(
    "INPUT_TOO_LARGE",
    `The prompt would be ${tokens.toLocaleString("en-US")} tokens, over \`maxInputTokens\` ${limit.maxInputTokens.toLocaleString("en-US")}.${where} Send fewer \`columns\`, shorten the field, or raise \`maxInputTokens\`.`,
    { attempts: 0, path: largest?.field },
  );
}
