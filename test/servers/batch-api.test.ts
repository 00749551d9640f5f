import { afterEach, describe, expect, it } from "vitest";
import OpenAI, { AzureOpenAI, PermissionDeniedError, toFile } from "openai";
import { startBatchApi, cutOff, failRequest, type BatchApi, type BatchApiOptions, type BatchOutputLine } from "./batch-api.js";
import { validateAgainstOpenApi } from "./openapi.js";

const MODEL = "gpt-4o-mini";
const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);
/** The order states may be seen in; a batch never goes back. */
const FORWARD = ["validating", "in_progress", "finalizing", "completed"];

let api: BatchApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(options: BatchApiOptions = {}): Promise<{ api: BatchApi; client: OpenAI }> {
  api = await startBatchApi({ stepMs: 2, ...options });
  return { api, client: new OpenAI({ baseURL: api.url, apiKey: "test-key", maxRetries: 0 }) };
}

const rowOf = (i: number) => ({ id: i, name: `row ${i}` });

/** A Chat Completions body as llm-extract sends it: the row's JSON in the first user message. */
function chatBody(row: object, extra: object = {}) {
  return {
    model: MODEL,
    messages: [
      { role: "system", content: "Extract the fields. Answer in JSON." },
      { role: "user", content: JSON.stringify(row) },
    ],
    response_format: { type: "json_object" },
    max_tokens: 200,
    ...extra,
  };
}

/** An input file of `n` request lines, custom_id "row-<i>". */
function requestFile(n: number, bodyOf: (i: number) => object = (i) => chatBody(rowOf(i)), url = "/v1/chat/completions"): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ custom_id: `row-${i}`, method: "POST", url, body: bodyOf(i) }) + "\n").join("");
}

async function submit(client: OpenAI, text: string, metadata?: Record<string, string>) {
  const file = await client.files.create({ file: await toFile(Buffer.from(text), "requests.jsonl"), purpose: "batch" });
  return client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: metadata ?? null });
}

/** Polls until the batch is terminal; returns it and every status seen on the way. */
async function waitForBatch(client: OpenAI, id: string) {
  const seen: string[] = [];
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (seen.at(-1) !== batch.status) seen.push(batch.status);
    if (TERMINAL.has(batch.status)) return { batch, seen };
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function readLines(client: OpenAI, fileId: string | null | undefined): Promise<BatchOutputLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

/**
 * The Batch object checked against OpenAPI's `Batch`. Unset fields are dropped first: the API
 * sends them as null (so do the spec's own examples) while the schema does not mark them nullable.
 */
function batchSchemaErrors(batch: object): string[] {
  return validateAgainstOpenApi("Batch", Object.fromEntries(Object.entries(batch).filter(([, value]) => value !== null)));
}

const contentOf = (line: BatchOutputLine) => (line.response!.body as OpenAI.ChatCompletion).choices[0]!.message;

describe("batch-api lifecycle", () => {
  it("uploads, runs a batch to completed and writes every answer once, in a shuffled order", async () => {
    const { api, client } = await start({ answer: (body) => ({ echo: JSON.parse(body.messages[1].content).name }) });
    const text = requestFile(12);
    const file = await client.files.create({ file: await toFile(Buffer.from(text), "requests.jsonl"), purpose: "batch" });
    expect(validateAgainstOpenApi("OpenAIFile", file)).toEqual([]);
    expect(file).toMatchObject({ object: "file", purpose: "batch", bytes: Buffer.byteLength(text), filename: "requests.jsonl" });
    expect(await (await client.files.content(file.id)).text()).toBe(text);

    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { job: "j1" },
    });
    expect(created.status).toBe("validating");
    expect(batchSchemaErrors(created)).toEqual([]);
    expect(api.liveBatches()).toEqual([created.id]);

    const { batch, seen } = await waitForBatch(client, created.id);
    expect(batchSchemaErrors(batch)).toEqual([]);
    expect(FORWARD.filter((state) => seen.includes(state))).toEqual(seen); // only forward
    expect(batch).toMatchObject({ status: "completed", model: MODEL, metadata: { job: "j1" }, error_file_id: null, errors: null });
    expect(batch.request_counts).toEqual({ total: 12, completed: 12, failed: 0 });
    expect(batch.usage!.input_tokens).toBeGreaterThan(0);
    expect(api.liveBatches()).toEqual([]);

    const output = await readLines(client, batch.output_file_id);
    const ids = output.map((line) => line.custom_id);
    expect([...ids].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `row-${i}`).sort());
    expect(ids).not.toEqual(Array.from({ length: 12 }, (_, i) => `row-${i}`));
    for (const line of output) {
      expect(line).toMatchObject({ error: null, response: { status_code: 200 } });
      expect(validateAgainstOpenApi("CreateChatCompletionResponse", line.response!.body)).toEqual([]);
      const i = Number(line.custom_id.slice(4));
      expect(JSON.parse(contentOf(line).content!)).toEqual({ echo: `row ${i}` });
    }
    expect(api.stats).toMatchObject({ filesUploaded: 1, batchesCreated: 1 });
    expect(api.stats.linesPerCustomId.get("row-3")).toBe(1);
  });

  it("gives the same seed the same output order, and another seed another", async () => {
    const orders: string[][] = [];
    for (const seed of [7, 7, 8]) {
      const { client } = await start({ seed });
      const { batch } = await waitForBatch(client, (await submit(client, requestFile(10))).id);
      orders.push((await readLines(client, batch.output_file_id)).map((line) => line.custom_id));
      await api!.close();
      api = undefined;
    }
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).not.toEqual(orders[0]);
  });

  it("moves only when told while held, so a test can act on a live batch", async () => {
    const { api, client } = await start();
    api.hold();
    const created = await submit(client, requestFile(6));
    api.step();
    expect((await client.batches.retrieve(created.id)).status).toBe("in_progress");
    api.step();
    const running = await client.batches.retrieve(created.id);
    expect(running.request_counts).toEqual({ total: 6, completed: 2, failed: 0 });
    expect(api.liveBatches()).toEqual([created.id]);
    api.release();
    expect((await waitForBatch(client, created.id)).batch.status).toBe("completed");
  });

  it("deletes files and answers 404 for them afterwards", async () => {
    const { api, client } = await start();
    const file = await client.files.create({ file: await toFile(Buffer.from(requestFile(1)), "r.jsonl"), purpose: "batch" });
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: "file", deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    expect(api.stats.filesDeleted).toBe(1);
  });
});
