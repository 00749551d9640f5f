import { describe, expect, it } from "vitest";
import { adviceFor, endsRun, ERROR_CODES, FATAL_CODES, isTransient } from "../../src/errors/codes.js";
import type { ExtractErrorCode } from "../../src/errors/extract-error.js";

describe("ERROR_CODES, the one table of error codes", () => {
  it.each([
    ["AUTH_FAILED", "run"],
    ["MODEL_NOT_FOUND", "run"],
    ["QUOTA_EXCEEDED", "run"],
    ["MODE_UNSUPPORTED", "run"],
    ["MISSING_API_KEY", "run"],
    ["ENGINE_UNAVAILABLE", "run"],
    ["INVALID_OPTION", "run"],
    ["ABORTED", "run"],
    ["SCHEMA_MISMATCH", "row"],
    ["CSV_MALFORMED", "row"],
    ["CONNECTION_FAILED", "row"],
    ["INPUT_TOO_LARGE", "row"],
  ] as const)("%s ends the %s", (code, scope) => {
    expect(ERROR_CODES[code].scope).toBe(scope);
    expect(FATAL_CODES.has(code)).toBe(scope === "run");
  });

  it.each([
    ["RATE_LIMITED", true],
    ["TIMEOUT", true],
    ["CONNECTION_FAILED", true],
    ["MODEL_ERROR", true],
    ["INPUT_TOO_LARGE", true],
    ["SCHEMA_MISMATCH", false],
    ["INVALID_JSON", false],
    ["OUTPUT_TRUNCATED", false],
    ["REFUSED", false],
    ["CSV_MALFORMED", false],
  ] as const)("%s is transient (tried again on resume): %s", (code, transient) => {
    expect(isTransient(code)).toBe(transient);
  });

  it("gives advice as data, naming the options it concerns in backticks", () => {
    for (const code of Object.keys(ERROR_CODES) as ExtractErrorCode[]) {
      const rule = ERROR_CODES[code] as { advice?: string; options?: readonly string[] };
      for (const option of rule.options ?? []) expect(rule.advice).toContain(`\`${option}\``);
      expect(rule.advice ?? "").not.toMatch(/--[a-z]/);
    }
    expect(adviceFor("SCHEMA_MISMATCH")).toContain("`maxAttempts`");
    expect(adviceFor("REFUSED")).toBeUndefined();
  });

  it("ends a run for a run-scoped code, or for any error marked fatal", () => {
    expect(endsRun({ code: "AUTH_FAILED" })).toBe(true);
    expect(endsRun({ code: "CONNECTION_FAILED" })).toBe(false);
    expect(endsRun({ code: "CONNECTION_FAILED", fatal: true })).toBe(true);
  });
});
