import type { PacingStats } from "../pacing.js";
import type { ChatMessage } from "../prompt.js";

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
}

/** What came back from one model call, before any parsing. */
export interface CompletionReply {
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
  complete(request: CompletionRequest): Promise<CompletionReply>;
}
