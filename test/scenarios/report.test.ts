import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsonReply, rowOf, startChatServer, type ChatServer } from "../servers/chat-server.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";
import { writeReportOutput } from "../helpers/report-output.js";

const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas"), EXTRACT_MODEL: "gpt-4o-mini" };
let server: ChatServer;
let dir: string;

beforeEach(async () => {
  server = await startChatServer();
  server.handle((request) => jsonReply({ name: rowOf(request).text ?? "", age: null }));
  dir = await mkdtemp(path.join(os.tmpdir(), "report-cli-"));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function input(): string {
  const file = path.join(dir, "in.csv");
  writeFileSync(file, "id,text\n1,Ana\n2,Bo\n");
  return file;
}

describe("extract --report", () => {
  it("writes the report after the run, with the run's totals", async () => {
    const report = path.join(dir, "report.html");
    const run = await runCli([input(), "--schema", "person", "--base-url", server.url, "-o", path.join(dir, "out.jsonl"), "--report", report], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`Report: ${report}`);
    const html = readFileSync(report, "utf8");
    expect(html).toMatch(/id="tile-rows".*>2</);
    expect(html).toMatch(/id="tile-requests".*>2<.*for 2 model calls/);
    expect(html).toContain("gpt-4o-mini");
  });

  it("needs -o FILE, and says so before any call", async () => {
    const run = await runCli([input(), "--schema", "person", "--base-url", server.url, "--report", path.join(dir, "r.html")], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--report needs -o FILE");
    expect(server.requests).toHaveLength(0);
  });
});

describe("extract report", () => {
  it("writes the report of an output file", async () => {
    const report = path.join(dir, "report.html");
    const run = await runCli(["report", writeReportOutput(dir), "-o", report, "--max-rows", "3"], { env });
    expect(run).toMatchObject({ code: 0, stdout: "" });
    expect(readFileSync(report, "utf8")).toContain("holds the first 3 of 5 rows");
  });

  it("asks for --schema on a CSV output, naming the flag", async () => {
    const csv = path.join(dir, "out.csv");
    writeFileSync(csv, "id,text,name,age,_error\n1,Ana,Ana,,\n");
    const run = await runCli(["report", csv, "-o", path.join(dir, "r.html")], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("INVALID_OPTION");
    expect(run.stderr).toContain("name its --schema");
    expect(existsSync(path.join(dir, "r.html"))).toBe(false);
    const withSchema = await runCli(["report", csv, "--schema", "person", "-o", path.join(dir, "r.html")], { env });
    expect(withSchema.code).toBe(0);
  });

  it("prints its own usage, and refuses a missing -o", async () => {
    expect((await runCli(["report", "--help"])).stdout).toContain("Usage: extract report <output.jsonl|output.csv> -o report.html");
    const run = await runCli(["report", "x.jsonl"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Missing -o");
  });
});
