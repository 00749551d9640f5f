/**
 * The model catalogue: the one place that knows model families. Token counting (tokens.ts), cost
 * (pricing.ts) and the dry run's notes all read {@link modelInfo}, so a new model is one edit here.
 */

/** A tokenizer encoding shipped by gpt-tokenizer. */
export type EncodingName = "o200k_base" | "cl100k_base";

/** USD per 1M tokens. */
export interface ModelPrice {
  /** Prompt (input) tokens, uncached. */
  input: number;
  /** Completion (output) tokens, reasoning tokens included. */
  output: number;
}

/** What the pipeline knows about one model name, from {@link modelInfo}. */
export interface ModelInfo {
  /** The catalogue family the name belongs to ("gpt-4o", "o-series"...); undefined outside the catalogue. */
  family?: string;
  /** The tokenizer encoding used to count the model's tokens. */
  encoding: EncodingName;
  /**
   * True when {@link ModelInfo.encoding} is the model's own, so counts are what OpenAI bills. False
   * for models outside the catalogue (Llama, Mistral, Qwen... behind compatible servers), which
   * have their own tokenizers: o200k_base is the closest widely shared guess.
   */
  exactTokenizer: boolean;
  /** Standard-tier list price; undefined when unknown (variants, fine-tunes, other vendors). */
  price?: ModelPrice;
  /** Batch API price: half the list price, as OpenAI bills every model in its Batch API. */
  batch?: ModelPrice;
  /**
   * A reasoning model: it bills hidden reasoning tokens as completion tokens, which no count made
   * before the call can predict. (OpenAI's API also rejects `max_tokens` and a non-default
   * `temperature` for these models; the HTTP engine already sends `max_completion_tokens` to every
   * OpenAI host, and `temperature` only when the user sets one.)
   */
  reasoning: boolean;
}

interface ModelFamily {
  name: string;
  /** Tested against the lower-cased name; a fine-tune (`ft:<base>:org::id`) is tested by its base. */
  match: RegExp;
  encoding: EncodingName;
  reasoning: boolean;
  /**
   * List prices of the family's products by exact name. Only a dated snapshot of a product
   * ("gpt-4o-mini-2024-07-18") takes its price: "o3-pro" or "gpt-4o-realtime-preview" are other
   * products with other prices, and pricing them as "o3" or "gpt-4o" would understate the cost.
   * Snapshots priced unlike their product ("gpt-4o-2024-05-13") are listed themselves.
   */
  prices: Readonly<Record<string, ModelPrice>>;
}

/**
 * Ordered: the first matching family wins, so "gpt-5-chat-latest" (no reasoning) is tried before
 * "gpt-5". Prices are OpenAI's standard-tier list prices (not Batch, not cached input), USD per 1M
 * tokens, as published on openai.com/api/pricing in August 2025, after the GPT-5 launch. Update
 * them when OpenAI does. gpt-tokenizer ships price data too, but its v4.0.0 figures are off for
 * the main models (gpt-4o and gpt-5 at $10/$30), so the table is kept here.
 */
