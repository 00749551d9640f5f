import type OpenAI from "openai";
import { ExtractError } from "../../errors/extract-error.js";
import type { CompletionReply, CompletionRequest, ReplyFormat } from "../types.js";

// The Chat Completions request body and the reading of its reply, as pure functions: the
// synchronous engine sends the body over HTTP, the batch runner writes it as a line of a Batch
// API file; both must send byte-for-byte the same request for the same row and attempt.

/** Which field carries the output budget: see {@link tokenLimitFieldFor}. */
export type TokenLimitField = "max_completion_tokens" | "max_tokens";

/**
 * OpenAI's own API has replaced max_tokens by max_completion_tokens (reasoning models reject the
 * old name); most self-hosted servers still only read max_tokens.
 */
export function tokenLimitFieldFor(baseURL: string): TokenLimitField {
  try {
    return new URL(baseURL).hostname === "api.openai.com" ? "max_completion_tokens" : "max_tokens";
  } catch {
    return "max_tokens";
  }
}

/** The body of one Chat Completions call for `request` (its signal aside). */
export function chatRequestBody(
  model: string,
  request: Omit<CompletionRequest, "signal">,
  tokenLimitField: TokenLimitField,
): OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming {
  return {
    model,
    messages: request.messages,
    ...modeFields(request.replyFormat ?? JSON_OBJECT),
    [tokenLimitField]: request.maxTokens,
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
  };
}

/**
 * What a completion says, as the attempt step reads it. In tools mode the JSON is the function
 * call's arguments; a server that ignored the forced tool_choice and answered in text gets its
 * text judged instead (and re-asked if it is not JSON).
 * @throws ExtractError `MODEL_ERROR` for a completion with no choices.
 */
export function replyOf(completion: OpenAI.Chat.Completions.ChatCompletion, replyFormat: ReplyFormat, server: string): CompletionReply {
  const choice = completion.choices?.[0];
  if (!choice) throw new ExtractError("MODEL_ERROR", `The server at ${server} answered with no choices.`);
  const toolCall = replyFormat.mode === "tools" ? choice.message.tool_calls?.find((call) => call.type === "function") : undefined;
  return {
    content: toolCall ? toolCall.function.arguments : choice.message.content,
    refusal: choice.message.refusal ?? null,
    finishReason: choice.finish_reason,
    usage: {
      prompt_tokens: completion.usage?.prompt_tokens ?? 0,
      completion_tokens: completion.usage?.completion_tokens ?? 0,
    },
  };
}

const JSON_OBJECT: ReplyFormat = { mode: "json_object" };

/** The request fields that ask for JSON the way `format.mode` says. */
function modeFields(format: ReplyFormat): Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming> {
  switch (format.mode) {
    case "json_object":
      return { response_format: { type: "json_object" } };
    case "json_schema":
      return { response_format: { type: "json_schema", json_schema: { name: format.name, strict: true, schema: format.schema } } };
    case "tools":
      return {
        tools: [
          { type: "function", function: { name: format.name, parameters: format.schema, ...(format.strict ? { strict: true } : {}) } },
        ],
        tool_choice: { type: "function", function: { name: format.name } },
      };
  }
}
