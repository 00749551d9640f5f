import OpenAI from "openai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createOpenAIEngine } from "../../src/engine/http/openai.js";
import { ExtractError, extract, extractOne } from "../../src/index.js";
import { jsonReply, startChatServer, type ChatServer } from "../servers/chat-server.js";
import { collect } from "../helpers/collect.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";

// A base URL where nothing listens: the run ends once, naming the URL, instead of failing every
// row after a full round of retries each. A server that answered once and then goes away is an
// outage, and stays a matter of the rows it hits (see also test/faults.test.ts).

const person = z.object({ name: z.string() });

/** A loopback port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let deadURL: string;
beforeEach(async () => {
  deadURL = `http://127.0.0.1:${await closedPort()}/v1`;
});

describe("a base URL where nothing listens", () => {
  it("ends extract() once with CONNECTION_FAILED naming the URL and the cause, marked fatal", async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `person ${i}`);
    const failure = await collect(extract(rows, { schema: person, model: "m", baseURL: deadURL, apiKey: "k", concurrency: 4 })).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ExtractError);
    expect(failure).toMatchObject({ code: "CONNECTION_FAILED", fatal: true });
    const { message } = failure as ExtractError;
    expect(message).toContain(`Could not connect to ${deadURL}`);
    expect(message).toContain("ECONNREFUSED");
    expect(message).toContain("Check `baseURL`");
    expect(message).not.toMatch(/--/);
  });

  it("says so when the port is one fetch never connects to (http://127.0.0.1:1, from the issue), on the SDK path", async () => {
    const blocked = "http://127.0.0.1:1/v1";
    // A client of one's own goes through the SDK, whose fetch refuses the port before connecting.
    const client = new OpenAI({ apiKey: "k", baseURL: blocked });
    const failure = await extractOne("person", { schema: person, model: "m", client }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "CONNECTION_FAILED", fatal: true });
    expect((failure as ExtractError).message).toMatch(/Could not connect to http:\/\/127\.0\.0\.1:1\/v1: fetch never connects to that port/);
    // The fast path has no such rule: it tries the port and says what happened there.
    const direct = await extractOne("person", { schema: person, model: "m", baseURL: blocked, apiKey: "k" }).catch((error: unknown) => error);
    expect(direct).toMatchObject({ code: "CONNECTION_FAILED", fatal: true });
    expect((direct as ExtractError).message).toMatch(/Could not connect to http:\/\/127\.0\.0\.1:1\/v1: connect ECONNREFUSED/);
  });

  it("makes extractOne() throw CONNECTION_FAILED", async () => {
    const failure = await extractOne("person", { schema: person, model: "m", baseURL: deadURL, apiKey: "k" }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "CONNECTION_FAILED", fatal: true });
  });

  it("ends at once, without a retry, when `maxRetries` is 0", async () => {
    const engine = createOpenAIEngine({ model: "m", baseURL: deadURL, apiKey: "k", timeout: 5000, maxRetries: 0, concurrency: 1 });
    const failure = await engine.complete({ messages: [{ role: "user", content: "json" }], maxTokens: 10 }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "CONNECTION_FAILED", fatal: true });
    expect(engine.pacing.requests).toBe(1);
  });

  it("tries the first connection twice, not the full `maxRetries`", async () => {
    const engine = createOpenAIEngine({ model: "m", baseURL: deadURL, apiKey: "k", timeout: 5000, maxRetries: 4, concurrency: 1 });
    const failure = await engine.complete({ messages: [{ role: "user", content: "json" }], maxTokens: 10 }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "CONNECTION_FAILED", fatal: true });
    expect(engine.pacing.requests).toBe(2);
  });

  it("CLI: exits 2 with one CONNECTION_FAILED line naming the URL, and writes no row", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "unreachable-"));
    const input = path.join(dir, "in.csv");
    writeFileSync(input, `id,text\n${Array.from({ length: 40 }, (_, i) => `${i},person ${i}`).join("\n")}\n`);
    const out = path.join(dir, "out.csv");
    const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas"), EXTRACT_MODEL: "test-model" };
    const run = await runCli([input, "--schema", "person", "--base-url", deadURL, "-o", out], { env });

    expect(run.code).toBe(2);
    expect(run.stderr.match(/CONNECTION_FAILED/g)).toHaveLength(1);
    expect(run.stderr).toContain(`Could not connect to ${deadURL}`);
    expect(run.stderr).toContain("ECONNREFUSED");
    // At most the header: no row is written as failed, so nothing suggests that rows were tried.
    const lines = existsSync(out) ? readFileSync(out, "utf8").split("\n").filter(Boolean) : [];
    expect(lines.length).toBeLessThanOrEqual(1);
  });
});

describe("a server that answered once, then goes away", () => {
  let server: ChatServer;
  afterEach(() => server.close().catch(() => undefined));

  it("fails only the call it hits with CONNECTION_FAILED, not marked fatal", async () => {
    server = await startChatServer();
    server.handle(() => jsonReply({ name: "A" }));
    const engine = createOpenAIEngine({ model: "m", baseURL: server.url, apiKey: "k", timeout: 5000, maxRetries: 0, concurrency: 1 });
    const request = { messages: [{ role: "user" as const, content: "json" }], maxTokens: 10 };
    await engine.complete(request);
    await server.close();

    const failure = await engine.complete(request).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "CONNECTION_FAILED" });
    expect((failure as ExtractError).fatal).toBeUndefined();
  });
});
