import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startChatServer, type ChatServer } from "../servers/chat-server.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";
import { createSimulatedApi, minimumRequests, type SimulatedApiOptions, type SimulatedApiStats } from "../servers/simulated-api.js";

// The fault-injection suite: thousands of rows through the real CLI against a loopback server
// that fails in seeded, reproducible ways and enforces rate limits the way OpenAI does. Every
// assertion is about what came out (no row lost or doubled, every row ok, requests near the
// floor the faults impose); throughput is printed for the record, never asserted.

const fixtures = path.join(repoRoot, "test/fixtures/schemas");
const env = { EXTRACT_SCHEMAS_DIR: fixtures, EXTRACT_MODEL: "gpt-4o-mini" };
let server: ChatServer;
let dir: string;

beforeEach(async () => {
  // Request bodies are validated against OpenAPI in the other suites; here that would only
  // spend the CPU the CLI needs.
  server = await startChatServer({ validateRequests: false });
  dir = await mkdtemp(path.join(os.tmpdir(), "faults-"));
});
afterEach(() => server.close());

/** The person fixture's correct answer for a row, derived from it so the output can be checked. */
const personOf = (row: Record<string, unknown>) => ({ name: String(row.text).toUpperCase(), age: Number(row.id) });

/** Runs `rows` rows through the CLI against a simulated API; returns what the server saw and the output rows. */
async function runAgainst(api: Omit<SimulatedApiOptions, "reply">, rows: number, flags: string[]) {
  const simulated = createSimulatedApi({ ...api, reply: personOf });
  server.handle(simulated.handler);
  const input = path.join(dir, "in.csv");
  writeFileSync(input, `id,text\n${Array.from({ length: rows }, (_, i) => `${i},person ${i}`).join("\n")}\n`);
  const out = path.join(dir, "out.csv");
  const run = await runCli([input, "--schema", "person", "--base-url", server.url, "-o", out, ...flags], { env });
  const output: Record<string, string>[] = parse(readFileSync(out), { columns: true });
  return { run, output, stats: simulated.stats };
}

function expectEveryRowOnceAndOk(output: Record<string, string>[], rows: number, stats: SimulatedApiStats) {
  expect(output.map((row) => row.id)).toEqual(Array.from({ length: rows }, (_, i) => String(i)));
  const failed = output.filter((row) => row._error !== "");
  expect(failed.map((row) => `${row.id}: ${row._error}`)).toEqual([]);
  for (const row of output) expect(row).toMatchObject({ name: `PERSON ${row.id}`, age: row.id });
  // Each row was answered correctly exactly once: nothing processed twice.
  expect(stats.servedPerRow.size).toBe(rows);
  expect([...stats.servedPerRow.values()].every((count) => count === 1)).toBe(true);
}

/** One line for the test log: what the server saw, and the admitted request rate as a share of the limit. */
function report(label: string, rows: number, stats: SimulatedApiStats, limitPerSecond: number) {
  const seconds = ((stats.lastAnswerAt ?? 0) - (stats.firstRequestAt ?? 0)) / 1000;
  const share = (100 * stats.admitted.requests) / seconds / limitPerSecond;
  console.info(
    `[faults] ${label}: ${rows} rows, ${stats.requests} requests (floor ${minimumRequests(stats, rows)}), ` +
      `${stats.rateLimited} enforced 429s, injected ${JSON.stringify(stats.injected)}, ` +
      `${(rows / seconds).toFixed(0)} rows/s, admitted requests at ${share.toFixed(1)}% of the limit`,
  );
}

