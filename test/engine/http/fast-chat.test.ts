import diagnostics from "node:diagnostics_channel";
import OpenAI from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOpenAIEngine } from "../../../src/engine/http/openai.js";
import type { CompletionRequest } from "../../../src/engine/types.js";
import { jsonReply, startChatServer, type ChatServer } from "../../servers/chat-server.js";

// The fast path (node:http keep-alive) must be the SDK path in all but cost: same body and headers, the SDK's
// retry rules, its error classes. An engine built from `baseURL` takes it; one given a `client`
// takes the SDK path, which is the reference here.

let server: ChatServer;
beforeEach(async () => {
  server = await startChatServer();
});
afterEach(() => server.close());

const request: CompletionRequest = {
  messages: [
    { role: "system", content: "Answer in JSON." },
    { role: "user", content: '{"id":"1","text":"Ada"}' },
  ],
  maxTokens: 50,
};

function fastEngine(extra: { maxRetries?: number; concurrency?: number } = {}) {
  return createOpenAIEngine({ model: "m", baseURL: server.url, apiKey: "sk-fast-path", timeout: 5000, maxRetries: 2, concurrency: 4, ...extra });
}

describe("the fast path", () => {
  it("sends the body and the headers the SDK sends for the same key and server", async () => {
    server.handle(() => jsonReply({ name: "Ada" }));
    await fastEngine().complete(request);
    const sdkClient = new OpenAI({ apiKey: "sk-fast-path", baseURL: server.url });
    await createOpenAIEngine({ model: "m", client: sdkClient, timeout: 5000, maxRetries: 2, concurrency: 4 }).complete(request);

    const [fast, sdk] = server.requests;
    expect(fast!.schemaErrors).toEqual([]);
    expect(fast!.body).toEqual(sdk!.body);
    expect(fast!.path).toBe(sdk!.path);
    for (const name of ["authorization", "content-type", "accept", "user-agent", "x-stainless-lang", "x-stainless-package-version", "x-stainless-retry-count"]) {
      expect([name, fast!.headers[name]]).toEqual([name, sdk!.headers[name]]);
    }
  });

  it.each([408, 409, 429, 500, 503])("retries a %i as the SDK does, then returns the reply", async (status) => {
    server.script({ status, headers: { "retry-after-ms": "0" } }, jsonReply({ name: "Ada" }));
    const engine = fastEngine();
    const reply = await engine.complete(request);
    expect(JSON.parse(reply.content!)).toEqual({ name: "Ada" });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.headers["x-stainless-retry-count"]).toBe("1");
    expect(engine.pacing.requests).toBe(2);
  });

  it("obeys x-should-retry: no retry of a 500 that says false, a retry of a 400 that says true", async () => {
    server.script({ status: 500, headers: { "x-should-retry": "false" } });
    await expect(fastEngine().complete(request)).rejects.toMatchObject({ code: "MODEL_ERROR" });
    expect(server.requests).toHaveLength(1);

    server.reset();
    server.script({ status: 400, headers: { "x-should-retry": "true", "retry-after-ms": "0" } }, jsonReply({ name: "Ada" }));
    await expect(fastEngine().complete(request)).resolves.toMatchObject({ finishReason: "stop" });
    expect(server.requests).toHaveLength(2);
  });

  it("retries a dropped connection", async () => {
    server.script(jsonReply({ name: "first" }), { drop: true }, jsonReply({ name: "Ada" }));
    const engine = fastEngine();
    await engine.complete(request); // the first answer: a later drop is an outage, not a wrong URL
    const reply = await engine.complete(request);
    expect(JSON.parse(reply.content!)).toEqual({ name: "Ada" });
    expect(server.requests).toHaveLength(3);
  });

  it("stops after maxRetries and maps the last answer's error body, as the SDK path does", async () => {
    server.handle(() => ({ status: 429, error: { code: "insufficient_quota", message: "You exceeded your current quota." }, headers: { "retry-after-ms": "0" } }));
    const failure = await fastEngine({ maxRetries: 1 }).complete(request).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "QUOTA_EXCEEDED" });
    expect((failure as Error).message).toContain("You exceeded your current quota.");
    expect((failure as Error & { cause?: unknown }).cause).toBeInstanceOf(OpenAI.RateLimitError);
    expect(server.requests).toHaveLength(2);
  });

  it("names the field a server refuses, from the error body (MODE_UNSUPPORTED)", async () => {
    server.script({ status: 400, error: { message: "response_format is not supported", param: "response_format" } });
    await expect(fastEngine().complete(request)).rejects.toMatchObject({ code: "MODE_UNSUPPORTED" });
  });

  it("ends a call with ABORTED when its signal aborts while the server is still thinking", async () => {
    server.script({ ...jsonReply({ name: "late" }), delayMs: 10_000 });
    const controller = new AbortController();
    const call = fastEngine().complete({ ...request, signal: controller.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("hands a redirect to the SDK path, which fetch follows", async () => {
    server.script({ status: 307, headers: { location: `${server.url}/chat/completions` } }, jsonReply({ name: "Ada" }));
    const reply = await fastEngine().complete(request);
    expect(JSON.parse(reply.content!)).toEqual({ name: "Ada" });
  });
});

describe("the SDK path", () => {
  it("serves a user-supplied client, through that client's own fetch", async () => {
    server.handle(() => jsonReply({ name: "Ada" }));
    let calls = 0;
    const client = new OpenAI({
      apiKey: "sk-user-client",
      baseURL: server.url,
      fetch: (url, init) => {
        calls++;
        return fetch(url, init);
      },
    });
    await createOpenAIEngine({ model: "m", client, timeout: 5000, maxRetries: 0, concurrency: 1 }).complete(request);
    expect(calls).toBe(1);
    expect(server.requests[0]!.headers.authorization).toBe("Bearer sk-user-client");
  });
});

describe("the fast path under a full window", () => {
  it("hands the slot an answer frees to the waiting call, whose request starts before the answered call returns", async () => {
    server.handle(() => jsonReply({ name: "Ada" }));
    const started: string[] = [];
    const onStart = ({ request: sent }: { request: { path: string } }) => started.push(sent.path);
    diagnostics.subscribe("http.client.request.start", onStart as (message: unknown) => void);
    try {
      const engine = fastEngine({ concurrency: 1 });
      const first = engine.complete(request).then(() => started.length);
      const second = engine.complete(request);
      // The first answer's own work (parse, validate, write) comes after the second request is on its way.
      expect(await first).toBe(2);
      await second;
    } finally {
      diagnostics.unsubscribe("http.client.request.start", onStart as (message: unknown) => void);
    }
  });
});
