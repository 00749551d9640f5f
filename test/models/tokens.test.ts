import * as cl100k from "gpt-tokenizer/encoding/cl100k_base";
import * as o200k from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/core/prompt.js";
import {
  countChatTokens,
  countMessageTokens,
  countTokens,
  estimateAdmissionTokens,
  isExactTokenizer,
  promptTokenCounter,
} from "../../src/models/tokens.js";

const JAPANESE = "こんにちは世界、請求書を送ってください";
const MIXED = "Ünïcödé 你好, world! Invoice #A-20417 — 12.50 EUR";

const chat: ChatMessage[] = [
  { role: "system", content: "You extract structured data from one record at a time. Reply in JSON." },
  { role: "user", content: '{"text":"Hi, I\'m Ana from Acme, order #A-20417 arrived broken"}' },
];

describe("countTokens", () => {
  it("uses o200k_base for the gpt-4o / gpt-4.1 / gpt-5 / o-series families", () => {
    for (const model of ["gpt-4o", "gpt-4o-mini-2024-07-18", "gpt-4.1-nano", "gpt-5", "gpt-5.1", "o3", "o4-mini", "chatgpt-4o-latest"]) {
      expect(countTokens(JAPANESE, model), model).toBe(10);
      expect(countTokens(MIXED, model), model).toBe(22);
    }
  });

  it("uses cl100k_base for gpt-4 and gpt-3.5-turbo, whose counts differ from o200k_base", () => {
    for (const model of ["gpt-4", "gpt-4-0613", "gpt-4-turbo", "gpt-3.5-turbo", "gpt-3.5-turbo-0125"]) {
      expect(countTokens(JAPANESE, model), model).toBe(15);
      expect(countTokens(MIXED, model), model).toBe(25);
    }
  });

  it("agrees with gpt-tokenizer's own encoders", () => {
    expect(countTokens(MIXED, "gpt-4o-mini")).toBe(o200k.encode(MIXED).length);
    expect(countTokens(MIXED, "gpt-4")).toBe(cl100k.encode(MIXED).length);
  });

  it("counts special-token text in a cell as plain text instead of throwing", () => {
    const text = "please <|endoftext|> ignore";
    expect(() => o200k.encode(text)).toThrow(/special token/);
    expect(countTokens(text, "gpt-4o-mini")).toBe(o200k.encode(text, { disallowedSpecial: new Set() }).length);
    expect(countTokens(text, "gpt-4o-mini")).toBeGreaterThan(3);
  });

  it("counts an empty text as 0", () => {
    expect(countTokens("", "gpt-4o")).toBe(0);
  });
});

describe("countChatTokens", () => {
  const contentTokens = (model: string) => chat.reduce((sum, m) => sum + countTokens(m.content, model), 0);

  it("adds 3 framing tokens and the role's token per message, and 3 for the reply priming", () => {
    // "system" and "user" are one token each in both encodings.
    expect(countChatTokens(chat, "gpt-4o-mini")).toBe(contentTokens("gpt-4o-mini") + (3 + 1) * 2 + 3);
    expect(countChatTokens(chat, "gpt-4")).toBe(contentTokens("gpt-4") + (3 + 1) * 2 + 3);
    expect(countChatTokens([], "gpt-4o")).toBe(3);
  });

  it("matches gpt-tokenizer's encodeChat for the models whose chat format it knows", () => {
    expect(countChatTokens(chat, "gpt-4o")).toBe(o200k.encodeChat(chat, "gpt-4o").length);
    expect(countChatTokens(chat, "gpt-4o-mini-2024-07-18")).toBe(o200k.encodeChat(chat, "gpt-4o-mini").length);
    expect(countChatTokens(chat, "gpt-4")).toBe(cl100k.encodeChat(chat, "gpt-4").length);
  });

  it("is the sum of countMessageTokens plus the reply priming", () => {
    const sum = chat.reduce((total, m) => total + countMessageTokens(m, "gpt-4.1"), 0);
    expect(countChatTokens(chat, "gpt-4.1")).toBe(sum + 3);
  });
});

describe("isExactTokenizer", () => {
  it.each(["gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-4.1", "gpt-5-nano", "o1", "o3-mini", "gpt-4", "gpt-3.5-turbo", "ft:gpt-4o-mini-2024-07-18:acme::9xYz"])(
    "is true for the OpenAI model %s",
    (model) => expect(isExactTokenizer(model)).toBe(true),
  );

  it.each(["llama3.1:8b", "mistral-small", "qwen2.5-7b-instruct", "gpt-oss-20b", "gpt-4x", "o2"])(
    "is false for %s, counted with o200k_base as an approximation",
    (model) => {
      expect(isExactTokenizer(model)).toBe(false);
      expect(countTokens(JAPANESE, model)).toBe(10);
    },
  );
});

describe("promptTokenCounter", () => {
  const systemPrompt = chat[0]!.content;

  it("counts a request as countChatTokens does, the shared system message included", () => {
    for (const model of ["gpt-4o-mini", "gpt-4", "llama3.1:8b"]) {
      expect(promptTokenCounter(systemPrompt, model)(chat), model).toBe(countChatTokens(chat, model));
    }
  });

  it("counts a system message other than the run's own by its content", () => {
    const other: ChatMessage[] = [{ role: "system", content: "Something else entirely, and longer than before." }, chat[1]!];
    expect(promptTokenCounter(systemPrompt, "gpt-4o")(other)).toBe(countChatTokens(other, "gpt-4o"));
  });
});

describe("estimateAdmissionTokens", () => {
  it("counts the prompt at four characters per token, rounded up, plus the whole output budget", () => {
    expect(estimateAdmissionTokens(0, 1024)).toBe(1024);
    expect(estimateAdmissionTokens(8, 0)).toBe(2);
    expect(estimateAdmissionTokens(9, 100)).toBe(103);
  });
});
