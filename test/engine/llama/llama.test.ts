/**
 * The embedded engine (node-llama-cpp) with a real GGUF model: ../shared/models/llama-2-tiny-random.gguf,
 * a 1.7 MB llama with random weights. Its words are gibberish, but every reply is decoded under
 * the schema's grammar, so it is JSON of the schema's shape; strings and arrays in the test
 * schemas have maximum lengths so that a random model ends them.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { toGrammarSchema } from "../../../src/schema/grammar-schema.js";
import { createLlamaEngine, MAX_SEQUENCES } from "../../../src/engine/llama/llama.js";
import { ExtractError, extract, extractOne, loadSchema, toPromptJsonSchema, buildMessages, buildSystemPrompt } from "../../../src/index.js";
import { repoRoot, runCli } from "../../helpers/run-cli.js";
import { collect } from "../../helpers/collect.js";

const modelFile = path.resolve(process.env.EXTRACT_TEST_GGUF ?? path.join(repoRoot, "../shared/models/llama-2-tiny-random.gguf"));
const haveModel = existsSync(modelFile);
if (!haveModel) {
  console.warn(`Skipping the embedded engine tests that run a model: no GGUF file at ${modelFile} (set EXTRACT_TEST_GGUF to one).`);
}
const model = `local:${modelFile}`;
const fixtures = path.join(repoRoot, "test/fixtures/schemas");

/** Small enough that the random model writes a whole reply in a few dozen tokens. */
const person = z.object({ name: z.string().max(8), age: z.int().nullable() });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "llama-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));


