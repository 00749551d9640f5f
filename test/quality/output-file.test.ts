import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ExtractError } from "../../src/errors/extract-error.js";
import { isJsonLines, readOutputFile } from "../../src/quality/output-file.js";
import { leafColumns } from "../../src/schema/columns.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { collect } from "../helpers/collect.js";
import { REPORT_LINES, writeReportOutput } from "../helpers/report-output.js";

const schema = z.object({ contact: z.object({ name: z.string().nullable() }), tags: z.array(z.string()) });
const leaves = leafColumns(toPromptJsonSchema(schema));

let dir: string;
beforeAll(async () => (dir = await mkdtemp(path.join(os.tmpdir(), "output-file-"))));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const at = path.join(dir, name);
  await writeFile(at, text);
  return at;
}

describe("readOutputFile", () => {
  it("reads JSONL lines as they are, spans and ungrounded paths included", async () => {
    expect(await collect(readOutputFile(writeReportOutput(dir)))).toEqual(REPORT_LINES);
  });

  it("rebuilds a CSV output's records from its field columns, with _ungrounded and _error", async () => {
    const csv = await file(
      "out.csv",
      'id,text,contact.name,tags,_ungrounded,_error\n1,"Ana, here",Ana,"[""a""]",contact.name,\n2,x,,,,"SCHEMA_MISMATCH: tags: expected array"\n',
    );
    expect(await collect(readOutputFile(csv, leaves))).toEqual([
      { index: 0, input: { id: "1", text: "Ana, here" }, data: { contact: { name: "Ana" }, tags: ["a"] }, error: null, ungrounded: ["contact.name"] },
      { index: 1, input: { id: "2", text: "x" }, data: null, error: { code: "SCHEMA_MISMATCH", message: "tags: expected array" }, ungrounded: [] },
    ]);
  });

  it("reads a CSV output without _ungrounded (grounding off, or an earlier version)", async () => {
    const csv = await file("plain.csv", "text,contact.name,tags,_error\nhi,,[],\n");
    const [line] = await collect(readOutputFile(csv, leaves));
    expect(line).toEqual({ index: 0, input: { text: "hi" }, data: { contact: { name: null }, tags: [] }, error: null });
  });

  it("needs the schema for a CSV output, naming the option", async () => {
    const csv = await file("noschema.csv", "text,_error\nhi,\n");
    await expect(collect(readOutputFile(csv))).rejects.toMatchObject({ code: "INVALID_OPTION", message: expect.stringContaining("`schema`") });
  });

  it.each([
    ["not JSON", "{oops\n", /line 1 is not JSON/],
    ["not an output row", '{"a":1}\n', /line 1 is not an llm-extract output row/],
  ])("refuses a JSONL line that is %s, with its line number", async (_, text, message) => {
    const error = await collect(readOutputFile(await file("bad.jsonl", text))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: "INPUT_UNREADABLE", line: 1, message });
  });

  it("refuses a CSV whose header is not this schema's output, and a missing file", async () => {
    const csv = await file("other.csv", "a,b\n1,2\n");
    await expect(collect(readOutputFile(csv, leaves))).rejects.toMatchObject({ code: "INPUT_UNREADABLE" });
    await expect(collect(readOutputFile(path.join(dir, "none.jsonl")))).rejects.toMatchObject({ code: "INPUT_UNREADABLE" });
  });

  it("tells JSONL from CSV by extension, else by the first character", async () => {
    expect(await isJsonLines(await file("x.txt", ' {"index":0}'))).toBe(true);
    expect(await isJsonLines(await file("y.txt", "id,_error\n"))).toBe(false);
    expect(await isJsonLines("whatever.ndjson")).toBe(true);
  });
});
