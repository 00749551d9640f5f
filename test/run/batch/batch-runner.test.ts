/**
 * The batch runner through `extractCsv(..., { batch: true })`, against the loopback Files +
 * Batches API through the real SDK: rounds, re-asks, per-request errors, expiry, the token limit.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { extractCsv } from "../../../src/api/extract-csv.js";
import { startBatchApi, type BatchApi, type BatchApiOptions } from "../../servers/batch-api.js";

const schema = path.join(import.meta.dirname, "../../fixtures/schemas/person.ts");
let api: BatchApi | undefined;
afterEach(async () => api?.close());

/** The row of a request: its user message (the record the model sees). */
function rowOf(body: Record<string, any>): Record<string, string> {
  return JSON.parse(body.messages[1].content) as Record<string, string>;
}
const isReask = (body: Record<string, any>) => body.messages.length > 2;

async function setup(rows: number, options: BatchApiOptions) {
  api = await startBatchApi({ stepMs: 2, answer: (body) => ({ name: rowOf(body).text!.toUpperCase(), age: Number(rowOf(body).id) }), ...options });
  const dir = await mkdtemp(path.join(os.tmpdir(), "batch-runner-"));
  const input = path.join(dir, "in.csv");
  writeFileSync(input, `id,text\n${Array.from({ length: rows }, (_, i) => `${i},person ${i}`).join("\n")}\n`);
  return { input, out: path.join(dir, "out.jsonl") };
}

const run = (input: string, out: string, more: Record<string, unknown> = {}) =>
  extractCsv(input, { schema, out, model: "gpt-4o-mini", baseURL: api!.url, apiKey: "sk-test", batch: true, batchPoll: 1, ...more });

describe("batch runner", () => {
  it("extracts every row in one batch, writes them in input order, deletes the files", async () => {
    const { input, out } = await setup(20, {});
    const summary = await run(input, out);
    expect(summary).toMatchObject({ rowsDone: 20, rowsOk: 20, rowsFailed: 0, modelCalls: 20, interrupted: false, batch: { batchesCreated: 1, rounds: 1 } });
    const lines = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line) => line.data.age)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(api!.stats.filesDeleted).toBe(api!.stats.filesUploaded + 1);
  });

  it("re-asks bad replies with feedback in a next round, and every row ends right", async () => {
    const { input, out } = await setup(30, {
      faults: { invalidJson: 0.15, wrongShape: 0.15, truncated: 0.1, serverError: 0.1, rateLimit: 0.05 },
      faultKey: (body) => rowOf(body).id!,
      maxFaultsPerRow: 2,
      seed: 7,
    });
    const summary = await run(input, out);
    expect(summary).toMatchObject({ rowsDone: 30, rowsOk: 30, rowsFailed: 0 });
    expect(summary.batch!.rounds).toBeGreaterThan(1);
    expect(summary.modelCalls).toBeGreaterThan(30);
  });

  it("splits and resubmits a batch refused for the enqueued-token limit, until every row is done", async () => {
    // About a third of the rows' prompt tokens: the first file is refused, then cut to fit.
    const { input, out } = await setup(40, { enqueuedTokenLimit: 3000 });
    const summary = await run(input, out);
    expect(summary).toMatchObject({ rowsDone: 40, rowsOk: 40, rowsFailed: 0 });
    const statuses = api!.batches().map((batch) => batch.status);
    expect(statuses[0]).toBe("failed");
    expect(statuses.filter((status) => status === "completed").length).toBeGreaterThan(1);
    expect([...api!.stats.linesPerCustomId.values()].every((n) => n === 1)).toBe(true);
  });

  it("reads an output file answered 403 at first (OpenAI's brief quirk after completion)", async () => {
    const { input, out } = await setup(5, { forbiddenReads: 2 });
    const summary = await run(input, out);
    expect(summary).toMatchObject({ rowsOk: 5, rowsFailed: 0 });
    expect(api!.stats.forbiddenAnswers).toBe(2);
  });

  it("keeps the files with keepBatchFiles", async () => {
    const { input, out } = await setup(3, {});
    await run(input, out, { keepBatchFiles: true });
    expect(api!.stats.filesDeleted).toBe(0);
  });

  it("keeps the partial results of an expired batch and sends only the rest again", async () => {
    const { input, out } = await setup(10, { expire: { afterLines: 6 } });
    const summary = await run(input, out);
    expect(summary).toMatchObject({ rowsOk: 10, rowsFailed: 0, modelCalls: 10 + 4 });
    expect(api!.batches().map((batch) => batch.status)).toEqual(["expired", "completed"]);
  });
});
