import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createOpenAIEngine } from "../../src/engine/http/openai.js";
import { ExtractError, extract, type ExtractOptions, type ExtractResult } from "../../src/index.js";
import { jsonReply, startChatServer, type ChatServer, type RecordedRequest } from "../servers/chat-server.js";
import { collect } from "../helpers/collect.js";

// Pacing, timeouts and run-ending errors at the wire: the real SDK against the loopback server.

const person = z.object({ name: z.string(), age: z.int().nullable() });
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: String(i), text: `person ${i}` }));

let server: ChatServer;
beforeEach(async () => {
  server = await startChatServer();
  server.handle((request) => personReply(request));
});
afterEach(() => server.close());

function personReply(request: RecordedRequest) {
  const row = JSON.parse(request.body.messages[1].content);
  return jsonReply({ name: String(row.text).toUpperCase(), age: Number(row.id) });
}

function options(extra: Partial<ExtractOptions<typeof person>> = {}): ExtractOptions<typeof person> {
  return { schema: person, model: "test-model", baseURL: server.url, apiKey: "sk-test-reliability", maxRetries: 2, ...extra };
}


const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wraps the server's handler to track how many requests are being answered at once. */
function trackInFlight(answer: (request: RecordedRequest, index: number) => Promise<ReturnType<typeof personReply>>) {
  const seen = { now: 0, max: 0, maxBeforeFirstAnswer: 0, firstAnswered: false };
  server.handle(async (request, index) => {
    seen.max = Math.max(seen.max, ++seen.now);
    if (!seen.firstAnswered) seen.maxBeforeFirstAnswer = seen.max;
    try {
      return await answer(request, index);
    } finally {
      seen.now--;
      seen.firstAnswered = true;
    }
  });
  return seen;
}

