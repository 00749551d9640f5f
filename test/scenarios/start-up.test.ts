import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jsonReply, rowOf, startChatServer, type ChatServer } from "../servers/chat-server.js";
import { readCsv, repoRoot, runCli } from "../helpers/run-cli.js";

// What a run loads is part of what it costs (issue 14: a one-row run should start as fast as the
// plainest script). The openai SDK's client is 150 modules; a run whose calls all succeed on the
// fast path needs only its error classes and version, and loads the client at the first failed
// attempt, for its retry rules. A loader hook in the child records every module it loads.

let dir: string;
let hook: string;
let server: ChatServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "start-up-"));
  // Module hooks run on their own thread in Node 20: the hook appends each URL to a file.
  const hooks = path.join(dir, "hooks.mjs");
  writeFileSync(hooks, `import { appendFileSync } from "node:fs";\nexport async function load(url, context, next) { appendFileSync(process.env.LOADED_LOG, url + "\\n"); return next(url, context); }\n`);
  hook = path.join(dir, "register.mjs");
  writeFileSync(hook, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  writeFileSync(path.join(dir, "people.csv"), "id,text\n1,ada\n2,grace\n");
});
beforeEach(async () => {
  server = await startChatServer();
});
afterEach(() => server.close());

/** Runs the CLI on people.csv with the hook; resolves to the exit code and the modules it loaded (paths under node_modules). */
async function loadedBy(name: string): Promise<{ code: number | null; loaded: string[]; out: string }> {
  const log = path.join(dir, `${name}.log`);
  writeFileSync(log, "");
  const out = path.join(dir, `${name}.csv`);
  const args = [path.join(dir, "people.csv"), "--schema", path.join(repoRoot, "test/fixtures/schemas/person.ts"), "-o", out, "-q"];
  const run = await runCli([...args, "--base-url", server.url, "--api-key", "sk-start-up-test", "--max-retries", "2"], {
    env: { NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`, LOADED_LOG: log, EXTRACT_MODEL: "m" },
  });
  const loaded = readFileSync(log, "utf8")
    .split("\n")
    .filter((url) => url.includes("/node_modules/"))
    .map((url) => url.slice(url.lastIndexOf("/node_modules/") + "/node_modules/".length));
  return { code: run.code, loaded, out };
}

const personReply = (request: Parameters<Parameters<ChatServer["handle"]>[0]>[0]) => jsonReply({ name: rowOf(request).text!.toUpperCase(), age: null });

describe("start-up: what a run loads", () => {
  it("never loads the openai client when every call succeeds on the fast path", async () => {
    server.handle(personReply);
    const { code, loaded, out } = await loadedBy("clean");
    expect(code).toBe(0);
    expect(readCsv(out).map((row) => row.name)).toEqual(["ADA", "GRACE"]);
    // The hook saw the run's modules (zod, the SDK's error classes), so its silence about the client means something.
    expect(loaded).toContain("openai/core/error.mjs");
    expect(loaded.some((module) => module.startsWith("zod/"))).toBe(true);
    expect(loaded.filter((module) => module === "openai/client.mjs" || module === "openai/index.mjs")).toEqual([]);
  });

  it("loads it at the first failed attempt, and retries by its rules", async () => {
    server.script({ status: 500, headers: { "retry-after-ms": "0" } });
    server.handle(personReply);
    const { code, loaded, out } = await loadedBy("retried");
    expect(code).toBe(0);
    expect(readCsv(out).every((row) => row._error === "")).toBe(true);
    expect(loaded).toContain("openai/client.mjs");
    expect(server.requests).toHaveLength(3);
  });
});
