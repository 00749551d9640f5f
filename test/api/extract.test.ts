import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { ExtractError, extract, extractOne, type ExtractOptions, type ExtractResult } from "../../src/index.js";
import { readAheadWindow } from "../../src/run/ordered.js";
import { jsonReply, startChatServer, type ChatServer, rowOf } from "../servers/chat-server.js";
import { collect } from "../helpers/collect.js";

const fixtures = fileURLToPath(new URL("../fixtures/schemas", import.meta.url));

const ticket = z.object({
  name: z.string().nullable(),
  urgency: z.enum(["low", "high"]),
  items: z.array(z.object({ sku: z.string(), qty: z.int() })),
});
const good = { name: "Ana", urgency: "high", items: [{ sku: "A-1", qty: 2 }] } as const;

// A server per test: calls a test aborts may still land after it ends, and must not count in the next.
let server: ChatServer;
beforeEach(async () => {
  server = await startChatServer();
  server.handle(() => ({ status: 500, error: { message: "unexpected request in this test" } }));
});
afterEach(() => server.close());

function options(extra: Partial<ExtractOptions<typeof ticket>> = {}): ExtractOptions<typeof ticket> {
  return { schema: ticket, model: "test-model", baseURL: server.url, apiKey: "sk-test-01234", maxRetries: 2, ...extra };
}