describe("fault injection through the CLI", () => {
  it("survives 429s, 500s, drops, timeouts, bad JSON, wrong shapes and cut-off replies under an RPM limit: every row ok, once", async () => {
    const rows = 1500;
    const rpm = 9000;
    const faults = { rateLimit: 0.03, serverError: 0.03, drop: 0.02, slow: 0.005, invalidJson: 0.03, wrongShape: 0.03, truncated: 0.02 };
    const { run, output, stats } = await runAgainst(
      {
        seed: 42,
        faults,
        // Far past --timeout: the client must give up on it and try again.
        slowMs: 60_000,
        limits: { rpm },
      },
      rows,
      ["-c", "32", "--timeout", "2s", "--max-tokens", "100", "-q"],
    );
    report(`faults + rpm ${rpm}`, rows, stats, rpm / 60);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expectEveryRowOnceAndOk(output, rows, stats);
    expect(Object.keys(faults).filter((kind) => stats.injected[kind as keyof typeof faults] === 0)).toEqual([]);
    expect(stats.rateLimited / stats.requests).toBeLessThan(0.02);
    // Every fault costs one more request, each enforced 429 one more, and nothing else does (a
    // loaded machine may turn an answer that is merely slow into a timeout: a little slack for that).
    const floor = minimumRequests(stats, rows) + stats.rateLimited;
    expect(stats.requests).toBeGreaterThanOrEqual(floor);
    expect(stats.requests).toBeLessThanOrEqual(floor + 10);
  }, 60_000);

  it("reports rows whose faults outlast the budget with _error, and still loses none", async () => {
    const rows = 300;
    // Up to 3 bad replies per row but only 2 attempts: some rows must fail.
    const { run, output, stats } = await runAgainst(
      { seed: 7, faults: { invalidJson: 0.3, serverError: 0.1 }, maxModelFaultsPerRow: 3 },
      rows,
      ["-c", "16", "--max-attempts", "2", "-q"],
    );
    expect(run.code).toBe(1);
    expect(output.map((row) => row.id)).toEqual(Array.from({ length: rows }, (_, i) => String(i)));
    const failed = output.filter((row) => row._error !== "");
    expect(failed.length).toBeGreaterThan(0);
    // The bad replies are prose: local repair cannot make an object of them, so the row is asked again.
    for (const row of failed) expect(row._error).toMatch(/^INVALID_JSON: .*after 2 attempts/);
    for (const row of output.filter((row) => row._error === "")) expect(row.name).toBe(`PERSON ${row.id}`);
    expect([...stats.servedPerRow.values()].every((count) => count === 1)).toBe(true);
  });
});

describe("loose values under faults", () => {
  it("costs no re-ask with coercion, and one per loose reply with --no-coerce: the same seeded run side by side", async () => {
    const rows = 600;
    const api = { seed: 15, faults: { serverError: 0.03, invalidJson: 0.03, wrongShape: 0.03, truncated: 0.02, looseValues: 0.1 } };
    const flags = ["-c", "32", "--max-tokens", "100", "-q"];
    const coerced = await runAgainst(api, rows, flags);
    server.reset();
    const strict = await runAgainst(api, rows, [...flags, "--no-coerce"]);
    for (const [label, { run, output, stats }] of [["coerce", coerced], ["--no-coerce", strict]] as const) {
      console.info(`[faults] ${label}: ${rows} rows, ${stats.requests} requests, ${(stats.requests / rows).toFixed(3)} requests/row, injected ${JSON.stringify(stats.injected)}`);
      expect(run.code).toBe(0);
      expect(stats.injected.looseValues).toBeGreaterThan(0);
      if (label === "--no-coerce") expectEveryRowOnceAndOk(output, rows, stats);
    }
    // With coercion every row is right too ("41 USD" read as 41), and rows whose loose reply was
    // read back were never served a strict one: no row was done twice, some not even once.
    expect(coerced.output.map((row) => row.id)).toEqual(Array.from({ length: rows }, (_, i) => String(i)));
    for (const row of coerced.output) expect(row).toMatchObject({ name: `PERSON ${row.id}`, age: row.id, _error: "" });
    expect([...coerced.stats.servedPerRow.values()].every((count) => count === 1)).toBe(true);
    expect(coerced.stats.servedPerRow.size).toBeLessThan(rows);
    // Each fault costs one more request, except a loose reply read by coercion (no timing-dependent faults here).
    expect(coerced.stats.requests).toBe(minimumRequests(coerced.stats, rows));
    expect(strict.stats.requests).toBe(minimumRequests(strict.stats, rows, { coerce: false }));
    expect(coerced.stats.requests).toBeLessThan(strict.stats.requests);
  }, 60_000);
});

