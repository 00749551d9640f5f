import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsonReply, rowOf, startChatServer, type ChatServer, type RecordedRequest } from "../servers/chat-server.js";
import { readCsv, repoRoot, runCli } from "../helpers/run-cli.js";

// --resume after raising a budget, through the CLI: budgets are not part of the row key, so
// finished rows are never paid for again, and rows a budget failed are tried again once it is raised.

const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas"), EXTRACT_MODEL: "test-model" };
let server: ChatServer;
let dir: string;
let input: string;
let out: string;

beforeEach(async () => {
  server = await startChatServer();
  server.handle(personReply);
  dir = await mkdtemp(path.join(os.tmpdir(), "resume-budgets-"));
  input = path.join(dir, "in.csv");
  writeFileSync(input, `id,text\n${Array.from({ length: 30 }, (_, i) => `${i},person ${i}`).join("\n")}\n`);
  out = path.join(dir, "out.csv");
});
afterEach(() => server.close());

function personReply(request: RecordedRequest) {
  const row = rowOf(request);
  return jsonReply({ name: String(row.text).toUpperCase(), age: Number(row.id) });
}

const run = (...flags: string[]) => runCli([input, "--schema", "person", "--base-url", server.url, "-o", out, "-c", "4", ...flags], { env });
const journalLines = () => readFileSync(`${out}.journal`, "utf8").split("\n").filter(Boolean).length;
const sentIds = () => server.requests.map((request) => rowOf(request).id);

describe("--resume after a budget changed", () => {
  it("sends nothing, adds no journal line and writes the same output, whichever budget was raised", async () => {
    const first = await run();
    expect(first.code).toBe(0);
    expect(server.requests).toHaveLength(30);
    const output = readFileSync(out);
    const lines = journalLines();

    for (const flags of [
      ["--max-attempts", "5"],
      ["--max-tokens", "2048"],
      ["--max-tokens-cap", "16384"],
      ["--timeout", "60s"],
      ["--max-retries", "1"],
    ]) {
      server.reset();
      const resumed = await run("--resume", ...flags);
      expect(resumed.code, flags.join(" ")).toBe(0);
      expect(server.requests, flags.join(" ")).toHaveLength(0);
      expect(journalLines(), flags.join(" ")).toBe(lines);
      expect(readFileSync(out).equals(output), flags.join(" ")).toBe(true);
      expect(resumed.stderr).toContain(`Resuming from ${out}.journal: 30 of its 30 rows can be reused`);
    }
  }, 60_000); // six CLI runs

  it("tries again a SCHEMA_MISMATCH row once --max-attempts is raised, and not before", async () => {
    let callsForRow5 = 0;
    server.handle((request) => {
      // Row 5 answers with the wrong shape the first time it is asked, and right afterwards.
      if (rowOf(request).id === "5" && callsForRow5++ === 0) return jsonReply({ nombre: "x" });
      return personReply(request);
    });
    const first = await run("--max-attempts", "1");
    expect(first.code).toBe(1);
    expect(readCsv(out)[5]!._error).toMatch(/^SCHEMA_MISMATCH/);

    server.reset();
    const plain = await run("--resume", "--max-attempts", "1");
    expect(plain.code).toBe(1);
    expect(server.requests).toHaveLength(0);
    expect(plain.stderr).toContain("29 of its 30 rows can be reused");
    expect(plain.stderr).toContain("1 failed row is tried again if the failure may pass");

    server.reset();
    const raised = await run("--resume", "--max-attempts", "3");
    expect(raised.code).toBe(0);
    expect(sentIds()).toEqual(["5"]);
    expect(readCsv(out)[5]).toMatchObject({ name: "PERSON 5", _error: "" });
  });

  it("tries again an OUTPUT_TRUNCATED row once --max-tokens-cap is raised, and not before", async () => {
    server.handle((request) => {
      // Row 7 needs 300 output tokens; every other row fits in 100.
      if (rowOf(request).id === "7" && request.body.max_tokens < 300) return { reply: '{"name": "PER', finishReason: "length" };
      return personReply(request);
    });
    const first = await run("--max-tokens", "100", "--max-tokens-cap", "100");
    expect(first.code).toBe(1);
    expect(readCsv(out)[7]!._error).toMatch(/^OUTPUT_TRUNCATED/);

    server.reset();
    await run("--resume", "--max-tokens", "100", "--max-tokens-cap", "100");
    expect(server.requests).toHaveLength(0);

    server.reset();
    const raised = await run("--resume", "--max-tokens", "100", "--max-tokens-cap", "400");
    expect(raised.code).toBe(0);
    expect(server.bodies.map((body) => body.max_tokens)).toEqual([100, 200, 400]);
    expect(sentIds()).toEqual(["7", "7", "7"]);
    expect(readCsv(out)[7]).toMatchObject({ name: "PERSON 7", _error: "" });
  });

  it("says when no row of the journal can be reused, because the model changed", async () => {
    await run();
    server.reset();
    const resumed = await run("--resume", "--model", "another-model");
    expect(server.requests).toHaveLength(30);
    expect(resumed.stderr).toContain("0 of its 30 rows can be reused. 30 were done with another schema, prompt, examples, model, mode or temperature");
  });
});
