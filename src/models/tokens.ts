import { createRequire } from "node:module";
import type { ChatMessage } from "../core/prompt.js";

type EncodingName = "o200k_base" | "cl100k_base";
type EncodingModule = typeof import("gpt-tokenizer/encoding/o200k_base");

/**
 * Framing tokens of every message in OpenAI's chat format (`<|start|>`, the separator after the
 * role, `<|end|>`), on top of the tokens of its role and content. From OpenAI's cookbook "How to
 * count tokens with tiktoken", which holds for gpt-3.5-turbo-0613 and every later chat model.
 */
export const TOKENS_PER_MESSAGE = 3;

/** Tokens that prime the reply (`<|start|>assistant<|message|>`), counted once per request. */
export const REPLY_PRIMING_TOKENS = 3;

// Ordered: "gpt-4" must be tried after "gpt-4o" and "gpt-4.1", which it would otherwise swallow.
const ENCODING_BY_MODEL: readonly [RegExp, EncodingName][] = [
  [/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|o1|o3|o4)(-|$)/, "o200k_base"],
  [/^gpt-5([.-]|$)/, "o200k_base"],
  [/^(gpt-4|gpt-3\.5-turbo)(-|$)/, "cl100k_base"],
];

/** The encoding's own name plus whether it is the model's real one. */
function encodingOf(model: string): { name: EncodingName; exact: boolean } {
  const base = baseModelName(model);
  for (const [pattern, name] of ENCODING_BY_MODEL) {
    if (pattern.test(base)) return { name, exact: true };
  }
  // Most models served through Chat Completions-compatible servers (Llama, Mistral, Qwen...)
  // have their own tokenizers; o200k_base is the closest widely shared guess.
  return { name: "o200k_base", exact: false };
}

/** Fine-tuned models (`ft:gpt-4o-mini-2024-07-18:org::id`) tokenize like their base model. */
function baseModelName(model: string): string {
  const name = model.trim().toLowerCase();
  return name.startsWith("ft:") ? (name.slice(3).split(":")[0] ?? "") : name;
}

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
  return encodingOf(model).exact;
}

/**
 * Tokens of a plain text in the model's encoding: o200k_base for gpt-4o*, gpt-4.1*, gpt-5*,
 * o-series and chatgpt-4o*; cl100k_base for gpt-4 and gpt-3.5-turbo; o200k_base as an
 * approximation for any other model (see {@link isExactTokenizer}).
 */
export function countTokens(text: string, model: string): number {
  if (text === "") return 0;
  return loadEncoding(encodingOf(model).name).countTokens(text, PLAIN_TEXT);
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
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += countMessageTokens(message, model);
  return total;
}