describe("pacing at the wire", () => {
  it("with --rpm or --tpm, sends one request first and the rest only after its answer, then up to the concurrency", async () => {
    const seen = trackInFlight(async (request) => {
      await pause(20);
      return personReply(request);
    });
    const results = await collect(extract(rows(24), options({ concurrency: 6, rpm: 1_000_000 })));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(seen.maxBeforeFirstAnswer).toBe(1);
    expect(seen.max).toBeLessThanOrEqual(6);
  });

  it("sends the whole window at once to a server on this machine, with no cap given: no probe to wait on", async () => {
    // The first answers wait until six requests are in (or 3 s: with a probe there would be one),
    // so a slow machine cannot make the count come out low.
    const seen = trackInFlight(async (request) => {
      for (let waited = 0; !seen.firstAnswered && seen.now < 6 && waited < 3000; waited += 10) await pause(10);
      return personReply(request);
    });
    const results = await collect(extract(rows(24), options({ concurrency: 6 })));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(seen.maxBeforeFirstAnswer).toBe(6);
    expect(seen.max).toBeLessThanOrEqual(6);
  });

  it("learns the limits the server announces", async () => {
    server.handle(() => jsonReply({}, { headers: { "x-ratelimit-limit-requests": "6000", "x-ratelimit-limit-tokens": "2000000" } }));
    const engine = createOpenAIEngine({ model: "m", baseURL: server.url, apiKey: "k", timeout: 5000, maxRetries: 0, concurrency: 4 });
    await engine.complete({ messages: [{ role: "user", content: "json please" }], maxTokens: 10 });
    expect(engine.pacing).toMatchObject({ rpm: 6000, tpm: 2_000_000, requests: 1, rateLimited: 0 });
  });

  it("retries a 429 after the gate opens and counts it; the row still succeeds", async () => {
    server.script({ status: 429, headers: { "retry-after-ms": "30", "x-ratelimit-limit-requests": "6000" } });
    const results = await collect(extract(rows(3), options({ concurrency: 3 })));
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    expect(server.requests).toHaveLength(4);
  });

  it("does not count the time a request waits for its turn against --timeout", async () => {
    // 120 requests per minute: one per 500 ms, so the fifth row waits ~2 s for its turn, far
    // past the 1 s timeout, while the server itself answers at once.
    const results = await collect(extract(rows(5), options({ rpm: 120, timeout: 1000, maxRetries: 0, concurrency: 5 })));
    expect(results.map((result) => (result.ok ? "ok" : result.error.code))).toEqual(["ok", "ok", "ok", "ok", "ok"]);
  });

  it("times out a slow answer, retries it, and succeeds when the retry is fast", async () => {
    server.script({ ...personReply({ body: { messages: [{}, { content: '{"id":"0","text":"person 0"}' }] } } as RecordedRequest), delayMs: 10_000 });
    const [result] = await collect(extract(rows(1), options({ timeout: 1000, maxRetries: 1 })));
    expect(result).toMatchObject({ ok: true, data: { name: "PERSON 0", age: 0 }, attempts: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it("fails the row with TIMEOUT when every try is too slow, and the other rows go on", async () => {
    server.handle(async (request) => {
      const row = JSON.parse(request.body.messages[1].content);
      return { ...personReply(request), delayMs: row.id === "1" ? 10_000 : 0 };
    });
    const results = await collect(extract(rows(3), options({ timeout: 1000, maxRetries: 1 })));
    expect(results.map((result) => (result.ok ? "ok" : result.error.code))).toEqual(["ok", "TIMEOUT", "ok"]);
    expect((results[1] as ExtractResult<unknown> & { ok: false }).error.message).toMatch(/`timeout`/);
  });
});

describe("errors that end the run once", () => {
  it.each([
    [401, "invalid_api_key", "AUTH_FAILED"],
    [403, null, "AUTH_FAILED"],
    [404, "model_not_found", "MODEL_NOT_FOUND"],
    [429, "insufficient_quota", "QUOTA_EXCEEDED"],
  ])("%i %s ends the run with %s after at most the transport retries", async (status, code, expected) => {
    server.handle(() => ({ status, error: { code, message: "no" }, headers: { "retry-after-ms": "0" } }));
    const error = await collect(extract(rows(20), options({ concurrency: 4 }))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe(expected);
    // At most the tries (1 + 2 retries) of the rows under way when it ended (4 in flight, and as
    // many waiting for a slot, which a retry's pause lends them), not of all 20 rows.
    expect(server.requests.length).toBeLessThanOrEqual(2 * 4 * 3);
  });
});

describe("--max-input-tokens", () => {
  it("fails a row whose prompt is too long with INPUT_TOO_LARGE, naming the field, without a call", async () => {
    const input = [
      { id: "0", text: "short" },
      { id: "1", text: "word ".repeat(5000) },
      { id: "2", text: "also short" },
    ];
    const results = await collect(extract(input, options({ maxInputTokens: 2000 })));
    expect(results.map((result) => (result.ok ? "ok" : result.error.code))).toEqual(["ok", "INPUT_TOO_LARGE", "ok"]);
    const failure = results[1] as ExtractResult<unknown> & { ok: false };
    expect(failure.error.message).toMatch(/over `maxInputTokens` 2,000\. The largest field is "text" \(5,\d{3} tokens\)\. Send fewer `columns`, shorten the field, or raise `maxInputTokens`\./);
    expect(failure.attempts).toBe(0);
    expect(server.bodies.map((body) => JSON.parse(body.messages[1].content).id)).toEqual(["0", "2"]);
  });

  it("tries the row again on --resume, where the limit may have been raised", async () => {
    const journal = path.join(await mkdtemp(path.join(os.tmpdir(), "reliability-")), "run.journal");
    const input = [{ id: "0", text: "word ".repeat(3000) }];
    const [first] = await collect(extract(input, options({ maxInputTokens: 1000, journal })));
    expect(first).toMatchObject({ ok: false, error: { code: "INPUT_TOO_LARGE" } });
    const [second] = await collect(extract(input, options({ maxInputTokens: 100_000, journal, resume: true })));
    expect(second).toMatchObject({ ok: true, reused: false });
    expect(server.requests).toHaveLength(1);
  });

  it("rejects a limit that is not a positive number", async () => {
    const error = await collect(extract(rows(1), options({ maxInputTokens: 0 }))).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "INVALID_OPTION", path: "maxInputTokens" });
  });
});
