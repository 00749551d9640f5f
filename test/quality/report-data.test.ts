import { describe, expect, it } from "vitest";
import { z } from "zod";
import { collectReportData, fieldNameOf } from "../../src/quality/report-data.js";
import type { OutputLine } from "../../src/quality/output-file.js";
import { leafColumns } from "../../src/schema/columns.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { REPORT_LINES } from "../helpers/report-output.js";

async function* stream(lines: readonly OutputLine[]): AsyncGenerator<OutputLine> {
  yield* lines;
}

const noLimit = { maxRows: 1000, maxChars: 1e9 };

describe("collectReportData", () => {
  it("counts rows, model calls per row, tokens and failures by code, with examples", async () => {
    const { summary } = await collectReportData(stream(REPORT_LINES), undefined, noLimit);
    expect(summary).toMatchObject({ rows: 5, ok: 2, failed: 3, grounding: "spans", embedded: 5, columns: ["id", "text"] });
    expect(summary.attempts).toEqual({ rows: 5, total: 12, histogram: { 1: 1, 2: 1, 3: 3 } });
    expect(summary.usage).toEqual({ prompt_tokens: 1000, completion_tokens: 3180 });
    expect(summary.repaired).toBeUndefined();
    expect(summary.failures).toEqual([
      { code: "SCHEMA_MISMATCH", count: 2, examples: [{ index: 2, message: "total: expected number" }, { index: 3, message: "city: expected string" }] },
      { code: "OUTPUT_TRUNCATED", count: 1, examples: [{ index: 4, message: "cut off at 1024 tokens" }] },
    ]);
  });

  it("counts local repairs and coerced values when the output records them", async () => {
    const lines: OutputLine[] = [
      { index: 0, input: { text: "x" }, data: { a: 1, b: true }, error: null, repaired: true, coerced: ["a", "b"] },
      { index: 1, input: { text: "y" }, data: { a: 2, b: false }, error: null, repaired: false, coerced: [] },
    ];
    const { summary } = await collectReportData(stream(lines), undefined, noLimit);
    expect([summary.repaired, summary.coerced]).toEqual([1, 2]);
    expect((await collectReportData(stream(REPORT_LINES), undefined, noLimit)).summary.coerced).toBeUndefined();
  });

  it("reads the fields from the records when no schema is given: fill, grounded and ungrounded per field", async () => {
    const { summary } = await collectReportData(stream(REPORT_LINES), undefined, noLimit);
    const byName = Object.fromEntries(summary.fields.map(({ name, filled, grounded, ungrounded }) => [name, [filled, grounded, ungrounded]]));
    expect(byName).toEqual({
      "contact.name": [2, 2, 0],
      "contact.email": [1, 0, 1],
      city: [1, 1, 0],
      total: [1, 1, 0],
      tags: [1, 1, 0], // the span at tags[0] belongs to the field tags
    });
  });

  it("takes the fields and their order from the schema's leaves", async () => {
    const schema = z.object({ total: z.number().nullable(), city: z.string().nullable(), contact: z.object({ email: z.string().nullable(), name: z.string() }), tags: z.array(z.string()) });
    const { summary } = await collectReportData(stream(REPORT_LINES), leafColumns(toPromptJsonSchema(schema)), noLimit);
    expect(summary.fields.map((field) => field.name)).toEqual(["total", "city", "contact.email", "contact.name", "tags"]);
  });

  it("embeds the first rows only, up to maxRows and maxChars, and says how many", async () => {
    const capped = await collectReportData(stream(REPORT_LINES), undefined, { maxRows: 2, maxChars: 1e9 });
    expect(capped.summary).toMatchObject({ rows: 5, embedded: 2 });
    expect(capped.rows.map((row) => JSON.parse(row).i)).toEqual([0, 1]);
    const small = await collectReportData(stream(REPORT_LINES), undefined, { maxRows: 100, maxChars: capped.rows[0]!.length + 1 });
    expect(small.summary.embedded).toBe(1);
  });

  it("tells a CSV's ungrounded field names from JSONL spans, and an output without grounding", async () => {
    const csvLike: OutputLine[] = [{ index: 0, input: { text: "x" }, data: { a: "y" }, error: null, ungrounded: ["a"] }];
    const csv = (await collectReportData(stream(csvLike), undefined, noLimit)).summary;
    expect([csv.grounding, csv.usage, csv.fields[0]?.ungrounded]).toEqual(["fields", undefined, 1]);
    const plain: OutputLine[] = [{ index: 0, input: { text: "x" }, data: { a: "y" }, error: null }];
    expect((await collectReportData(stream(plain), undefined, noLimit)).summary.grounding).toBe("none");
  });
});

describe("fieldNameOf", () => {
  it.each([
    ["order_items[0].name", "order_items.name"],
    ["order_items.12.name", "order_items.name"],
    ["contact.email", "contact.email"],
    ["tags[3]", "tags"],
  ])("%s belongs to %s", (path, name) => expect(fieldNameOf(path)).toBe(name));
});
