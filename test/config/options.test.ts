import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ExtractError } from "../../src/errors/extract-error.js";
import { checkSchemaOption, DEFAULTS, normalizeOptions, schemasDirOf } from "../../src/config/options.js";
import { normalizeOfflineBatchOptions } from "../../src/config/batch-options.js";
import { readEnvironment } from "../../src/config/env.js";

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
      grounding: true,
      coerce: true,
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
    [{ grounding: "no" as unknown as boolean }, "grounding", '"no"'],
    [{ examples: "" }, "examples", '""'],
    [{ examples: 3 as unknown as boolean }, "examples", "3"],
    [{ coerce: "no" as unknown as boolean }, "coerce", '"no"'],
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

  it("takes its defaults from the environment it is given, after the options", () => {
    const env = readEnvironment({
      EXTRACT_MODEL: "env-model",
      EXTRACT_SCHEMAS_DIR: "/env/schemas",
      OPENAI_BASE_URL: "http://127.0.0.1:1/v1",
      OPENAI_API_KEY: "env-key",
      HF_ENDPOINT: "http://127.0.0.1:2/",
    });
    expect(normalizeOptions({}, env)).toMatchObject({
      model: "env-model",
      schemasDir: "/env/schemas",
      connection: { baseURL: "http://127.0.0.1:1/v1", apiKey: "env-key", secrets: ["env-key"] },
      modelDownloadEndpoint: "http://127.0.0.1:2/",
    });
    expect(normalizeOptions({ model: "m", schemasDir: "mine", apiKey: "k" }, env)).toMatchObject({
      model: "m",
      schemasDir: "mine",
      connection: { baseURL: "http://127.0.0.1:1/v1", apiKey: "k" },
    });
  });

  it("reads no environment it is not given", () => {
    expect(normalizeOptions({}, readEnvironment({}))).toMatchObject({
      model: DEFAULTS.model,
      schemasDir: DEFAULTS.schemasDir,
      connection: { baseURL: undefined, apiKey: undefined, secrets: [] },
      modelDownloadEndpoint: undefined,
    });
  });
});

describe("schemasDirOf", () => {
  it.each([
    ["mine", { EXTRACT_SCHEMAS_DIR: "env" }, "mine"],
    [undefined, { EXTRACT_SCHEMAS_DIR: "env" }, "env"],
    [undefined, { EXTRACT_SCHEMAS_DIR: "" }, ""],
    [undefined, {}, DEFAULTS.schemasDir],
  ])("schemasDir %j with %o -> %j", (schemasDir, env, expected) => {
    expect(schemasDirOf(schemasDir, readEnvironment(env))).toBe(expected);
  });
});

describe("checkSchemaOption", () => {
  it.each(["ticket", "schemas/ticket.ts", z.object({ name: z.string() })])("accepts %o", (schema) => {
    expect(() => checkSchemaOption(schema)).not.toThrow();
  });

  it.each([
    [undefined, "INVALID_OPTION", "Expected `schema` to be a zod object or a schema name, got undefined."],
    [{ name: "string" }, "SCHEMA_INVALID", "`schema` is"],
    [z.string(), "SCHEMA_INVALID", "not a zod object"],
  ])("rejects %o with %s", (schema, code, message) => {
    let error: unknown;
    try {
      checkSchemaOption(schema);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code });
    expect((error as ExtractError).message).toContain(message);
  });
});

describe("normalizeOfflineBatchOptions", () => {
  it("is undefined when the job is not an offline one, and keeps the files given", () => {
    expect(normalizeOfflineBatchOptions({})).toBeUndefined();
    expect(normalizeOfflineBatchOptions({ batchFile: "requests.jsonl" })).toEqual({ requestFile: "requests.jsonl", resultsFile: undefined });
    expect(normalizeOfflineBatchOptions({ batchResults: "results.jsonl", batchFile: "next.jsonl" })).toEqual({ requestFile: "next.jsonl", resultsFile: "results.jsonl" });
  });

  it.each([
    [{ batchFile: "" }, /Expected `batchFile` to be a file path, got ""/],
    [{ batchResults: 7 as unknown as string }, /Expected `batchResults` to be a file path, got 7/],
    [{ batchFile: "same.jsonl", batchResults: "same.jsonl" }, /`batchFile` and `batchResults` name the same file \(same\.jsonl\)/],
  ])("rejects %o, naming the option", (options, message) => {
    expect(() => normalizeOfflineBatchOptions(options)).toThrow(message);
  });
});
