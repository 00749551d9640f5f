import { formatNumber } from "../io/number-text.js";
import { modelInfo, type ModelPrice } from "./catalogue.js";

export type { ModelPrice } from "./catalogue.js";

/**
 * The standard-tier list price of a known OpenAI model, or undefined (from the model catalogue).
 * Dated snapshots ("gpt-4o-mini-2024-07-18") take their base model's price unless listed
 * themselves; other variants ("o3-pro" is not "o3"), fine-tuned models (`ft:...`) and non-OpenAI
 * models are unknown.
 */
export function priceOf(model: string): ModelPrice | undefined {
  return modelInfo(model).price;
}

/**
 * Estimated USD for a usage at the standard tier (or, with `tier: "batch"`, at Batch API prices),
 * or undefined when the model's price is unknown. Cached-input discounts are not applied, so real
 * bills can be lower.
 *
 * @example
 * estimateCost("gpt-4o-mini", { prompt_tokens: 1_000_000, completion_tokens: 100_000 }); // 0.21
 * estimateCost("gpt-4o-mini", { prompt_tokens: 1_000_000, completion_tokens: 100_000 }, "batch"); // 0.105
 */
export function estimateCost(
  model: string,
  usage: { prompt_tokens: number; completion_tokens: number },
  tier: "standard" | "batch" = "standard",
): number | undefined {
  const price = tier === "batch" ? modelInfo(model).batch : priceOf(model);
  if (!price) return undefined;
  return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000;
}

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
  if (rounded >= 1) return `${sign}$${formatNumber(Math.abs(amount), 2)}`;
  const decimals = Math.max(2, 1 - Math.floor(Math.log10(rounded)));
  return `${sign}$${rounded.toFixed(decimals)}`;
}