const FAMILIES: readonly ModelFamily[] = [
  {
    name: "gpt-5-chat",
    match: /^gpt-5[.-].*chat-latest/,
    encoding: "o200k_base",
    reasoning: false,
    prices: { "gpt-5-chat-latest": { input: 1.25, output: 10 } },
  },
  {
    name: "gpt-5",
    match: /^gpt-5([.-]|$)/,
    encoding: "o200k_base",
    reasoning: true,
    prices: {
      "gpt-5": { input: 1.25, output: 10 },
      "gpt-5-mini": { input: 0.25, output: 2 },
      "gpt-5-nano": { input: 0.05, output: 0.4 },
    },
  },
  {
    name: "o-series",
    match: /^(o1|o3|o4)(-|$)/,
    encoding: "o200k_base",
    reasoning: true,
    prices: {
      o1: { input: 15, output: 60 },
      "o1-mini": { input: 1.1, output: 4.4 },
      o3: { input: 2, output: 8 },
      "o3-pro": { input: 20, output: 80 },
      "o3-mini": { input: 1.1, output: 4.4 },
      "o4-mini": { input: 1.1, output: 4.4 },
    },
  },
  {
    name: "gpt-4.1",
    match: /^gpt-4\.1(-|$)/,
    encoding: "o200k_base",
    reasoning: false,
    prices: {
      "gpt-4.1": { input: 2, output: 8 },
      "gpt-4.1-mini": { input: 0.4, output: 1.6 },
      "gpt-4.1-nano": { input: 0.1, output: 0.4 },
    },
  },
  { name: "gpt-4.5", match: /^gpt-4\.5(-|$)/, encoding: "o200k_base", reasoning: false, prices: {} },
  {
    name: "gpt-4o",
    match: /^(gpt-4o|chatgpt-4o)(-|$)/,
    encoding: "o200k_base",
    reasoning: false,
    prices: {
      "gpt-4o": { input: 2.5, output: 10 },
      "gpt-4o-2024-05-13": { input: 5, output: 15 },
      "chatgpt-4o-latest": { input: 5, output: 15 },
      "gpt-4o-mini": { input: 0.15, output: 0.6 },
    },
  },
  {
    name: "gpt-4",
    match: /^gpt-4(-|$)/,
    encoding: "cl100k_base",
    reasoning: false,
    prices: {
      "gpt-4-turbo": { input: 10, output: 30 },
      "gpt-4": { input: 30, output: 60 },
      "gpt-4-0613": { input: 30, output: 60 },
    },
  },
  {
    name: "gpt-3.5-turbo",
    match: /^gpt-3\.5-turbo(-|$)/,
    encoding: "cl100k_base",
    reasoning: false,
    prices: {
      "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
      "gpt-3.5-turbo-0125": { input: 0.5, output: 1.5 },
    },
  },
];

const UNKNOWN: ModelInfo = { encoding: "o200k_base", exactTokenizer: false, reasoning: false };

const SNAPSHOT_SUFFIX = /^-\d{4}-\d{2}-\d{2}$/;

const known = new Map<string, Readonly<ModelInfo>>();

/**
 * Everything the catalogue knows about a model name: tokenizer encoding, list and Batch prices,
 * and quirks. Case and surrounding spaces are ignored; a fine-tuned model (`ft:gpt-4o-mini-...`)
 * tokenizes and reasons like its base model but has no list price here (fine-tunes are billed
 * differently). Each name is looked up once per process and remembered.
 *
 * @example
 * modelInfo("gpt-4o-mini-2024-07-18"); // { family: "gpt-4o", encoding: "o200k_base", exactTokenizer: true, price: { input: 0.15, output: 0.6 }, batch: { input: 0.075, output: 0.3 }, reasoning: false }
 */
export function modelInfo(model: string): Readonly<ModelInfo> {
  let info = known.get(model);
  if (!info) {
    info = lookUp(model);
    known.set(model, info);
  }
  return info;
}

function lookUp(model: string): ModelInfo {
  const name = model.trim().toLowerCase();
  const fineTuned = name.startsWith("ft:");
  const base = fineTuned ? (name.slice(3).split(":")[0] ?? "") : name;
  const family = FAMILIES.find((candidate) => candidate.match.test(base));
  if (!family) return UNKNOWN;
  const info: ModelInfo = { family: family.name, encoding: family.encoding, exactTokenizer: true, reasoning: family.reasoning };
  const price = fineTuned ? undefined : listPrice(family, name);
  if (price) {
    info.price = price;
    info.batch = { input: price.input / 2, output: price.output / 2 };
  }
  return info;
}

/** The product's own price, else, for a dated snapshot, its product's (the date leaves one candidate). */
function listPrice(family: ModelFamily, name: string): ModelPrice | undefined {
  if (Object.hasOwn(family.prices, name)) return family.prices[name];
  const product = Object.keys(family.prices).find(
    (candidate) => name.startsWith(candidate) && SNAPSHOT_SUFFIX.test(name.slice(candidate.length)),
  );
  return product === undefined ? undefined : family.prices[product];
}
