import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { extract, type ExtractOptions } from "../../src/index.js";
import { jsonReply, startChatServer, type ChatServer } from "../servers/chat-server.js";
import { collect } from "../helpers/collect.js";

const person = z.object({ name: z.string(), age: z.int() });

let server: ChatServer;
beforeEach(async () => {
  server = await startChatServer();
});
afterEach(() => server.close());

function options(extra: Partial<ExtractOptions<typeof person>> = {}): ExtractOptions<typeof person> {
  return { schema: person, model: "test-model", baseURL: server.url, apiKey: "sk-test-01234", maxRetries: 0, ...extra };
}

async function failureMessage(extra: Partial<ExtractOptions<typeof person>>): Promise<string> {
  const [result] = await collect(extract(["Ana"], options(extra)));
  if (!result || result.ok) throw new Error("expected the row to fail");
  return result.error.message;
}

describe("a failed row's message", () => {
  it("ends the zod issue with a period before the advice, which names options in backticks", async () => {
    server.handle(() => jsonReply({ name: "Ana" }));
    const message = await failureMessage({ maxAttempts: 1 });
    expect(message).toBe(
      "The reply did not match the schema: $.age: Invalid input: expected number, received undefined. " +
        "Check the field descriptions and allowed values, or raise `maxAttempts`.",
    );
  });

  it("puts the attempt count inside the sentence", async () => {
    server.handle(() => jsonReply({ name: "Ana" }));
    const message = await failureMessage({ maxAttempts: 2 });
    expect(message).toMatch(/received undefined \(after 2 attempts\)\. Check the field descriptions/);
  });

  it("ends a JSON parse error with a period, and advises `maxAttempts`", async () => {
    server.handle(() => ({ reply: "not json at all" }));
    const message = await failureMessage({ maxAttempts: 1 });
    expect(message).toMatch(/^The reply was not valid JSON: [^\n]*[^.]\. Try a model that follows JSON mode more reliably, or raise `maxAttempts`\.$/);
  });

  it("advises `maxTokens` / `maxTokensCap` for cut-off replies, never a flag", async () => {
    server.handle(() => ({ reply: '{"name": "A', finishReason: "length" }));
    const message = await failureMessage({ maxAttempts: 2, maxTokens: 10, maxTokensCap: 20 });
    expect(message).toBe(
      "The reply was cut off at the output limit of 20 tokens (after 2 attempts). Raise `maxTokens` / `maxTokensCap`, or make the schema's strings shorter.",
    );
    expect(message).not.toMatch(/--/);
  });
});