/** The record a request carries in its user message. */
describe("extract() at the wire", () => {
  it("sends a Chat Completions request the real API accepts, and returns the data", async () => {
    server.script(jsonReply(good, { usage: { prompt_tokens: 120, completion_tokens: 30 } }));
    const [result] = await collect(extract([{ subject: "Broken", body: "2x A-1 arrived broken" }], options()));

    expect(result).toEqual({
      index: 0,
      row: { subject: "Broken", body: "2x A-1 arrived broken" },
      ok: true,
      data: good,
      attempts: 1,
      usage: { prompt_tokens: 120, completion_tokens: 30 },
      repaired: false,
      coerced: [],
      reused: false,
      // Grounding, on by default: "Ana" is in no column the model saw; the enum is not looked for.
      spans: [
        { path: "items[0].sku", column: "body", start: 3, end: 6, match: "exact" },
        { path: "items[0].qty", column: "body", start: 0, end: 1, match: "exact" },
      ],
      ungrounded: ["name"],
    });
    const [request] = server.requests;
    expect(request!.schemaErrors).toEqual([]);
    expect(request!.headers.authorization).toBe("Bearer sk-test-01234");
    expect(request!.body).toMatchObject({
      model: "test-model",
      response_format: { type: "json_object" },
      max_tokens: 1024,
    });
    expect(request!.body.temperature).toBeUndefined();
    expect(request!.body.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user"]);
    expect(rowOf(request!)).toEqual({ subject: "Broken", body: "2x A-1 arrived broken" });
  });

  it("leaves spans and ungrounded out with `grounding: false`", async () => {
    server.script(jsonReply(good));
    const [result] = await collect(extract([{ body: "2x A-1" }], options({ grounding: false })));
    expect(result).toMatchObject({ ok: true, data: good });
    expect(result).not.toHaveProperty("spans");
    expect(result).not.toHaveProperty("ungrounded");
  });

  it("repairs a fenced, prose-wrapped reply locally with no second call", async () => {
    server.script({ reply: `Sure! Here it is:\n\`\`\`json\n${JSON.stringify(good)}\n\`\`\`` });
    const [result] = await collect(extract(["text"], options()));
    expect(result).toMatchObject({ ok: true, data: good, attempts: 1, repaired: true });
    expect(server.requests).toHaveLength(1);
  });

  it("re-asks after invalid JSON with the failed reply and the parse error, then accepts the fix", async () => {
    server.script({ reply: "I could not decide", usage: { prompt_tokens: 100, completion_tokens: 5 } });
    server.script(jsonReply(good, { usage: { prompt_tokens: 130, completion_tokens: 20 } }));
    const [result] = await collect(extract(["text"], options()));

    expect(result).toMatchObject({ ok: true, attempts: 2, usage: { prompt_tokens: 230, completion_tokens: 25 } });
    const retry = server.requests[1]!.body.messages;
    expect(retry).toHaveLength(4);
    expect(retry[2]).toEqual({ role: "assistant", content: "I could not decide" });
    expect(retry[3].content).toMatch(/not valid JSON/);
  });

  it("re-asks after a wrong shape listing each zod issue path, resending only the latest attempt", async () => {
    server.script(jsonReply({ name: "Ana", urgency: "urgent", items: [] }));
    server.script(jsonReply({ name: "Ana", urgency: "high", items: [{ sku: "A-1", qty: "two" }] }));
    server.script(jsonReply(good));
    const [result] = await collect(extract(["text"], options()));

    expect(result).toMatchObject({ ok: true, attempts: 3, data: good });
    const second = server.requests[1]!.body.messages;
    expect(second[3].content).toMatch(/- \$\.urgency: Invalid option/);
    const third = server.requests[2]!.body.messages;
    expect(third).toHaveLength(4);
    expect(third[2].content).toContain('"qty":"two"');
    expect(third[3].content).toMatch(/- \$\.items\[0\]\.qty: /);
    expect(third[3].content).not.toContain("$.urgency");
  });

  it("after a cut-off reply asks again with a doubled output budget", async () => {
    server.script({ reply: '{"name": "Ana", "urgency": "hi', finishReason: "length" });
    server.script(jsonReply(good));
    const [result] = await collect(extract(["text"], options({ maxTokens: 300 })));

    expect(result).toMatchObject({ ok: true, attempts: 2, repaired: false });
    expect(server.bodies.map((body) => body.max_tokens)).toEqual([300, 600]);
    expect(server.bodies[1].messages).toHaveLength(3);
    expect(server.bodies[1].messages[2].content).toMatch(/cut off/);
  });

  it("fails with OUTPUT_TRUNCATED when every reply is cut off, budget capped, usage summed", async () => {
    for (let i = 0; i < 3; i++) {
      server.script({ reply: '{"name": "A', finishReason: "length", usage: { prompt_tokens: 50, completion_tokens: 10 } });
    }
    const [result] = await collect(extract(["text"], options({ maxTokens: 300, maxTokensCap: 1000 })));

    expect(result).toMatchObject({
      ok: false,
      error: { code: "OUTPUT_TRUNCATED" },
      attempts: 3,
      usage: { prompt_tokens: 150, completion_tokens: 30 },
    });
    expect(result!.error!.message).toMatch(/output limit of 1000 tokens.*after 3 attempts/);
    expect(server.bodies.map((body) => body.max_tokens)).toEqual([300, 600, 1000]);
  });

  it("fails a refused row at once with REFUSED, and the other rows go on", async () => {
    server.handle((request) =>
      rowOf(request).text === "refuse me" ? { reply: null, refusal: "I can't help with that." } : jsonReply(good),
    );
    const results = await collect(extract(["fine", "refuse me", "also fine"], options()));

    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]).toMatchObject({ error: { code: "REFUSED" }, attempts: 1 });
    expect(server.requests).toHaveLength(3);
  });

  it("fails with CONTENT_FILTERED without a re-ask", async () => {
    server.script({ reply: null, finishReason: "content_filter" });
    const [result] = await collect(extract(["text"], options()));
    expect(result).toMatchObject({ ok: false, error: { code: "CONTENT_FILTERED" }, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ["429 with retry-after", { status: 429, headers: { "retry-after": "0" } }],
    ["500", { status: 500, headers: { "retry-after-ms": "1" } }],
    ["a dropped connection", { drop: true as const }],
  ])("retries %s in the transport, without spending a re-ask", async (_, failure) => {
    server.script(failure, jsonReply(good));
    const [result] = await collect(extract(["text"], options()));
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it("fails the row with RATE_LIMITED when 429s outlast the transport retries", async () => {
    server.handle(() => ({ status: 429, headers: { "retry-after": "0" } }));
    const [result] = await collect(extract(["text"], options({ maxRetries: 1 })));
    expect(result).toMatchObject({ ok: false, error: { code: "RATE_LIMITED" } });
    expect(server.requests).toHaveLength(2);
  });

  it("keeps input order under concurrency with random latencies", async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let inFlight = 0;
    let maxInFlight = 0;
    server.handle(async (request) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 30)));
      inFlight--;
      return jsonReply({ ...good, name: String(rowOf(request).id) });
    });
    const rows = Array.from({ length: 60 }, (_, id) => ({ id: String(id) }));
    const results = await collect(extract(rows, options({ concurrency: 6 })));

    expect(results.map((r) => r.index)).toEqual(rows.map((_, i) => i));
    expect(results.map((r) => r.ok && r.data.name)).toEqual(rows.map((row) => row.id));
    expect(maxInFlight).toBeLessThanOrEqual(6);
    expect(maxInFlight).toBeGreaterThan(1);
  });

  it("keeps as many rows ready as in flight: the server sees `concurrency` requests, the next ones wait built", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let inFlight = 0;
    let maxInFlight = 0;
    let reachedTwo!: () => void;
    const twoInFlight = new Promise<void>((resolve) => (reachedTwo = resolve));
    server.handle(async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      if (inFlight === 2) reachedTwo();
      await released;
      inFlight--;
      return jsonReply(good);
    });
    let pulled = 0;
    async function* rows() {
      for (let id = 0; id < 8; id++) {
        pulled++;
        yield { id };
      }
    }
    const run = collect(extract(rows(), options({ concurrency: 2 })));
    await twoInFlight;
    await new Promise((resolve) => setImmediate(resolve));
    // Two requests at the server, two more rows read and waiting for their slots, no more.
    expect(pulled).toBe(4);
    expect(inFlight).toBe(2);
    release();
    expect((await run).map((result) => result.ok && result.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(maxInFlight).toBe(2);
  });

  it("reads async iterables lazily, never more than the window ahead of the output", async () => {
    server.handle(() => jsonReply(good));
    let pulled = 0;
    const window = readAheadWindow(2);
    async function* rows() {
      for (let id = 0; id < 10 * window; id++) {
        pulled++;
        yield { id };
      }
    }
    let seen = 0;
    for await (const result of extract(rows(), options({ concurrency: 2 }))) {
      seen++;
      expect(pulled - result.index).toBeLessThanOrEqual(window + 1);
      if (seen === 20) break;
    }
    expect(pulled).toBeLessThanOrEqual(20 + window + 1);
  });

  it("sends only the selected columns, and fails rows missing one with COLUMN_NOT_FOUND", async () => {
    server.handle(() => jsonReply(good));
    const results = await collect(extract([{ id: "1", body: "b", secret: "x" }, { id: "2" }], options({ columns: ["body"] })));

    expect(results[0]).toMatchObject({ ok: true });
    expect(results[1]).toMatchObject({ ok: false, attempts: 0, error: { code: "COLUMN_NOT_FOUND" } });
    expect(results[1]!.error!.message).toMatch(/no column "body".*Available: id/);
    expect(server.requests).toHaveLength(1);
    expect(rowOf(server.requests[0]!)).toEqual({ body: "b" });
  });

  it("every prompt passes the real API's rule that json_object needs the word JSON", async () => {
    server.handle(() => jsonReply(good));
    await collect(extract(["a", { text: "no j-word here" }], options()));
    expect(server.requests.every((request) => request.schemaErrors.length === 0)).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it("stops the whole run once with AUTH_FAILED, never showing the key", async () => {
    server.handle(() => ({ status: 401, error: { message: "Incorrect API key provided: sk-test-01234 (echoed in full)." } }));
    const error = await collect(extract(["a", "b", "c"], options({ concurrency: 1 }))).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe("AUTH_FAILED");
    expect((error as ExtractError).message).not.toMatch(/sk-test/);
    expect(server.requests).toHaveLength(1);
  });

  it("throws ABORTED when the signal aborts, cancelling the calls in flight", async () => {
    const controller = new AbortController();
    server.handle(async (request) => {
      if (rowOf(request).text === "slow") controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      return jsonReply(good);
    });
    const seen: ExtractResult<unknown>[] = [];
    const error = await (async () => {
      for await (const result of extract(["slow", "b"], options({ signal: controller.signal }))) seen.push(result);
    })().catch((e: unknown) => e);

    expect((error as ExtractError).code).toBe("ABORTED");
    expect(seen).toEqual([]);
  });

  it("loads a schema by name from the schemas folder, with its instructions", async () => {
    server.handle(() => jsonReply({ name: "Okafor Daniel", age: null }));
    const [result] = await collect(extract(["Daniel Okafor"], { ...options(), schema: "person", schemasDir: fixtures }));
    expect(result).toMatchObject({ ok: true, data: { name: "Okafor Daniel", age: null } });
    expect(server.bodies[0].messages[0].content).toContain("Names are written family name first.");
  });

  it("rejects a run without an API key or base URL before any call", async () => {
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
    try {
      const error = await collect(extract(["a"], { schema: ticket })).catch((e: unknown) => e);
      expect((error as ExtractError).code).toBe("MISSING_API_KEY");
    } finally {
      Object.assign(process.env, saved.key ? { OPENAI_API_KEY: saved.key } : {}, saved.url ? { OPENAI_BASE_URL: saved.url } : {});
    }
  });

  it("needs no key for a base URL, sending a placeholder", async () => {
    server.script(jsonReply(good));
    const [result] = await collect(extract(["a"], { ...options(), apiKey: undefined }));
    expect(result?.ok).toBe(true);
    expect(server.requests[0]!.headers.authorization).toBe("Bearer no-key");
  });

  it("types data as z.output of the schema", async () => {
    server.handle(() => jsonReply(good));
    for await (const result of extract(["a"], options())) {
      if (result.ok) expectTypeOf(result.data).toEqualTypeOf<z.output<typeof ticket>>();
      else expectTypeOf(result.error.code).toEqualTypeOf<ExtractError["code"]>();
    }
    const data = await extractOne("a", options());
    expectTypeOf(data).toEqualTypeOf<z.output<typeof ticket>>();
    expect(data).toEqual(good);
  });
});

describe("extractOne()", () => {
  it("sends a string as { text } and returns the data", async () => {
    server.script(jsonReply(good));
    await expect(extractOne("Hi, I'm Ana", options())).resolves.toEqual(good);
    expect(rowOf(server.requests[0]!)).toEqual({ text: "Hi, I'm Ana" });
  });

  it("throws an ExtractError with the failure's code and attempts", async () => {
    server.handle(() => jsonReply({ name: 1 }));
    const error = await extractOne({ note: "x" }, options({ maxAttempts: 2 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: "SCHEMA_MISMATCH", attempts: 2, row: 0 });
    expect(server.requests).toHaveLength(2);
  });

  it("rejects bad options by code before any call", async () => {
    const error = await extractOne("x", options({ concurrency: 0 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_OPTION" });
    expect(server.requests).toHaveLength(0);
  });

  it("reports a schema name that does not exist", async () => {
    const error = await extractOne("x", { ...options(), schema: "nope", schemasDir: path.join(fixtures) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SCHEMA_NOT_FOUND" });
  });
});
