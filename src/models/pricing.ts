/** USD per 1M tokens. */
export interface ModelPrice {
  /** Prompt (input) tokens, uncached. */
  input: number;
  /** Completion (output) tokens, reasoning tokens included. */
  output: number;
}

/**
 * OpenAI's standard-tier list prices (not Batch, not cached input), USD per 1M tokens, as
 * published on openai.com/api/pricing in August 2025, after the GPT-5 launch. Update them when
 * OpenAI does. gpt-tokenizer ships price data too, but its v4.0.0 figures are off for the main
 * models (gpt-4o and gpt-5 at $10/$30), so the table is kept here.
 *
 * Variants priced differently from their family (o3-pro, o3-mini, gpt-4o-2024-05-13) have their
 * own entries, because only dated snapshots fall back to their base model (see {@link priceOf}).
 */
const PRICES: Readonly<Record<string, ModelPrice>> = {
  "gpt-5": { input: 1.25, output: 10 },
  "gpt-5-chat-latest": { input: 1.25, output: 10 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-2024-05-13": { input: 5, output: 15 },
  "chatgpt-4o-latest": { input: 5, output: 15 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  o1: { input: 15, output: 60 },
  "o1-mini": { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  "o3-pro": { input: 20, output: 80 },
  "o3-mini": { input: 1.1, output: 4.4 },
  "o4-mini": { input: 1.1, output: 4.4 },
  "gpt-4-turbo": { input: 10, output: 30 },
  "gpt-4": { input: 30, output: 60 },
  "gpt-4-0613": { input: 30, output: 60 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
  "gpt-3.5-turbo-0125": { input: 0.5, output: 1.5 },
};

// Longest first, so that "gpt-4o-mini-2024-07-18" finds "gpt-4o-mini" before "gpt-4o".
const KNOWN_MODELS_LONGEST_FIRST = Object.keys(PRICES).sort((a, b) => b.length - a.length);

// Only a date may follow a base model's name: "o3-pro" or "gpt-4o-realtime-preview" are other
// products with other prices, and pricing them as "o3" or "gpt-4o" would understate the cost.
const SNAPSHOT_SUFFIX = /^-\d{4}-\d{2}-\d{2}$/;

/**
 * The standard-tier price of a known OpenAI model, or undefined. Dated snapshots
 * ("gpt-4o-mini-2024-07-18") take their base model's price unless listed themselves; other
 * variants, fine-tuned models (`ft:...`) and non-OpenAI models are unknown.
 */
export function priceOf(model: string): ModelPrice | undefined {
  const name = model.trim().toLowerCase();
  const exact = PRICES[name];
  if (exact) return exact;
  const base = KNOWN_MODELS_LONGEST_FIRST.find(
    (known) => name.startsWith(known) && SNAPSHOT_SUFFIX.test(name.slice(known.length)),
  );
  return base === undefined ? undefined : PRICES[base];
}

/**
 * Estimated USD for a usage at the standard tier, or undefined when the model's price is unknown.
 * Cached-input and Batch discounts are not applied, so real bills can be lower.
 *
 * @example
 * estimateCost("gpt-4o-mini", { prompt_tokens: 1_000_000, completion_tokens: 100_000 }); // 0.21
 */
export function estimateCost(
  model: string,
  usage: { prompt_tokens: number; completion_tokens: number },
): number | undefined {
  const price = priceOf(model);
  if (!price) return undefined;
  return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000;
}

const DOLLARS_AND_CENTS = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * Formats USD for people: cents from $1 up ("$12.35", "$1,234.50"); below that, two significant
 * digits past the leading zeros, so that small per-run costs stay readable ("$0.50", "$0.012",
 * "$0.0032").
 */
export function formatUsd(amount: number): string {
  const sign = amount < 0 ? "-" : "";
  // Rounding to two significant digits first lets 0.0999 become "$0.10" rather than "$0.100".
  const rounded = Number(Math.abs(amount).toPrecision(2));
  if (rounded === 0) return "$0.00";
  if (rounded >= 1) return `${sign}$${DOLLARS_AND_CENTS.format(Math.abs(amount))}`;
  const decimals = Math.max(2, 1 - Math.floor(Math.log10(rounded)));
  return `${sign}$${rounded.toFixed(decimals)}`;
}
