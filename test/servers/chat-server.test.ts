import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI, { APIError } from "openai";
import { jsonReply, startChatServer, type ChatServer } from "./chat-server.js";
import { validateAgainstOpenApi } from "./openapi.js";

let server: ChatServer;
let client: OpenAI;
const ask = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content }], ...extra });

beforeAll(async () => {
  server = await startChatServer();
  client = new OpenAI({ apiKey: "test-key", baseURL: server.url, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  // reset() keeps the handler; a test's handler must not leak into the next test.
  server.handle(() => ({ status: 500, error: { message: "no handler in this test" } }));
});

describe("chat-server replies", () => {
  it("round-trips a scripted reply with content, finish_reason, usage and request id", async () => {
    server.script({ reply: "cut off", finishReason: "length", usage: { prompt_tokens: 7, completion_tokens: 3 }, headers: { "x-extra": "yes" } });
    const { data, response, request_id } = await ask("hello").withResponse();
    expect(data.choices[0]?.message.content).toBe("cut off");
    expect(data.choices[0]?.finish_reason).toBe("length");
    expect(data.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(data.model).toBe("gpt-4o-mini");
    expect(request_id).toBe("req_1");
    expect(response.headers.get("x-extra")).toBe("yes");
  });

  it("estimates usage as ceil(characters / 4) when the step gives none", async () => {
    server.script(jsonReply({ a: 1 })); // '{"a":1}' is 7 characters
    const completion = await client.chat.completions.create({
      model: "m",
      messages: [
        { role: "system", content: "json" },
        { role: "user", content: [{ type: "text", text: "0123456789" }] },
      ],
    }); // 14 prompt characters
    expect(completion.choices[0]?.message.content).toBe('{"a":1}');
    expect(completion.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
  });

  it("answers a refusal with content null", async () => {
    server.script({ reply: null, refusal: "I can't help with that." });
    const message = (await ask("hi")).choices[0]?.message;
    expect(message?.content).toBeNull();
    expect(message?.refusal).toBe("I can't help with that.");
  });

  it("consumes scripted steps in order, then falls back to the handler with the chat index", async () => {
    server.script({ reply: "first" }, { reply: "second" });
    server.handle((req, index) => ({ reply: `handler ${index} ${req.body.messages[0].content}` }));
    const replies = [];
    for (const content of ["a", "b", "c"]) replies.push((await ask(content)).choices[0]?.message.content);
    expect(replies).toEqual(["first", "second", "handler 2 c"]);
    expect(server.bodies.map((b) => b.messages[0].content)).toEqual(["a", "b", "c"]);
  });

  it("answers 500 'no scripted reply' by default when nothing is scripted", async () => {
    const fresh = await startChatServer(); // `server`'s handler may have been replaced by other tests
    try {
      const freshClient = new OpenAI({ apiKey: "test-key", baseURL: fresh.url, maxRetries: 0 });
      const error = await freshClient.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect((error as APIError).message).toContain("no scripted reply");
    } finally {
      await fresh.close();
    }
  });

  it("validates its responses against OpenAPI's CreateChatCompletionResponse", async () => {
    server.script(jsonReply({ ok: true }), { reply: null, refusal: "no" });
    for (let i = 0; i < 2; i++) {
      const json = await (await ask("hi").asResponse()).json();
      expect(validateAgainstOpenApi("CreateChatCompletionResponse", json)).toEqual([]);
    }
    expect(validateAgainstOpenApi("CreateChatCompletionResponse", { id: "x", object: "chat.completion" })).not.toEqual([]);
  });
});

describe("chat-server errors and retries", () => {
  it.each([
    [429, OpenAI.RateLimitError],
    [500, OpenAI.InternalServerError],
  ])("surfaces %i as its SDK error with maxRetries 0", async (status, ErrorClass) => {
    server.script({ status, headers: { "retry-after": "0" } }, { reply: "unused" });
    const error = await ask("hi").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect((error as APIError).status).toBe(status);
    expect(server.requests).toHaveLength(1);
  });

  it.each([429, 500])("lets the SDK retry %i once (retry-after: 0) and succeed", async (status) => {
    server.script({ status, headers: { "retry-after": "0" } }, { reply: "after retry" });
    const retrying = client.withOptions({ maxRetries: 1 });
    const completion = await retrying.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(completion.choices[0]?.message.content).toBe("after retry");
    expect(server.requests).toHaveLength(2);
  });

  it("gives OpenAI-shaped error bodies with per-status defaults", async () => {
    server.script({ status: 429 }, { status: 401, error: { message: "custom" } });
    const rateLimited = (await ask("a").catch((e: unknown) => e)) as APIError;
    expect(rateLimited.error).toEqual({ message: "Rate limit reached for requests", type: "requests", param: null, code: "rate_limit_exceeded" });
    const unauthorized = (await ask("b").catch((e: unknown) => e)) as APIError;
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unauthorized.error).toMatchObject({ message: "custom", type: "invalid_request_error", code: "invalid_api_key" });
  });

  it("surfaces a dropped connection as APIConnectionError", async () => {
    server.script({ drop: true });
    await expect(ask("hi")).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests).toHaveLength(1);
  });

  it("survives a client that disconnects during delayMs", async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    server.handle(() => {
      arrived();
      return { reply: "too late", delayMs: 60_000 };
    });
    const controller = new AbortController();
    const slow = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "slow" }] }, { signal: controller.signal });
    await arrival; // abort only once the server is waiting, so the test needs no timing
    controller.abort();
    await expect(slow).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    server.script({ reply: "still up" });
    expect((await ask("again")).choices[0]?.message.content).toBe("still up");
  });

  it("answers 404 with an OpenAI error body outside /v1/chat/completions", async () => {
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(server.requests[0]).toMatchObject({ method: "GET", path: "/v1/models" });
  });
});