describe("a server that goes away", () => {
  it("for two seconds mid-run: the rows in flight and those sent meanwhile are retried; every row ok, once", async () => {
    const rows = 400;
    const simulated = createSimulatedApi({ reply: personOf });
    const port = Number(new URL(server.url).port);
    let outage: Promise<void> | undefined;
    const serve: Parameters<ChatServer["handle"]>[0] = (request, index) => {
      if (simulated.stats.requests === 150 && !outage) {
        // Down: every open connection is cut and new ones are refused, until it comes back.
        outage = server.close().then(async () => {
          await new Promise((resolve) => setTimeout(resolve, 2000));
          server = await startChatServer({ validateRequests: false, port });
          server.handle(serve);
        });
      }
      return simulated.handler(request, index);
    };
    server.handle(serve);
    const input = path.join(dir, "in.csv");
    writeFileSync(input, `id,text\n${Array.from({ length: rows }, (_, i) => `${i},person ${i}`).join("\n")}\n`);
    const out = path.join(dir, "out.csv");
    const run = await runCli([input, "--schema", "person", "--base-url", server.url, "-o", out, "-c", "16", "-q"], { env });
    await outage;
    expect(run.code).toBe(0);
    const output: Record<string, string>[] = parse(readFileSync(out), { columns: true });
    expect(output.map((row) => row.id)).toEqual(Array.from({ length: rows }, (_, i) => String(i)));
    for (const row of output) expect(row).toMatchObject({ name: `PERSON ${row.id}`, age: row.id, _error: "" });
    // Answers cut off by the outage were computed but never received: those rows were asked again.
    expect(simulated.stats.servedPerRow.size).toBe(rows);
    expect(simulated.stats.requests).toBeGreaterThan(rows);
  }, 30_000);
});

describe("rate limits enforced like OpenAI's", () => {
  it.each([
    // 100 requests a second, learned from the x-ratelimit-* headers.
    { label: "a requests-per-minute limit", rows: 600, limits: { rpm: 6000 } },
    // About 100 requests a second at ~260 tokens each (system prompt, row, 100 for the output).
    { label: "a tokens-per-minute limit", rows: 400, limits: { tpm: 1_600_000, rpm: 100_000 } },
  ])("stays under $label it learns from the headers: every row ok, under 2% 429s", async ({ label, rows, limits }) => {
    const { run, output, stats } = await runAgainst({ limits }, rows, ["-c", "64", "--max-tokens", "100", "-q"]);
    const tokensPerRequest = stats.admitted.tokens / stats.admitted.requests;
    report(label, rows, stats, Math.min(limits.rpm / 60, (limits.tpm ?? Infinity) / 60 / tokensPerRequest));
    expect(run.code).toBe(0);
    expectEveryRowOnceAndOk(output, rows, stats);
    expect(stats.rateLimited / stats.requests).toBeLessThan(0.02);
  });

  it("holds to --rpm on a server that enforces a limit without announcing it", async () => {
    const rows = 300;
    const rpm = 6000;
    const simulated = createSimulatedApi({ limits: { rpm }, reply: personOf });
    // The same server with its x-ratelimit-* headers removed: only 429s and the user's cap are left.
    server.handle(async (request, index) => {
      const step = await simulated.handler(request, index);
      if ("headers" in step && step.headers) {
        step.headers = Object.fromEntries(Object.entries(step.headers).filter(([name]) => !name.startsWith("x-ratelimit-")));
      }
      return step;
    });
    const input = path.join(dir, "in.csv");
    writeFileSync(input, `id,text\n${Array.from({ length: rows }, (_, i) => `${i},person ${i}`).join("\n")}\n`);
    const out = path.join(dir, "out.csv");
    const run = await runCli([input, "--schema", "person", "--base-url", server.url, "-o", out, "-c", "64", "--rpm", String(rpm), "-q"], { env });
    report(`--rpm ${rpm}, no headers`, rows, simulated.stats, rpm / 60);
    expect(run.code).toBe(0);
    expectEveryRowOnceAndOk(parse(readFileSync(out), { columns: true }), rows, simulated.stats);
    expect(simulated.stats.rateLimited / simulated.stats.requests).toBeLessThan(0.02);
  });
});
