import { describe, expect, it } from "vitest";
import { failedBeforeAnyCall, rowErrorOf, toExtractError } from "../../src/core/row-result.js";
import { ExtractError } from "../../src/errors/extract-error.js";

describe("the row result's error", () => {
  it("keeps the error's whole context (line, column, path, file) as plain data", () => {
    const cause = new Error("csv-parse said so");
    const error = new ExtractError("CSV_MALFORMED", "line 7: 5 fields, but the header has 4", { file: "in.csv", line: 7, column: 3, row: 5, cause });
    const plain = rowErrorOf(error);
    expect(plain).toEqual({ code: "CSV_MALFORMED", message: "line 7: 5 fields, but the header has 4", file: "in.csv", line: 7, column: 3, row: 5 });
    // The cause travels to an exception, never into a journal line or an output file.
    expect(JSON.stringify(plain)).not.toContain("csv-parse");
    expect(toExtractError(plain).cause).toBe(cause);
    expect(toExtractError(plain)).toMatchObject({ code: "CSV_MALFORMED", file: "in.csv", line: 7, column: 3, row: 5 });
  });

  it("is a failed result with no call and no tokens for a row that fails before any call", () => {
    const error = new ExtractError("INPUT_TOO_LARGE", "too long", { attempts: 0, path: "body" });
    expect(failedBeforeAnyCall(error)).toEqual({
      ok: false,
      error: { code: "INPUT_TOO_LARGE", message: "too long", attempts: 0, path: "body" },
      attempts: 0,
      usage: { prompt_tokens: 0, completion_tokens: 0 },
      repaired: false,
      coerced: [],
    });
  });
});
