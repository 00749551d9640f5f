import { createRequire } from "node:module";
import type { ChatMessage } from "../engine/types.js";
import { modelInfo, type EncodingName } from "./catalogue.js";

// Tokens are counted two ways, each on purpose:
// - exactly, in the model's encoding from the catalogue (countTokens and the counters built on it):
//   what OpenAI bills, for the dry run, `maxInputTokens` and the size of a field;
// - by OpenAI's admission rule (estimateAdmissionTokens): what a request counts against a
//   tokens-per-minute limit, known without a tokenizer, for the pacer.

type EncodingModule = typeof import("gpt-tokenizer/encoding/o200k_base");

/**
 * Framing tokens of every message in OpenAI's chat format (`<|start|>`, the separator after the
 * role, `<|end|>`), on top of the tokens of its role and content. From OpenAI's cookbook "How to
 * count tokens with tiktoken", which holds for gpt-3.5-turbo-0613 and every later chat model.
 */
export const TOKENS_PER_MESSAGE = 3;

/** Tokens that prime the reply (`<|start|>assistant<|message|>`), counted once per request. */
export const REPLY_PRIMING_TOKENS = 3;

// Text in a cell such as "<|endoftext|>" reaches the API as plain text, not as a special token;
// gpt-tokenizer would throw on it by default, so special tokens are counted as ordinary text.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

const loadedEncodings = new Map<EncodingName, EncodingModule>();

// Each encoding costs 0.3-0.7 s and 40-70 MB to build, so it is loaded on first use, and only the
// one the model needs. require() keeps the count functions synchronous: ESM offers only an async
// import() for loading on demand.
const requireEncoding = createRequire(import.meta.url);

function loadEncoding(name: EncodingName): EncodingModule {
  let encoding = loadedEncodings.get(name);
  if (!encoding) {
    encoding = requireEncoding(`gpt-tokenizer/encoding/${name}`) as EncodingModule;
    loadedEncodings.set(name, encoding);
  }
  return encoding;
}

/**
 * True when token counts for this model are exact: a known OpenAI chat model (gpt-3.5-turbo,
 * gpt-4*, gpt-4o*, gpt-4.1*, gpt-5*, o1/o3/o4*, chatgpt-4o*, and fine-tunes of them). False when
 * they are approximated with o200k_base.
 */
export function isExactTokenizer(model: string): boolean {
  return modelInfo(model).exactTokenizer;
}

/**
 * Tokens of a plain text in the model's encoding: o200k_base for gpt-4o*, gpt-4.1*, gpt-5*,
 * o-series and chatgpt-4o*; cl100k_base for gpt-4 and gpt-3.5-turbo; o200k_base as an
 * approximation for any other model (see {@link isExactTokenizer}).
 */
export function countTokens(text: string, model: string): number {
  if (text === "") return 0;
  return loadEncoding(modelInfo(model).encoding).countTokens(text, PLAIN_TEXT);
}

/**
 * Tokens one message adds to a chat request: its role, its content and the per-message framing.
 * A request costs the sum over its messages plus {@link REPLY_PRIMING_TOKENS}.
 */
export function countMessageTokens(message: ChatMessage, model: string): number {
  return TOKENS_PER_MESSAGE + countTokens(message.role, model) + countTokens(message.content, model);
}

/**
 * Counts the prompt tokens of a chat request as OpenAI bills them (`usage.prompt_tokens`): each
 * message's role and content in the model's encoding, plus {@link TOKENS_PER_MESSAGE} of framing
 * per message and {@link REPLY_PRIMING_TOKENS} once. Exact for known OpenAI models; for other
 * models the text is counted with o200k_base, an approximation (see {@link isExactTokenizer}).
 * Encodings are loaded on first use and kept.
 *
 * @example
 * countChatTokens(buildMessages(systemPrompt, { text: "Order #A-20417 arrived broken" }), "gpt-4o-mini");
 */
export function countChatTokens(messages: readonly ChatMessage[], model: string): number {
  return sumRequest(messages, (message) => countMessageTokens(message, model));
}

/** A request's prompt tokens: its messages, each counted by `countMessage`, plus the reply priming. */
function sumRequest(messages: readonly ChatMessage[], countMessage: (message: ChatMessage) => number): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += countMessage(message);
  return total;
}

/**
 * A prompt-token counter for the requests of one run: like {@link countChatTokens}, but the run's
 * system message and few-shot example messages, the same in every request, are counted once when
 * the counter is made rather than once per request. The dry run and the `maxInputTokens` check
 * both count with it. (In `tools` mode an example's answer goes as a function call, which the
 * API frames a little differently: the count is then close, not exact.)
 *
 * @param examples The run's example messages, from `buildExampleMessages` (recognized by identity).
 * @example
 * const countPrompt = promptTokenCounter(systemPrompt, "gpt-4o-mini");
 * countPrompt(buildMessages(systemPrompt, record)); // === countChatTokens(buildMessages(systemPrompt, record), "gpt-4o-mini")
 */
export function promptTokenCounter(
  systemPrompt: string,
  model: string,
  examples: readonly ChatMessage[] = [],
): (messages: readonly ChatMessage[]) => number {
  const systemTokens = countMessageTokens({ role: "system", content: systemPrompt }, model);
  const exampleTokens = new Map(examples.map((message) => [message, countMessageTokens(message, model)]));
  return (messages) =>
    sumRequest(messages, (message) =>
      message.role === "system" && message.content === systemPrompt
        ? systemTokens
        : (exampleTokens.get(message) ?? countMessageTokens(message, model)),
    );
}

/**
 * What a request counts against a tokens-per-minute limit, the way OpenAI estimates it when the
 * request arrives: the prompt at about four characters per token, plus the whole output budget
 * (`max_tokens`), whatever the reply turns out to use. The server admits by this estimate, not by
 * the tokenizer, so the pacer counts the same way, and needs no encoding loaded to do it.
 */
export function estimateAdmissionTokens(promptCharacters: number, maxTokens: number): number {
  return Math.ceil(promptCharacters / 4) + maxTokens;
}
