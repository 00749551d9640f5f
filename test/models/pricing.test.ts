import { describe, expect, it } from "vitest";
import { estimateCost, formatUsd, priceOf } from "../../src/models/pricing.js";

describe("priceOf", () => {
  it.each([
    ["gpt-4o-mini", 0.15, 0.6],
    ["gpt-4o", 2.5, 10],
    ["gpt-4.1", 2, 8],
    ["gpt-4.1-mini", 0.4, 1.6],
    ["gpt-4.1-nano", 0.1, 0.4],
    ["gpt-5", 1.25, 10],
    ["gpt-5-mini", 0.25, 2],
    ["gpt-5-nano", 0.05, 0.4],
    ["o4-mini", 1.1, 4.4],
    ["o3", 2, 8],
    ["gpt-3.5-turbo", 0.5, 1.5],
  ])("knows %s at $%s / $%s per 1M tokens", (model, input, output) => {
    expect(priceOf(model)).toEqual({ input, output });
  });

  it.each([
    ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"],
    ["gpt-4o-2024-08-06", "gpt-4o"],
    ["gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"],
    ["gpt-4.1-2025-04-14", "gpt-4.1"],
    ["gpt-5-nano-2025-08-07", "gpt-5-nano"],
    ["gpt-5-2025-08-07", "gpt-5"],
    ["o4-mini-2025-04-16", "o4-mini"],
    ["o3-2025-04-16", "o3"],
  ])("prices the snapshot %s as %s", (snapshot, base) => {
    expect(priceOf(snapshot)).toEqual(priceOf(base));
  });

  it("prices gpt-4o-mini snapshots as gpt-4o-mini, not as the longer-lived gpt-4o prefix", () => {
    expect(priceOf("gpt-4o-mini-2024-07-18")).toEqual({ input: 0.15, output: 0.6 });
    expect(priceOf("gpt-4.1-nano-2025-04-14")).toEqual({ input: 0.1, output: 0.4 });
  });

  it("keeps the prices of snapshots and variants that differ from their family", () => {
    expect(priceOf("gpt-4o-2024-05-13")).toEqual({ input: 5, output: 15 });
    expect(priceOf("o3-pro")).toEqual({ input: 20, output: 80 });
    expect(priceOf("o3-mini-2025-01-31")).toEqual({ input: 1.1, output: 4.4 });
  });

  it.each(["llama3.1:8b", "gpt-4o-realtime-preview", "gpt-4o-mini-tts", "o3-deep-research", "ft:gpt-4o-mini-2024-07-18:acme::x", "gpt-4o-mini-latest", ""])(
    "is undefined for %j rather than guessing from a prefix",
    (model) => expect(priceOf(model)).toBeUndefined(),
  );

  it("ignores case and surrounding spaces", () => {
    expect(priceOf(" GPT-4o-Mini ")).toEqual({ input: 0.15, output: 0.6 });
  });
});

describe("estimateCost", () => {
  it("charges prompt and completion tokens at their own per-million rates", () => {
    expect(estimateCost("gpt-4o-mini", { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 })).toBeCloseTo(0.75, 12);
    expect(estimateCost("gpt-4o", { prompt_tokens: 12_345, completion_tokens: 2_345 })).toBeCloseTo(
      (12_345 * 2.5 + 2_345 * 10) / 1e6,
      12,
    );
    expect(estimateCost("gpt-5-nano-2025-08-07", { prompt_tokens: 0, completion_tokens: 500_000 })).toBeCloseTo(0.2, 12);
  });

  it("is 0 for no tokens and undefined for an unknown model", () => {
    expect(estimateCost("gpt-4.1", { prompt_tokens: 0, completion_tokens: 0 })).toBe(0);
    expect(estimateCost("my-local-model", { prompt_tokens: 1000, completion_tokens: 1000 })).toBeUndefined();
  });
});

describe("formatUsd", () => {
  it.each([
    [0, "$0.00"],
    [12.346, "$12.35"],
    [1, "$1.00"],
    [1234.5, "$1,234.50"],
    [0.5, "$0.50"],
    [0.123, "$0.12"],
    [0.0123, "$0.012"],
    [0.00321, "$0.0032"],
    [0.000045, "$0.000045"],
    [0.0999, "$0.10"],
    [0.9999, "$1.00"],
    [-0.25, "-$0.25"],
  ])("formats %s as %s", (amount, text) => {
    expect(formatUsd(amount)).toBe(text);
  });
});

describe("estimateCost at Batch prices", () => {
  it("is half the standard tier's", () => {
    const usage = { prompt_tokens: 1_000_000, completion_tokens: 100_000 };
    expect(estimateCost("gpt-4o-mini", usage, "batch")).toBeCloseTo(estimateCost("gpt-4o-mini", usage)! / 2, 10);
    expect(estimateCost("not-a-known-model", usage, "batch")).toBeUndefined();
  });
});
