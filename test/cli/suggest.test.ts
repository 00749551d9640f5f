import { describe, expect, it } from "vitest";
import { closestName } from "../../src/cli/suggest.js";

const flags = ["--concurrency", "--columns", "--model", "--mode", "--max-tokens", "--max-tokens-cap", "--schema", "--format"];

describe("closestName", () => {
  it.each([
    ["--concurency", "--concurrency"],
    ["--mdoel", "--model"],
    ["--maxTokens", "--max-tokens"],
    ["--max_tokens", "--max-tokens"],
    ["--shcema", "--schema"],
    ["--colums", "--columns"],
  ])("suggests %s -> %s", (typed, expected) => {
    expect(closestName(typed, flags)).toBe(expected);
  });

  it.each(["--frobnicate", "--verbose", "--x"])("suggests nothing when no flag is close: %s", (typed) => {
    expect(closestName(typed, flags)).toBeUndefined();
  });

  it("picks the nearest of several close flags", () => {
    expect(closestName("--mod", flags)).toBe("--mode");
  });
});
