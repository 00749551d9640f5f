import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createReport } from "../../src/quality/report.js";
import { REPORT_LINES, writeReportOutput } from "../helpers/report-output.js";

let dir: string;
let output: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "report-"));
  output = writeReportOutput(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The JSON the page's script reads. */
function embedded(html: string): { fields: { name: string }[]; rows: { i: number }[] } {
  const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
  return JSON.parse(json);
}

describe("createReport", () => {
  it("is one self-contained page: no external script, style, font or link", async () => {
    const html = await createReport(output);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("embeds the data so that no value can close its script element", async () => {
    const html = await createReport(output);
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data's and the page script's own
    expect(embedded(html).rows.map((row) => row.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it("escapes the file name and messages in the static summary", async () => {
    const odd = path.join(dir, "<i>odd.jsonl");
    await writeFile(odd, JSON.stringify({ ...REPORT_LINES[2], error: { code: "SCHEMA_MISMATCH", message: "<img src=x onerror=alert(1)>" } }) + "\n");
    const html = await createReport(odd);
    expect(html).not.toContain("<i>odd");
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;");
  });

  it("prices the tokens for a known model and shows what only the run knew", async () => {
    const html = await createReport(output, { model: "gpt-4o-mini", run: { elapsedMs: 12_340, modelCalls: 12, transport: { requests: 14, rateLimited: 2 } } });
    expect(html).toMatch(/id="tile-cost".*~\$0\.0021.*gpt-4o-mini/);
    expect(html).toMatch(/id="tile-time".*12\.34 s/);
    expect(html).toMatch(/id="tile-requests".*14.*for 12 model calls/);
    expect(html).toMatch(/id="tile-rate-limited".*>2</);
    expect(await createReport(output)).toContain("known only to the run");
  });

  it("says in the page when the rows are capped", async () => {
    const html = await createReport(output, { maxRows: 2 });
    expect(html).toContain("holds the first 2 of 5 rows");
    expect(embedded(html).rows).toHaveLength(2);
    expect(await createReport(output)).not.toContain("holds the first");
  });

  it("takes fields from a zod schema, and rejects a bad maxRows naming the option", async () => {
    const schema = z.object({ city: z.string().nullable(), total: z.number().nullable() });
    // Paths of spans and ungrounded values outside the schema still get a field each.
    expect(embedded(await createReport(output, { schema })).fields.map((field) => field.name)).toEqual(["city", "total", "contact.name", "tags", "contact.email"]);
    await expect(createReport(output, { maxRows: -1 })).rejects.toMatchObject({ code: "INVALID_OPTION", message: expect.stringContaining("`maxRows`") });
  });

  it("with a gold file, shows each field's accuracy against it", async () => {
    const gold = path.join(dir, "gold.jsonl");
    const lines = [
      { id: "1", data: { contact: { name: "Ana Silva", email: null }, city: "東京", total: 1234.5, tags: ["café"] } },
      { id: "2", data: { contact: { name: "Bo Li", email: null }, city: null, total: null, tags: [] } },
    ];
    await writeFile(gold, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
    const html = await createReport(output, { gold, key: "id" });
    const row = (field: string) => new RegExp(`${field.replace(".", "\\.")}</td>.*?</tr>`, "s").exec(html)?.[0] ?? "";
    expect(html).toContain("<th>right (against the gold file)</th>");
    // Rows 3 to 5 failed and are not in the gold file; of rows 1 and 2, Bo Li's made-up email is wrong.
    expect(row("contact.email")).toMatch(/<div class="bar accuracy">.*?<span class="count">1\/2<\/span>/s);
    expect(row("contact.name")).toMatch(/<div class="bar accuracy">.*?<span class="count">2\/2<\/span>/s);
    expect(await createReport(output)).not.toContain("against the gold file");
  });
});
