import type { PacingStats } from "./http/pacing.js";
import type { JsonSchema } from "../schema/json-schema.js";

/** One Chat Completions message, as llm-extract sends them (the engines' input, built by core/prompt). */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
  /**
   * True on the assistant message of a few-shot example: the record the model should give for the
   * example's input, not a reply of this row. In `tools` mode it is sent as a call of the mode's
   * function (with the tool message that answers it), the way the model's own reply comes back.
   * Never sent on the wire.
   */
  example?: true;
}

/** Tokens billed for one or more model calls, in the Chat Completions API's own terms. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** One model call, as the attempt loop asks for it. */
export interface CompletionRequest {
  messages: ChatMessage[];
  /** Output budget for this call; hitting it ends the reply with finish reason `length`. */
  maxTokens: number;
  temperature?: number;
  signal?: AbortSignal;
  /** How the reply's JSON is asked for. @default { mode: "json_object" } */
  replyFormat?: ReplyFormat;
}

/**
 * How the JSON of a reply is asked for (the `mode` option):
 * - `json_object`: JSON mode, `response_format: {type: "json_object"}`; the schema is only in the prompt.
 * - `json_schema`: strict Structured Outputs, `response_format: {type: "json_schema", json_schema: {name, strict: true, schema}}`.
 * - `tools`: one function whose `parameters` is the schema, forced with `tool_choice`; its arguments are the reply.
 */
export type ReplyFormat =
  | { mode: "json_object" }
  | { mode: "json_schema"; name: string; schema: JsonSchema }
  | { mode: "tools"; name: string; schema: JsonSchema; strict: boolean };

/** The ways a reply's JSON can be asked for; see {@link ReplyFormat}. */
export type ExtractMode = ReplyFormat["mode"];

/** What came back from one model call, before any parsing. */
export interface CompletionReply {
  /** The reply's text; in `tools` mode, the arguments of the function call. */
  content: string | null;
  /** The model's refusal text (OpenAI's `message.refusal`), null when it answered. */
  refusal: string | null;
  /** `stop`, `length`, `content_filter`, ... as the API reports it. */
  finishReason: string;
  usage: Usage;
}

/**
 * A chat model that answers in JSON. The HTTP engine (any Chat Completions server) and the
 * embedded engine both implement it; nothing above this interface knows which one runs.
 * Transport failures are thrown as `ExtractError`s after the engine's own retries.
 */
export interface ChatEngine {
  /** The model name, as reported in results and summaries. */
  readonly model: string;
  /** HTTP engines: requests sent (retries included) and 429s, for honest summaries. */
  readonly pacing?: PacingStats;
  /**
   * Calls beyond the run's concurrency that may wait inside the engine for a request slot (the
   * HTTP engine's pacer queues them). The runner starts that many rows more than the concurrency,
   * so the next row's request is built and waiting when an answer frees a slot, rather than built
   * after the answered row is validated and written. Undefined: the runner starts exactly
   * `concurrency` rows (an engine that would run every call it is given at once).
   */
  readonly waitingCalls?: number;
  complete(request: CompletionRequest): Promise<CompletionReply>;
}
