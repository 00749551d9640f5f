import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { estimateCsv, extractCsv, type CsvProgressEvent } from "../src/index.js";
import { jsonReply, startChatServer, type ChatServer } from "./helpers/chat-server.js";

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
    expect(written.split("\n")[1]).toBe("0,row 0,ROW 0,");
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
});
