import { AzureOpenAI } from "openai";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { ExtractError, extract, extractOne, type ExtractOptions } from "../../../src/index.js";
import { jsonReply, startChatServer, type ChatServer } from "../../servers/chat-server.js";
import { repoRoot, runCli } from "../../helpers/run-cli.js";
import { collect } from "../../helpers/collect.js";

const person = z.object({ name: z.string(), age: z.int().nullable() });
const good = { name: "Ada", age: 36 };
/** Azure keys are 32 hex digits (or 84 base64-like characters): nothing `sk-`-shaped to catch by pattern. */
const HEX_KEY = "0123456789abcdef0123456789abcdef";
const LONG_KEY = "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9nP2qS5tV8wX1zA4cD7fG0iL3oR6uU9xY2aB5dE8gH1jK";

let server: ChatServer;
let origin: string;
beforeEach(async () => {
  server = await startChatServer({ azure: true });
  server.handle(() => jsonReply(good));
  origin = new URL(server.url).origin;
  // The developer's own settings must not leak in: every variable a run reads is set or cleared here.
  for (const name of ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT"]) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv("AZURE_OPENAI_ENDPOINT", origin);
  vi.stubEnv("AZURE_OPENAI_API_KEY", HEX_KEY);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await server.close();
});

function options(extra: Partial<ExtractOptions<typeof person>> = {}): ExtractOptions<typeof person> {
  return { schema: person, model: "gpt-4o-mini", maxRetries: 0, ...extra };
}

describe("Azure OpenAI from AZURE_OPENAI_ENDPOINT", () => {
  it("routes by deployment with the api-version and an api-key header, and returns the data", async () => {
    expect(await extractOne("Ada, 36", options())).toEqual(good);

    const [request] = server.requests;
    expect(request!.path).toBe("/openai/deployments/gpt-4o-mini/chat/completions");
    expect(request!.deployment).toBe("gpt-4o-mini");
    expect(request!.query).toEqual({ "api-version": "2024-10-21" });
    expect(request!.headers["api-key"]).toBe(HEX_KEY);
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.schemaErrors).toEqual([]);
    // Azure's GA API version knows max_tokens, not max_completion_tokens.
    expect(request!.body).toMatchObject({ model: "gpt-4o-mini", max_tokens: 1024, response_format: { type: "json_object" } });
  });

  it("takes the deployment from AZURE_OPENAI_DEPLOYMENT and the version from OPENAI_API_VERSION", async () => {
    vi.stubEnv("AZURE_OPENAI_DEPLOYMENT", "extraction-prod");
    vi.stubEnv("OPENAI_API_VERSION", "2025-04-01-preview");
    vi.stubEnv("AZURE_OPENAI_API_VERSION", "2024-06-01");
    await extractOne("Ada", options());

    expect(server.requests[0]).toMatchObject({ deployment: "extraction-prod", query: { "api-version": "2025-04-01-preview" } });
    expect(server.bodies[0].model).toBe("gpt-4o-mini");
  });

  it("reads AZURE_OPENAI_API_VERSION when OPENAI_API_VERSION is unset", async () => {
    vi.stubEnv("AZURE_OPENAI_API_VERSION", "2024-06-01");
    await extractOne("Ada", options());
    expect(server.requests[0]!.query).toEqual({ "api-version": "2024-06-01" });
  });

  it("wins over OPENAI_BASE_URL, but an explicit baseURL wins over it", async () => {
    vi.stubEnv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1");
    await extractOne("Ada", options());
    expect(server.requests[0]!.deployment).toBe("gpt-4o-mini");

    await extractOne("Ada", options({ baseURL: server.url, apiKey: "sk-explicit-1234" }));
    expect(server.requests[1]).toMatchObject({ path: "/v1/chat/completions", query: {} });
    expect(server.requests[1]!.headers.authorization).toBe("Bearer sk-explicit-1234");
  });

  it("an explicit apiKey wins over AZURE_OPENAI_API_KEY", async () => {
    await extractOne("Ada", options({ apiKey: LONG_KEY }));
    expect(server.requests[0]!.headers["api-key"]).toBe(LONG_KEY);
  });

  it("fails with MISSING_API_KEY naming AZURE_OPENAI_API_KEY when the endpoint is set without a key", async () => {
    vi.stubEnv("AZURE_OPENAI_API_KEY", undefined);
    const error = await extractOne("Ada", options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "MISSING_API_KEY" });
    expect((error as Error).message).toMatch(/AZURE_OPENAI_API_KEY/);
    expect(server.requests).toHaveLength(0);
  });

  it("mentions the Azure variables when nothing at all is configured", async () => {
    vi.stubEnv("AZURE_OPENAI_ENDPOINT", undefined);
    const error = await extractOne("Ada", options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "MISSING_API_KEY" });
    expect((error as Error).message).toMatch(/OPENAI_API_KEY.*AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY/);
  });

  it("an unknown deployment ends the run with MODEL_NOT_FOUND naming it and AZURE_OPENAI_DEPLOYMENT", async () => {
    vi.stubEnv("AZURE_OPENAI_DEPLOYMENT", "typo-deployment");
    server.handle(() => ({ status: 404, error: { code: "DeploymentNotFound", message: "The API deployment for this resource does not exist." } }));
    const error = await extractOne("Ada", options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "MODEL_NOT_FOUND" });
    expect((error as Error).message).toMatch(/No deployment "typo-deployment".*AZURE_OPENAI_DEPLOYMENT/);
  });

  it("keeps a ready AzureOpenAI client's API version and deployment (no OPENAI_API_VERSION needed)", async () => {
    const client = new AzureOpenAI({ endpoint: origin, apiKey: HEX_KEY, apiVersion: "2024-10-21", deployment: "mine" });
    await extractOne("Ada", options({ client }));
    expect(server.requests[0]).toMatchObject({ deployment: "mine", query: { "api-version": "2024-10-21" } });
  });
});

