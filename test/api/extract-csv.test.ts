import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { estimateCsv, extractCsv, type CsvProgressEvent } from "../../src/index.js";
import { jsonReply, startChatServer, type ChatServer } from "../servers/chat-server.js";

const schema = z.object({ upper: z.string() });
let server: ChatServer;
let input: string;
const text = `id,text\n${Array.from({ length: 30 }, (_, i) => `${i},row ${i}`).join("\n")}\n`;

beforeEach(async () => {
  server = await startChatServer();
  server.handle((request) => jsonReply({ upper: String(JSON.parse(request.body.messages[1].content).text).toUpperCase() }));
  input = path.join(await mkdtemp(path.join(os.tmpdir(), "extract-csv-")), "in.csv");
  writeFileSync(input, text);
});
afterEach(() => server.close());

describe("extractCsv()", () => {
  it("writes to a stream and reports progress by the rows written, up to the whole file", async () => {
    const out = new PassThrough();
    let written = "";
    out.on("data", (chunk) => (written += chunk));
    const events: CsvProgressEvent[] = [];
    const summary = await extractCsv(input, {
      schema,
      baseURL: server.url,
      model: "m",
      out,
      concurrency: 4,
      onProgress: (event) => events.push(event),
    });

    expect(summary).toMatchObject({ rowsDone: 30, rowsOk: 30, rowsFailed: 0, modelCalls: 30, interrupted: false, format: "csv", output: "stream" });
    expect(summary.journal).toBeUndefined(); // a temporary journal, removed
    expect(written.split("\n")[1]).toBe("0,row 0,ROW 0,,"); // _ungrounded and _error empty
    const positions = events.map((event) => event.bytesRead);
    expect(positions.every((position, i) => i === 0 || position >= positions[i - 1]!)).toBe(true);
    expect(positions[0]).toBeLessThan(text.length); // not the read-ahead
    expect(events.every((event) => event.totalBytes === text.length)).toBe(true);
  });

  it("estimateCsv() counts every row and returns the first row's messages, with no request", async () => {
    const estimate = await estimateCsv(input, { schema, model: "gpt-4o-mini", columns: ["text"] });
    expect(estimate.estimate.rows).toBe(30);
    expect(estimate.firstMessages?.[1]).toEqual({ role: "user", content: '{"text":"row 0"}' });
    expect(estimate.estimate.cost?.low).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(0);
  });

  describe("a ragged row in the middle", () => {
    const ragged = `id,text\n${Array.from({ length: 30 }, (_, i) => (i === 15 ? "15" : `${i},row ${i}`)).join("\n")}\n`;

    it("fails only that row by default: every other row is extracted and written, in order", async () => {
      writeFileSync(input, ragged);
      const out = `${input}.out.jsonl`;
      const summary = await extractCsv(input, { schema, baseURL: server.url, model: "m", out, concurrency: 4 });
      expect(summary).toMatchObject({ rowsDone: 30, rowsOk: 29, rowsFailed: 1, modelCalls: 29, interrupted: false });
      const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
      expect(rows.map((row) => row.index)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(rows[15]).toMatchObject({ input: { id: "15" }, data: null, error: { code: "CSV_MALFORMED" } });
      expect(rows[15].error.message).toMatch(/^line 17: 1 field, but the header has 2 \(in .*in\.csv\)\. /);
      expect(rows[16]).toMatchObject({ data: { upper: "ROW 16" }, error: null });
    });

    it("with `strict: true`, throws CSV_MALFORMED there after writing the rows before it", async () => {
      writeFileSync(input, ragged);
      const out = `${input}.out.csv`;
      const error = await extractCsv(input, { schema, baseURL: server.url, model: "m", out, concurrency: 4, strict: true }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "CSV_MALFORMED", file: input, line: 17 });
      expect((error as Error).message).toContain("leave out `strict`");
      const written = readFileSync(out, "utf8").trim().split("\n").slice(1);
      expect(written.map((line) => line.split(",")[0])).toEqual(Array.from({ length: 15 }, (_, i) => String(i)));
    });
  });
});
