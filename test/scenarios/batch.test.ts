/**
 * `extract --batch` end to end: the built CLI against the loopback Files + Batches API (through
 * the real SDK). A clean run writes the same bytes as a synchronous run given the same answers;
 * a faulty run (content faults, 500s, 429s, expiry with partial results) ends every row right
 * after re-ask rounds; `kill -9` while a batch is held live, then `--resume`, submits no row of
 * the live batch again and writes the same output; Ctrl-C leaves the batches running and says
 * how to resume or cancel; `extract batch status|cancel`. Kill points are decided by what the
 * server has seen (a batch created, held), never by time.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { jsonReply, rowOf, startChatServer } from "../servers/chat-server.js";
import { startBatchApi, type BatchApi, type BatchApiOptions } from "../servers/batch-api.js";
import { readCsv, repoRoot, runCli } from "../helpers/run-cli.js";

const ROWS = 120;
const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas"), EXTRACT_MODEL: "gpt-4o-mini" };

let input: string;
let syncReference: string;
let api: BatchApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The person a row names, so that every run (sync or batch) gets the same answers. */
function personOf(row: Record<string, string>) {
  return { name: row.text!.toUpperCase(), age: Number(row.id) };
}
const rowOfBody = (body: Record<string, any>) => JSON.parse(body.messages[1].content) as Record<string, string>;

/** Faults decided per row (not per custom_id), at most two per row: every row can end right within its attempts. */
const FAULTY: BatchApiOptions = {
  faults: { invalidJson: 0.1, wrongShape: 0.1, truncated: 0.05, serverError: 0.08, rateLimit: 0.04 },
  faultKey: (body) => rowOfBody(body).id!,
  maxFaultsPerRow: 2,
  expire: { afterLines: Math.floor(ROWS * 0.8) },
  seed: 13,
};

async function startApi(options: BatchApiOptions = {}): Promise<BatchApi> {
  api = await startBatchApi({ stepMs: 2, answer: (body) => personOf(rowOfBody(body)), ...options });
  return api;
}

async function freshOut(): Promise<string> {
  return path.join(await mkdtemp(path.join(os.tmpdir(), "batch-run-")), "out.csv");
}

const args = (out: string, ...more: string[]) => [input, "--schema", "person", "--base-url", api!.url, "--api-key", "sk-test", "-o", out, "--batch", "--batch-poll", "2ms", ...more];