describe("Azure keys never appear in errors", () => {
  it.each([
    ["32 hex digits", HEX_KEY],
    ["84 characters", LONG_KEY],
  ])("a 401 echoing a key of %s ends the run with AUTH_FAILED, redacted, naming the Azure variables", async (_, key) => {
    vi.stubEnv("AZURE_OPENAI_API_KEY", key);
    server.handle(() => ({ status: 401, error: { message: `Access denied due to invalid subscription key ${key}.` } }));
    const error = await collect(extract(["a", "b"], options({ concurrency: 1 }))).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe("AUTH_FAILED");
    expect((error as ExtractError).message).not.toContain(key);
    expect((error as ExtractError).message).toMatch(/\[redacted\].*AZURE_OPENAI_API_KEY/);
  });

  it("a row failing on a server error that echoes the key shows it redacted", async () => {
    vi.stubEnv("AZURE_OPENAI_API_KEY", LONG_KEY);
    server.handle(() => ({ status: 500, error: { message: `upstream said: key=${LONG_KEY}` } }));
    const [result] = await collect(extract(["a"], options()));
    expect(result).toMatchObject({ ok: false, error: { code: "MODEL_ERROR" } });
    expect(result!.error!.message).not.toContain(LONG_KEY);
  });

  it("the CLI never prints it", async () => {
    server.handle(() => ({ status: 401, error: { message: `Access denied for key ${HEX_KEY}.` } }));
    const run = await runCli(["examples/tickets.csv", "--schema", "ticket", "-c", "1"], {
      cwd: repoRoot,
      env: { AZURE_OPENAI_ENDPOINT: origin, AZURE_OPENAI_API_KEY: HEX_KEY },
    });

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/AUTH_FAILED/);
    expect(run.stderr + run.stdout).not.toContain(HEX_KEY);
    expect(server.requests[0]!.path).toMatch(/^\/openai\/deployments\/gpt-4o-mini\/chat\/completions$/);
  });
});

