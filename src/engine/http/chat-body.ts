import type OpenAI from "openai";
import { ExtractError } from "../../errors/extract-error.js";
import type { ChatMessage, CompletionReply, CompletionRequest, ReplyFormat } from "../types.js";

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

/**
 * `JSON.stringify(body)` for a body from {@link chatRequestBody}, the same bytes, with the frozen
 * parts written once and reused: the system message, the few-shot examples and, in `json_schema`
 * and `tools` mode, the schema are the same objects in every row's body, and most of its bytes
 * (5 KB with the ticket schema's examples: building and writing a body took 21 µs of a row's
 * CPU, 8 µs with them cached; 27 and 5 in `json_schema` mode). Only the top level and the
 * messages array are walked; every other value is one `JSON.stringify` (or its cached result).
 */
export function chatBodyJson(body: OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming): string {
  let json = "";
  for (const key of Object.keys(body)) {
    const value = (body as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const valueJson = key === "messages" ? `[${(value as readonly object[]).map(jsonOf).join(",")}]` : jsonOf(value);
    json += `${json === "" ? "{" : ","}${JSON.stringify(key)}:${valueJson}`;
  }
  return json === "" ? "{}" : `${json}}`;
}

/** The JSON of frozen objects (made once per run, never changed), by object. */
const frozenJson = new WeakMap<object, string>();

function jsonOf(value: unknown): string {
  if (typeof value !== "object" || value === null || !Object.isFrozen(value)) return JSON.stringify(value);
  let json = frozenJson.get(value);
  if (json === undefined) frozenJson.set(value, (json = JSON.stringify(value)));
  return json;
}

/** The body of one Chat Completions call for `request` (its signal aside). */
export function chatRequestBody(
  model: string,
  request: Omit<CompletionRequest, "signal">,
  tokenLimitField: TokenLimitField,
): OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming {
  const replyFormat = request.replyFormat ?? JSON_OBJECT;
  return {
    model,
    messages: wireMessages(request.messages, replyFormat),
    ...modeFields(replyFormat),
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

/** What the function of `tools` mode answers to an example's call: the call is what teaches. */
const EXAMPLE_TOOL_RESULT = "Recorded.";

type WireMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/**
 * The messages as the API takes them. A few-shot example's answer is an assistant message in
 * the JSON modes; in `tools` mode it is a call of the mode's function with the record as its
 * arguments, answered by a tool message (the API refuses a call left unanswered), so the examples
 * show the model the reply the mode asks for. Call ids are numbered by example, so the prefix is
 * the same bytes for every row.
 */
function wireMessages(messages: readonly ChatMessage[], format: ReplyFormat): WireMessage[] {
  // Without examples the messages are already in the API's shape.
  if (!messages.some((message) => message.example)) return messages as WireMessage[];
  const wire: WireMessage[] = [];
  let examples = 0;
  for (const message of messages) {
    if (!message.example) {
      // A frozen message (the system message, an example's input) is its own wire form, and
      // stays the one object chatBodyJson serializes once.
      wire.push(Object.isFrozen(message) ? (message as WireMessage) : { role: message.role, content: message.content });
    } else {
      wire.push(...exampleReply(message, format, ++examples));
    }
  }
  return wire;
}

/** The wire form of a few-shot example's answer, per example and mode: the same frozen objects for every row. */
const exampleReplies = new WeakMap<ChatMessage, { key: string; wire: readonly WireMessage[] }>();

function exampleReply(message: ChatMessage, format: ReplyFormat, number: number): readonly WireMessage[] {
  const key = format.mode === "tools" ? `tools:${format.name}:${number}` : "json";
  const cached = exampleReplies.get(message);
  if (cached?.key === key) return cached.wire;
  const id = `example_${number}`;
  const wire: WireMessage[] =
    format.mode !== "tools"
      ? [{ role: "assistant", content: message.content }]
      : [
          { role: "assistant", tool_calls: [{ id, type: "function", function: { name: format.name, arguments: message.content } }] },
          { role: "tool", tool_call_id: id, content: EXAMPLE_TOOL_RESULT },
        ];
  const frozen = Object.freeze(wire.map((each) => Object.freeze(each)));
  // Only a frozen example (built once per run) is worth keeping; one made for a single call is not.
  if (Object.isFrozen(message)) exampleReplies.set(message, { key, wire: frozen });
  return frozen;
}

/** {@link modeFieldsOf}, once per format object (a run's is one object): frozen, so chatBodyJson writes the schema once. */
const modeFieldsCache = new WeakMap<ReplyFormat, Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming>>();

function modeFields(format: ReplyFormat): Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming> {
  let fields = modeFieldsCache.get(format);
  if (!fields) {
    fields = modeFieldsOf(format);
    for (const value of Object.values(fields)) Object.freeze(value);
    modeFieldsCache.set(format, fields);
  }
  return fields;
}

/** The request fields that ask for JSON the way `format.mode` says. */
function modeFieldsOf(format: ReplyFormat): Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming> {
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