describe("chat-server request checks", () => {
  it("answers 400 when json_object is used without the word json, keeping the step queued", async () => {
    server.script({ reply: "{}" });
    const error = (await ask("hello", { response_format: { type: "json_object" } }).catch((e: unknown) => e)) as APIError;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe("messages");
    const ok = await client.chat.completions.create({
      model: "m",
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: [{ type: "text", text: "Answer in JSON." }] }],
    });
    expect(ok.choices[0]?.message.content).toBe("{}");
  });

  it("rejects a body that breaks CreateChatCompletionRequest and records the errors", async () => {
    server.script({ reply: "valid" });
    await expect(client.post("/chat/completions", { body: { model: "m", messages: "nope" } })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    expect(server.requests[0]?.schemaErrors).toContain("/messages must be array");
    await ask("hi");
    expect(server.requests[1]?.schemaErrors).toEqual([]);
  });

  it("rejects a field the real API does not know, like max_token for max_tokens", async () => {
    const error = (await client.post("/chat/completions", { body: { model: "m", messages: [{ role: "user", content: "hi" }], max_token: 5 } }).catch(
      (e: unknown) => e,
    )) as APIError;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toContain("Unrecognized request argument supplied: max_token");
  });

  it("rejects a body that is not JSON", async () => {
    const response = await fetch(`${server.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{oops" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    expect(server.requests[0]?.body).toBeUndefined();
  });
});

describe("chat-server streaming", () => {
  it("streams valid chunks that reassemble the content, then usage", async () => {
    server.script({ reply: "Grüße, 🌍! {\"a\": 1}" });
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    const finishReasons = [];
    let usage;
    for await (const chunk of stream) {
      expect(validateAgainstOpenApi("CreateChatCompletionStreamResponse", chunk)).toEqual([]);
      if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      if (chunk.choices[0]?.finish_reason) finishReasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe("Grüße, 🌍! {\"a\": 1}");
    expect(finishReasons).toEqual(["stop"]);
    expect(usage).toEqual({ prompt_tokens: 1, completion_tokens: 5, total_tokens: 6 });
  });
});
