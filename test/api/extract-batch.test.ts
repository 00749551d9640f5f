import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { extractBatch } from "../../src/api/extract-batch.js";
import { batchJobStatus } from "../../src/api/batch-jobs.js";
import { ExtractError } from "../../src/errors/extract-error.js";
import { startBatchApi, type BatchApi } from "../servers/batch-api.js";

const schema = z.object({ upper: z.string() });
let api: BatchApi;
afterEach(() => api.close());

async function collect<T>(results: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const result of results) all.push(result);
  return all;
}

describe("extractBatch", () => {
  it("yields one result per row in input order, identical rows sent once", async () => {
    api = await startBatchApi({ stepMs: 2, answer: (body) => ({ upper: String(JSON.parse(body.messages[1].content).text).toUpperCase() }) });
    const rows = ["alpha", "beta", "alpha", { text: "gamma" }];
    const results = await collect(extractBatch(rows, { schema, baseURL: api.url, apiKey: "sk-test", batchPoll: 1 }));
    expect(results.map((result) => [result.index, result.ok && result.data.upper])).toEqual([
      [0, "ALPHA"],
      [1, "BETA"],
      [2, "ALPHA"],
      [3, "GAMMA"],
    ]);
    expect(api.stats.linesPerCustomId.size).toBe(3);
  });

  it("throws ABORTED when stopped while a batch is live, and a resume with the same journal collects it", async () => {
    api = await startBatchApi({ stepMs: 2, answer: () => ({ upper: "X" }) });
    api.hold();
    const journal = path.join(await mkdtemp(path.join(os.tmpdir(), "extract-batch-")), "run.journal");
    const stop = new AbortController();
    const options = { schema, baseURL: api.url, apiKey: "sk-test", batchPoll: 1, journal };
    const progress: unknown[] = [];
    const stopped = collect(extractBatch(["a", "b"], { ...options, stopSignal: stop.signal, onBatchProgress: (event) => (stop.abort(), progress.push(event)) }));
    await expect(stopped).rejects.toSatisfy((error) => error instanceof ExtractError && error.code === "ABORTED" && /keeps? running/.test(error.message));
    expect(progress).toHaveLength(1);
    expect(api.liveBatches()).toHaveLength(1);
    expect((await batchJobStatus({ journal, baseURL: api.url, apiKey: "sk-test" })).map((batch) => batch.collected)).toEqual([false]);

    api.release();
    const results = await collect(extractBatch(["a", "b"], { ...options, resume: true }));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(api.stats.batchesCreated).toBe(1);
  });
});
