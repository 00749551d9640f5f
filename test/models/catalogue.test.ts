import { describe, expect, it } from "vitest";
import { modelInfo } from "../../src/models/catalogue.js";

describe("modelInfo", () => {
  it.each([
    // model, family, encoding, list price [input, output], reasoning
    ["gpt-4o-mini", "gpt-4o", "o200k_base", [0.15, 0.6], false],
    ["gpt-4o-mini-2024-07-18", "gpt-4o", "o200k_base", [0.15, 0.6], false],
    ["gpt-4o-2024-08-06", "gpt-4o", "o200k_base", [2.5, 10], false],
    ["gpt-4o-2024-05-13", "gpt-4o", "o200k_base", [5, 15], false],
    ["chatgpt-4o-latest", "gpt-4o", "o200k_base", [5, 15], false],
    ["gpt-4.1-nano-2025-04-14", "gpt-4.1", "o200k_base", [0.1, 0.4], false],
    ["gpt-5", "gpt-5", "o200k_base", [1.25, 10], true],
    ["gpt-5-nano-2025-08-07", "gpt-5", "o200k_base", [0.05, 0.4], true],
    ["gpt-5-chat-latest", "gpt-5-chat", "o200k_base", [1.25, 10], false],
    ["o1", "o-series", "o200k_base", [15, 60], true],
    ["o3-pro", "o-series", "o200k_base", [20, 80], true],
    ["o4-mini-2025-04-16", "o-series", "o200k_base", [1.1, 4.4], true],
    ["gpt-4", "gpt-4", "cl100k_base", [30, 60], false],
    ["gpt-4-turbo", "gpt-4", "cl100k_base", [10, 30], false],
    ["gpt-3.5-turbo-0125", "gpt-3.5-turbo", "cl100k_base", [0.5, 1.5], false],
  ] as const)("knows %s: family %s, %s, $%j per 1M tokens, reasoning %s", (model, family, encoding, [input, output], reasoning) => {
    expect(modelInfo(model)).toEqual({
      family,
      encoding,
      exactTokenizer: true,
      price: { input, output },
      batch: { input: input / 2, output: output / 2 },
      reasoning,
    });
  });

  it.each([
    // Members of a family with their own, unlisted prices: the tokenizer is known, the price is not.
    ["gpt-4o-realtime-preview", "gpt-4o", false],
    ["o3-deep-research", "o-series", true],
    ["gpt-4.5-preview", "gpt-4.5", false],
    ["gpt-5.1", "gpt-5", true],
    ["gpt-5.1-chat-latest", "gpt-5-chat", false],
    ["gpt-4o-mini-latest", "gpt-4o", false],
    // Fine-tunes tokenize and reason like their base model, but are billed otherwise.
    ["ft:gpt-4o-mini-2024-07-18:acme::9xYz", "gpt-4o", false],
    ["ft:o4-mini-2025-04-16:acme::9xYz", "o-series", true],
  ])("counts %s exactly as the %s family, with no list price (reasoning %s)", (model, family, reasoning) => {
    expect(modelInfo(model)).toEqual({ family, encoding: "o200k_base", exactTokenizer: true, reasoning });
  });

  it.each(["llama3.1:8b", "mistral-small", "qwen2.5-7b-instruct", "gpt-oss-20b", "gpt-4x", "o2", "local:./model.gguf", ""])(
    "approximates %j with o200k_base, with no price and no quirks",
    (model) => {
      expect(modelInfo(model)).toEqual({ encoding: "o200k_base", exactTokenizer: false, reasoning: false });
    },
  );

  it("halves the list price for the Batch API", () => {
    expect(modelInfo("gpt-4.1-mini").batch).toEqual({ input: 0.2, output: 0.8 });
    expect(modelInfo("gpt-5-mini-2025-08-07").batch).toEqual({ input: 0.125, output: 1 });
  });

  it("ignores case and surrounding spaces", () => {
    expect(modelInfo(" GPT-4o-Mini ")).toEqual(modelInfo("gpt-4o-mini"));
  });

  it("looks each name up once and answers later calls from memory", () => {
    expect(modelInfo("gpt-4.1")).toBe(modelInfo("gpt-4.1"));
  });
});