describe.skipIf(!haveModel)("embedded engine: replies of the schema's shape", () => {
  it.each(["ticket", "invoice", "job"])("gives a schema-valid %s through extract(), with token usage", async (name) => {
    const file = path.join(fixtures, `bounded-${name}.ts`);
    const [result] = await collect(extract([{ text: `An example ${name}: see attached.` }], { schema: file, model, concurrency: 1 }));

    expect(result!.error).toBeUndefined();
    expect(result!.ok).toBe(true);
    const { schema } = await loadSchema(file);
    expect(schema.safeParse(result!.data).success).toBe(true);
    expect(result!.attempts).toBe(1);
    expect(result!.usage.prompt_tokens).toBeGreaterThan(100); // the system message carries the schema
    expect(result!.usage.completion_tokens).toBeGreaterThan(10);
  }, 60_000);

  it("gets the few-shot examples as earlier turns of the chat: they add to the prompt the model reads", async () => {
    const examples = [
      { input: { text: "Bo Lind, forty-one" }, output: { name: "Bo Lind", age: 41 } },
      { input: { text: "someone, age unknown" }, output: { name: "someone", age: null } },
    ];
    const [plain] = await collect(extract([{ text: "Ana, 34" }], { schema: person, model, examples: false, concurrency: 1 }));
    const [shown] = await collect(extract([{ text: "Ana, 34" }], { schema: person, model, examples, concurrency: 1 }));

    expect(plain!.ok && shown!.ok).toBe(true);
    // Four more turns, each with its text and the chat template's framing around it.
    expect(shown!.usage.prompt_tokens - plain!.usage.prompt_tokens).toBeGreaterThan(4 * 8);
  }, 60_000);

  it("returns typed data from extractOne()", async () => {
    const data = await extractOne("Ana, 34", { schema: person, model });
    expect(person.parse(data)).toEqual(data);
  }, 60_000);

  it("reports finish reason length at a tiny output budget and fails OUTPUT_TRUNCATED once the cap is reached", async () => {
    const [result] = await collect(extract(["Ana, 34"], { schema: person, model, maxTokens: 2, maxTokensCap: 4, maxAttempts: 2 }));

    expect(result!.ok).toBe(false);
    expect(result!.error!.code).toBe("OUTPUT_TRUNCATED");
    expect(result!.error!.message).toContain("output limit of 4 tokens");
    expect(result!.attempts).toBe(2);
    expect(result!.usage.completion_tokens).toBe(2 + 4); // each attempt generated its whole budget
    expect(result!.usage.prompt_tokens).toBeGreaterThan(0);
  }, 60_000);

  it("succeeds once the doubled output budget fits the reply", async () => {
    const [result] = await collect(extract(["Ana, 34"], { schema: person, model, maxTokens: 2, maxTokensCap: 256, maxAttempts: 10 }));

    expect(result!.error).toBeUndefined();
    expect(person.safeParse(result!.data).success).toBe(true);
    expect(result!.attempts).toBeGreaterThan(1);
    expect(result!.attempts).toBeLessThanOrEqual(8); // 2, 4, ... 256
  }, 60_000);

  it("maps concurrency to context sequences (capped) and answers requests in parallel", async () => {
    const jsonSchema = toPromptJsonSchema(person);
    const engine = await createLlamaEngine({ model, jsonSchema, concurrency: 64 });
    try {
      expect(engine.sequences).toBe(MAX_SEQUENCES);
      expect(engine.model).toBe(model);
      const system = buildSystemPrompt(jsonSchema);
      const replies = await Promise.all(
        Array.from({ length: MAX_SEQUENCES + 1 }, (_, i) => engine.complete({ messages: buildMessages(system, { text: `person ${i}` }), maxTokens: 256 })),
      );
      for (const reply of replies) {
        expect(reply.finishReason).toBe("stop");
        expect(person.safeParse(JSON.parse(reply.content!)).success).toBe(true);
        expect(reply.usage.prompt_tokens).toBeGreaterThan(0);
        expect(reply.usage.completion_tokens).toBeGreaterThan(0);
      }
    } finally {
      await engine.close();
    }
  }, 60_000);

  it("yields every row, in order, with concurrency above one", async () => {
    const rows = Array.from({ length: 4 }, (_, i) => `person ${i}`);
    const results = await collect(extract(rows, { schema: person, model, concurrency: 3 }));

    expect(results.map((result) => result.index)).toEqual([0, 1, 2, 3]);
    expect(results.map((result) => result.row)).toEqual(rows);
    for (const result of results) expect(result.ok).toBe(true);
  }, 60_000);

  it("decodes without the grammar when grammar is false: the random model's reply is then no JSON", async () => {
    const jsonSchema = toPromptJsonSchema(person);
    const engine = await createLlamaEngine({ model, jsonSchema, concurrency: 1, grammar: false });
    try {
      const reply = await engine.complete({ messages: buildMessages(buildSystemPrompt(jsonSchema), { text: "Ana, 34" }), maxTokens: 32, temperature: 0 });
      expect(reply.content).not.toBe("");
      expect(() => JSON.parse(reply.content!)).toThrow();
      expect(reply.usage.completion_tokens).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  }, 60_000);

  it("fails a row whose prompt does not fit the context window with INPUT_TOO_LARGE", async () => {
    const engine = await createLlamaEngine({ model, jsonSchema: toPromptJsonSchema(person), concurrency: 1 });
    try {
      const huge = "lorem ipsum ".repeat(engine.contextSize);
      await expect(engine.complete({ messages: [{ role: "user", content: huge }], maxTokens: 16 })).rejects.toMatchObject({ code: "INPUT_TOO_LARGE" });
    } finally {
      await engine.close();
    }
  }, 60_000);
});

describe.skipIf(!haveModel)("embedded engine: the CLI", () => {
  it("runs an example CSV end to end with --model local:", async () => {
    // The first rows of examples/tickets.csv, as they are: under a grammar, the tiny model writes
    // about one token per 10 ms on 2 cores, so the whole file would take most of a minute.
    const source = readFileSync(path.join(repoRoot, "examples/tickets.csv"), "utf8");
    const records = parse(source, { columns: true }) as Record<string, string>[];
    const headerAndRows = parse(source, { to: 3, raw: true }) as unknown as { raw: string }[];
    const input = path.join(dir, "tickets.csv");
    writeFileSync(input, headerAndRows.map((row) => row.raw).join(""));
    const out = path.join(dir, "tickets.out.jsonl");

    const run = await runCli([input, "--schema", path.join(fixtures, "bounded-ticket.ts"), "--model", `local:${path.relative(repoRoot, modelFile)}`, "-o", out, "-c", "2"]);

    expect(run.stderr).toContain("2 rows: 2 ok, 0 failed");
    expect(run.code).toBe(0);
    const { schema } = await loadSchema(path.join(fixtures, "bounded-ticket.ts"));
    const lines = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line) => line.index)).toEqual([0, 1]);
    expect(lines.map((line) => line.input)).toEqual(records.slice(0, 2));
    for (const line of lines) {
      expect(line.error).toBeNull();
      expect(schema.safeParse(line.data).success).toBe(true);
      expect(line.usage.completion_tokens).toBeGreaterThan(0);
    }
  }, 90_000);

  it("downloads an hf: model once into the cache, then runs from the cache without the network", async () => {
    const home = path.join(dir, "home");
    mkdirSync(home);
    const host = await serveModelFile();
    const input = path.join(dir, "people.csv");
    writeFileSync(input, "text\nAna 34\n");
    const args = [input, "--schema", path.join(fixtures, "bounded-person.ts"), "--model", "hf:tester/tiny-random-GGUF/llama-2-tiny-random.gguf", "-f", "jsonl"];

    const first = await runCli(args, { env: { HOME: home, HF_ENDPOINT: host.url } });
    expect(first.stderr).toContain("1 ok");
    expect(first.code).toBe(0);
    expect(host.downloads()).toBeGreaterThan(0);
    // node-llama-cpp's own cache, shared with its CLI (`npx node-llama-cpp pull`).
    const cached = readdirSync(path.join(home, ".node-llama-cpp/models"));
    expect(cached).toEqual([expect.stringMatching(/^hf_tester_.*llama-2-tiny-random\.gguf$/)]);
    await host.close();

    const again = await runCli(args, { env: { HOME: home, HF_ENDPOINT: host.url } });
    expect(again.stderr).toContain("1 ok");
    expect(again.code).toBe(0);
  }, 90_000);
});

