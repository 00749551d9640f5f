import { describe, expect, it } from "vitest";
import { ExtractError } from "../../src/errors/extract-error.js";
import { DEFAULTS, normalizeOptions } from "../../src/config/options.js";

describe("normalizeOptions", () => {
  it("applies the defaults", () => {
    const settings = normalizeOptions({ model: "m" });
    expect(settings).toMatchObject({
      model: "m",
      concurrency: DEFAULTS.concurrency,
      maxAttempts: DEFAULTS.maxAttempts,
      maxTokens: DEFAULTS.maxTokens,
      maxTokensCap: DEFAULTS.maxTokensCap,
      timeout: DEFAULTS.timeout,
      maxRetries: DEFAULTS.maxRetries,
    });
    expect(settings.temperature).toBeUndefined();
  });

  it("takes the model from $EXTRACT_MODEL when not given", () => {
    process.env.EXTRACT_MODEL = "from-env";
    try {
      expect(normalizeOptions({}).model).toBe("from-env");
    } finally {
      delete process.env.EXTRACT_MODEL;
    }
    expect(normalizeOptions({}).model).toBe(DEFAULTS.model);
  });

  it("never lets the budget cap fall below the first budget", () => {
    expect(normalizeOptions({ maxTokens: 20_000 }).maxTokensCap).toBe(20_000);
  });

  it.each([
    [{ concurrency: 0 }, "concurrency", "0"],
    [{ concurrency: 2.5 }, "concurrency", "2.5"],
    [{ maxAttempts: -1 }, "maxAttempts", "-1"],
    [{ maxTokens: Number.NaN }, "maxTokens", "null"],
    [{ timeout: 0 }, "timeout", "0"],
    [{ maxRetries: -1 }, "maxRetries", "-1"],
    [{ temperature: 3 }, "temperature", "3"],
    [{ columns: [] }, "columns", "[]"],
    [{ model: "" }, "model", '""'],
  ])("rejects %o naming the option and the value", (options, name, got) => {
    let error: unknown;
    try {
      normalizeOptions(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe("INVALID_OPTION");
    expect((error as ExtractError).message).toContain(`\`${name}\``);
    expect((error as ExtractError).message).toContain(`got ${got}`);
  });
});
