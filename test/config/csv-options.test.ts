import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ExtractError } from "../../src/errors/extract-error.js";
import { DEFAULTS } from "../../src/config/options.js";
import { formatFromPath, normalizeCsvOptions, outputFormat, type CsvOptions } from "../../src/config/csv-options.js";

/** The error `run` throws (undefined if it throws none). */
function thrownBy(run: () => unknown): ExtractError | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ExtractError) return error;
    throw error;
  }
  return undefined;
}

describe("normalizeCsvOptions", () => {
  it("applies the defaults", () => {
    expect(normalizeCsvOptions("in.csv", {})).toEqual({
      outPath: undefined,
      format: DEFAULTS.format,
      delimiter: DEFAULTS.delimiter,
      strict: DEFAULTS.strict,
      formulaGuard: DEFAULTS.formulaGuard,
    });
  });

  it.each<[CsvOptions, string]>([
    [{ out: "out.jsonl" }, "jsonl"],
    [{ out: "out.CSV" }, "csv"],
    [{ out: "out.ndjson" }, "jsonl"],
    [{ out: "out.txt", format: "jsonl" }, "jsonl"],
    [{ out: new PassThrough() }, "csv"],
    [{ out: new PassThrough(), format: "jsonl" }, "jsonl"],
  ])("takes the format from `format`, else from the output's name: %o -> %s", (options, format) => {
    expect(normalizeCsvOptions("in.csv", options).format).toBe(format);
  });

  it("keeps the output file and the reader's and writer's options", () => {
    const settings = normalizeCsvOptions("in.csv", { out: "out.csv", delimiter: ";", strict: true, formulaGuard: false });
    expect(settings).toEqual({ outPath: "out.csv", format: "csv", delimiter: ";", strict: true, formulaGuard: false });
  });

  it.each(["", '"', "\n", 5])("rejects the delimiter %j with INVALID_OPTION", (delimiter) => {
    const error = thrownBy(() => normalizeCsvOptions(Readable.from([Buffer.from("a\n")]), { delimiter: delimiter as string }));
    expect(error).toMatchObject({ code: "INVALID_OPTION", path: "delimiter" });
    expect(error?.message).toBe(`Expected \`delimiter\` to be a non-empty string without quotes or line breaks, got ${JSON.stringify(delimiter)}.`);
  });

  it.each<[string, CsvOptions & { resume?: boolean; journal?: string }, string, RegExp]>([
    ["an unknown format", { format: "tsv" as "csv" }, "format", /^Expected `format` to be "csv" or "jsonl", got "tsv"\.$/],
    ["an output that is the input", { out: "./in.csv" }, "out", /^The output \.\/in\.csv is the input file: writing it would destroy the input\. Choose another `out`\.$/],
    ["a resume with no output file or journal", { resume: true }, "resume", /^`resume` needs an output file \(or a `journal` path\)/],
    ["an output whose name tells no format", { out: "out.txt" }, "format", /^Cannot tell the output format of out\.txt: name it \.csv or \.jsonl, or set `format`\.$/],
  ])("rejects %s with INVALID_OPTION naming the option", (_what, options, path, message) => {
    const error = thrownBy(() => normalizeCsvOptions("in.csv", options));
    expect(error).toMatchObject({ code: "INVALID_OPTION", path });
    expect(error?.message).toMatch(message);
  });

  it("accepts a resume that has a journal to resume from", () => {
    expect(normalizeCsvOptions("in.csv", { resume: true, journal: "run.journal" }).format).toBe("csv");
  });
});

describe("outputFormat", () => {
  it.each(["csv", "jsonl"])("accepts %s", (format) => {
    expect(outputFormat(format)).toBe(format);
  });

  it("rejects an unknown format with INVALID_OPTION", () => {
    expect(() => outputFormat("tsv")).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });
});

describe("formatFromPath", () => {
  it.each([
    ["out.csv", "csv"],
    ["OUT.CSV", "csv"],
    ["dir.v2/out.jsonl", "jsonl"],
    ["out.ndjson", "jsonl"],
    ["out.json", undefined],
    ["out", undefined],
  ])("%s -> %s", (file, format) => {
    expect(formatFromPath(file)).toBe(format);
  });
});