describe("embedded engine: configuration errors", () => {
  it("names the path, as given and resolved, of a missing model file", async () => {
    const run = runCli(["examples/tickets.csv", "--schema", "ticket", "--model", "local:./models/nope.gguf"]);
    const { code, stderr } = await run;
    expect(stderr).toContain("MODEL_NOT_FOUND");
    expect(stderr).toContain("./models/nope.gguf");
    expect(stderr).toContain(path.join(repoRoot, "models/nope.gguf"));
    expect(code).toBe(2);
  });

  it("says at once that an uncached hf: model cannot be downloaded without the network", async () => {
    const home = path.join(dir, "offline-home");
    mkdirSync(home);
    // "At once" is the test's timeout, a guard against a hang, not an assertion on time (a
    // loaded machine must not fail it): a retrying download would run far past it.
    const run = await runCli(["examples/tickets.csv", "--schema", "ticket", "--model", "hf:tester/absent-GGUF/absent.gguf"], {
      env: { HOME: home, HF_ENDPOINT: await closedPortUrl() },
    });
    expect(run.stderr).toContain("CONNECTION_FAILED");
    expect(run.stderr).toContain("hf:tester/absent-GGUF/absent.gguf is not in the model cache");
    expect(run.code).toBe(2);
  }, 60_000);

  it("without node-llama-cpp installed: ENGINE_UNAVAILABLE with the install command, and HTTP runs unaffected", async () => {
    const install = httpOnlyInstall();
    const cli = path.join(install, "dist/cli/main.js");
    // Any existing file passes the path check; the missing package is what fails.
    const local = await runCliAt(cli, ["examples/tickets.csv", "--schema", "ticket", "--model", "local:package.json"]);
    expect(local.stderr).toContain("ENGINE_UNAVAILABLE: node-llama-cpp is not installed: npm install node-llama-cpp");
    expect(local.code).toBe(2);

    const http = await runCliAt(cli, ["examples/tickets.csv", "--schema", "ticket", "--dry-run"]);
    expect(http.stderr).toBe("");
    expect(http.code).toBe(0);
  });

  it("builds a decoding grammar for every shipped schema", async () => {
    const { getLlama } = await import("node-llama-cpp");
    const llama = await getLlama({ build: "never" });
    for (const name of ["ticket", "invoice", "job"]) {
      const { schema } = await loadSchema(name, { schemasDir: path.join(repoRoot, "schemas") });
      const grammar = await llama.createGrammarForJsonSchema(toGrammarSchema(toPromptJsonSchema(schema)) as never);
      const field = Object.keys(schema.shape).at(-1)!;
      expect(grammar.grammar).toContain(field);
    }
  });

  it("throws the missing model file from extract() as an ExtractError", async () => {
    const error = await collect(extract(["x"], { schema: person, model: "local:/nonexistent/model.gguf" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: "MODEL_NOT_FOUND", file: "/nonexistent/model.gguf" });
  });
});

/**
 * A copy of the package as an HTTP-only user installs it: dist/ and package.json, and every
 * dependency but node-llama-cpp (linked from this checkout's node_modules).
 */
function httpOnlyInstall(): string {
  const root = path.join(dir, "http-only");
  mkdirSync(path.join(root, "node_modules"), { recursive: true });
  cpSync(path.join(repoRoot, "dist"), path.join(root, "dist"), { recursive: true });
  copyFileSync(path.join(repoRoot, "package.json"), path.join(root, "package.json"));
  for (const name of readdirSync(path.join(repoRoot, "node_modules"))) {
    if (name === "node-llama-cpp" || name === "@node-llama-cpp" || name === ".bin") continue;
    symlinkSync(path.join(repoRoot, "node_modules", name), path.join(root, "node_modules", name));
  }
  return root;
}

/** runCli with another copy of the CLI; the working directory stays the repository (examples/, schemas/). */
function runCliAt(cli: string, args: string[]) {
  return runCli(args, { cli });
}

/** A loopback stand-in for Hugging Face that serves the test model at every `.gguf` path. */
async function serveModelFile(): Promise<{ url: string; downloads: () => number; close: () => Promise<void> }> {
  const body = readFileSync(modelFile);
  let downloads = 0;
  const server = http.createServer((request, response) => {
    if (!new URL(request.url ?? "/", "http://localhost").pathname.endsWith(".gguf")) {
      response.writeHead(404).end();
      return;
    }
    downloads++;
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length, "accept-ranges": "bytes" });
    response.end(request.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    downloads: () => downloads,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The URL of a loopback port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/`;
}
