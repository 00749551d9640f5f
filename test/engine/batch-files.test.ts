import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createBatchFilesApi, fileBatchId, requestFileOf } from "../../src/engine/batch-files.js";

const errors = { model: "m", baseURL: "results.jsonl", maxRetries: 0, secrets: [] };

describe("createBatchFilesApi", () => {
  it("writes the request file, and calls a batch made by this run in progress", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "batch-files-"));
    const requestFile = path.join(dir, "requests.jsonl");
    const api = createBatchFilesApi({ model: "m", tokenLimitField: "max_tokens", requestFile, resultsFile: path.join(dir, "old.results.jsonl"), errors });
    expect(api).toMatchObject({ offline: true, url: "/v1/chat/completions", lineModel: "m", azure: false });
    const file = await api.upload("ignored-name.jsonl", "line\n");
    expect(file).toBe(requestFile);
    expect(readFileSync(requestFile, "utf8")).toBe("line\n");
    const batch = await api.create(file, {});
    expect(batch.id).toBe(fileBatchId(requestFile));
    expect(await api.retrieve(batch.id)).toMatchObject({ status: "in_progress", input_file_id: requestFile });
  });

  it("reads an earlier run's batch as completed with the results file as its output, and deletes nothing", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "batch-files-"));
    const results = path.join(dir, "results.jsonl");
    writeFileSync(results, "{}\n");
    const earlier = fileBatchId(path.join(dir, "requests.jsonl"));
    const api = createBatchFilesApi({ model: "m", tokenLimitField: "max_tokens", requestFile: path.join(dir, "next.jsonl"), resultsFile: results, errors });
    const batch = await api.retrieve(earlier);
    expect(batch).toMatchObject({ status: "completed", output_file_id: results, input_file_id: path.join(dir, "requests.jsonl") });
    expect(await api.content(batch.output_file_id!)).toBe("{}\n");
    await api.remove(results);
    expect(existsSync(results)).toBe(true);
    // Without results, nothing is complete yet.
    const waiting = createBatchFilesApi({ model: "m", tokenLimitField: "max_tokens", requestFile: path.join(dir, "next.jsonl"), errors });
    expect(await waiting.retrieve(earlier)).toMatchObject({ status: "in_progress" });
  });

  it("names a file it cannot read or write", async () => {
    const api = createBatchFilesApi({ model: "m", tokenLimitField: "max_tokens", requestFile: "/nonexistent-dir/requests.jsonl", errors });
    await expect(api.upload("x", "y")).rejects.toMatchObject({ code: "OUTPUT_UNWRITABLE", file: "/nonexistent-dir/requests.jsonl" });
    await expect(api.content("/nonexistent-dir/results.jsonl")).rejects.toMatchObject({ code: "INPUT_UNREADABLE" });
  });

  it("tells its batch ids from the Batch API's", () => {
    expect(requestFileOf(fileBatchId("/a/b.jsonl"))).toBe("/a/b.jsonl");
    expect(requestFileOf("batch_abc123")).toBeUndefined();
  });
});