/** Waits until `condition` holds (the server's state, not a time, decides when the test acts). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "batch-"));
  input = path.join(dir, "in.csv");
  writeFileSync(input, `id,text\n${Array.from({ length: ROWS }, (_, i) => `${i},"person ${i}, line ""${i}"""`).join("\n")}\n`);
  const chat = await startChatServer();
  chat.handle((request) => jsonReply(personOf(rowOf(request))));
  const out = path.join(dir, "sync.csv");
  const run = await runCli([input, "--schema", "person", "--base-url", chat.url, "-o", out], { env });
  await chat.close();
  expect(run.code).toBe(0);
  syncReference = readFileSync(out, "utf8");
});

// Several CLI runs per test: minutes on a loaded 2-core machine, never a timing assertion.
describe("extract --batch", { timeout: 120_000 }, () => {
  it("writes the same bytes as a synchronous run, in one batch, at batch prices", async () => {
    await startApi();
    const out = await freshOut();
    const run = await runCli(args(out), { env });
    expect(run.stderr).toMatch(/120 rows: 120 ok, 0 failed · 120 model calls in 1 batch, 1 round · .*~\$[\d.]+ \(gpt-4o-mini, batch\)/);
    expect(run.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(syncReference);
    expect(api!.stats.batchesCreated).toBe(1);
    expect(api!.stats.filesDeleted).toBe(api!.stats.filesUploaded + 1); // input and output files
  });

  it("ends every row right after re-ask rounds despite content faults, 500s, 429s and an expiry, with every row accounted for", async () => {
    await startApi(FAULTY);
    const out = await freshOut();
    const run = await runCli(args(out, "--max-attempts", "4"), { env });
    expect(run.code).toBe(0);
    const rows = readCsv(out);
    expect(rows).toHaveLength(ROWS);
    expect(rows.every((row) => row._error === "")).toBe(true);
    expect(readFileSync(out, "utf8")).toBe(syncReference);
    const batches = api!.batches();
    expect(batches.some((batch) => batch.status === "expired")).toBe(true);
    expect(batches.length).toBeGreaterThan(1);
    // Each custom_id names one attempt of one row: none was sent twice.
    expect([...api!.stats.linesPerCustomId.values()].every((n) => n === 1)).toBe(true);
  });

  it("fails a row with its code after a 4xx, and keeps the others", async () => {
    const { failRequest } = await import("../servers/batch-api.js");
    await startApi({ answer: (body) => (rowOfBody(body).id === "3" ? failRequest(400, "This request is not valid.") : personOf(rowOfBody(body))) });
    const out = await freshOut();
    const run = await runCli(args(out), { env });
    expect(run.code).toBe(1);
    const rows = readCsv(out);
    expect(rows.filter((row) => row._error !== "").map((row) => row.id)).toEqual(["3"]);
    expect(rows[3]!._error).toMatch(/^MODEL_ERROR/);
  });

  it("after kill -9 while a batch is live, --resume re-attaches to it, submits none of its rows again, and writes the same output", async () => {
    await startApi(FAULTY);
    api!.hold();
    const out = await freshOut();
    let child: ChildProcess | undefined;
    const killed = runCli(args(out, "--max-attempts", "4"), { env, onSpawn: (spawned) => (child = spawned) });
    await until(() => api!.stats.batchesCreated === 1);
    child!.kill("SIGKILL");
    expect((await killed).signal).toBe("SIGKILL");
    const uploaded = api!.stats.filesUploaded;
    const firstRound = new Map(api!.stats.linesPerCustomId);
    expect(api!.liveBatches()).toHaveLength(1);

    api!.release();
    const resumed = await runCli(args(out, "--max-attempts", "4", "--resume"), { env });
    expect(resumed.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(syncReference);
    // The live batch was collected, not submitted again: its first-attempt lines were seen once.
    for (const id of firstRound.keys()) expect(api!.stats.linesPerCustomId.get(id)).toBe(1);
    expect([...api!.stats.linesPerCustomId.keys()].filter((id) => id.endsWith("-a1"))).toHaveLength(ROWS);
    expect(api!.stats.filesUploaded).toBeGreaterThanOrEqual(uploaded);
  });

  it("on Ctrl-C leaves the batches running and says how to resume or cancel (exit 130); batch status and cancel see them", async () => {
    await startApi();
    api!.hold();
    const out = await freshOut();
    let child: ChildProcess | undefined;
    const stopped = runCli(args(out), { env, onSpawn: (spawned) => (child = spawned) });
    await until(() => api!.stats.batchesCreated === 1);
    // The batch is created before its id is journaled: wait for the run to be polling it.
    await until(() => api!.stats.requests.some((request) => request.method === "GET" && request.path.includes("/batches/")));
    child!.kill("SIGINT");
    const run = await stopped;
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("which keeps running");
    expect(run.stderr).toContain("--resume");
    expect(run.stderr).toContain(`extract batch cancel --out ${out}`);
    expect(api!.liveBatches()).toHaveLength(1);

    const connection = ["--out", out, "--base-url", api!.url, "--api-key", "sk-test"];
    const status = await runCli(["batch", "status", ...connection], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${api!.liveBatches()[0]}  (validating|in_progress)`));

    const cancel = await runCli(["batch", "cancel", ...connection], { env });
    expect(cancel.code).toBe(0);
    api!.release();
    await until(() => api!.liveBatches().length === 0);
    expect(api!.batches()[0]!.status).toBe("cancelled");

    // The resumed run collects what the cancelled batch finished and sends the rest again.
    const resumed = await runCli(args(out, "--resume"), { env });
    expect(resumed.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(syncReference);
  });

  it("runs through Azure OpenAI's batch paths, with the deployment as every line's model and Azure's line url", async () => {
    await startApi();
    const out = await freshOut();
    const azureEnv = { ...env, EXTRACT_MODEL: undefined, AZURE_OPENAI_ENDPOINT: api!.origin, AZURE_OPENAI_API_KEY: "azure-test-key" };
    const run = await runCli([input, "--schema", "person", "--model", "my-deployment", "-o", out, "--batch", "--batch-poll", "2ms", "--keep-batch-files"], { env: azureEnv });
    expect(run.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(syncReference);
    // Every Files/Batches call went to Azure's form of the path, with an api-version.
    const batchCalls = api!.stats.requests.filter((request) => /\/(files|batches)/.test(request.path));
    expect(batchCalls.length).toBeGreaterThan(0);
    expect(batchCalls.every((request) => request.path.startsWith("/openai/") && request.query["api-version"])).toBe(true);
    const [batch] = api!.batches();
    const lines = api!.fileText(batch!.input_file_id)!.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines).toHaveLength(ROWS);
    expect(lines.every((line) => line.url === "/chat/completions" && line.body.model === "my-deployment")).toBe(true);
  });

  it("finishes the re-asks with synchronous calls with --batch-finish sync", async () => {
    await startApi({ faults: { invalidJson: 0.3 }, faultKey: (body) => rowOfBody(body).id!, maxFaultsPerRow: 1, seed: 3 });
    const chat = await startChatServer();
    chat.handle((request) => jsonReply(personOf(rowOf(request))));
    // One origin for both, as a provider has: chat completions to the chat server, the rest to the Batch API.
    const origin = await startRouter({ "/v1/chat/completions": new URL(chat.url).origin }, api!.origin);
    try {
      const out = await freshOut();
      const run = await runCli([input, "--schema", "person", "--base-url", `${origin.url}/v1`, "--api-key", "sk-test", "-o", out, "--batch", "--batch-poll", "2ms", "--batch-finish", "sync"], { env });
      expect(run.code).toBe(0);
      expect(readFileSync(out, "utf8")).toBe(syncReference);
      const reasked = [...api!.stats.linesPerCustomId.keys()].filter((id) => !id.endsWith("-a1"));
      expect(reasked).toEqual([]); // no second batch: the re-asks went to the chat server
      expect(chat.requests.length).toBeGreaterThan(0);
      expect(chat.requests.every((request) => request.body.messages.length === 4)).toBe(true); // each with the reply and its feedback
      expect(run.stderr).toMatch(/in 1 batch, 1 round/); // the batch rounds; the re-asks were synchronous
    } finally {
      await origin.close();
      await chat.close();
    }
  });
});

/** A loopback server passing each request to the origin its path is mapped to, else to `fallback`. */
async function startRouter(routes: Record<string, string>, fallback: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const target = new URL(req.url!, routes[req.url!.split("?")[0]!] ?? fallback);
    const forward = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
