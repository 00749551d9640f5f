/** Shared pieces of the benchmarks: the input file, server processes, measured child processes. */
import { spawn } from "node:child_process";
import { createWriteStream, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
/** The schema every throughput bench uses: two fields, so the pipeline's own cost dominates. */
export const benchSchema = path.join(root, "test/fixtures/schemas/person.ts");

/** The bench input: `id,text` rows with quoted commas and doubled quotes, as real CSVs have. */
export async function writeBenchCsv(file, count) {
  const out = createWriteStream(file);
  out.write("id,text\n");
  for (let i = 0; i < count; i++) {
    if (!out.write(`${i},"person ${i}, from ""row"" ${i % 997}"\n`)) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve) => out.end(resolve));
}

/**
 * Starts a bench server script (bench/instant-server.mjs or bench/sim-server.mjs) as its own
 * process. `stop()` sends SIGTERM and resolves to the stats JSON it prints on the way out.
 */
export function startServer(script, env = {}) {
  const child = spawn(process.execPath, [path.join(root, "bench", script)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    const waitForUrl = () => {
      const newline = output.indexOf("\n");
      if (newline === -1) return void child.stdout.once("data", waitForUrl);
      const url = output.slice(0, newline).trim();
      output = output.slice(newline + 1);
      resolve({
        url,
        stop: () =>
          new Promise((done) => {
            child.once("close", () => done(JSON.parse(output.trim() || "{}")));
            child.kill("SIGTERM");
          }),
      });
    };
    waitForUrl();
  });
}

/**
 * Runs a Node script as a child process with bench/usage-probe.mjs preloaded; resolves to its
 * exit code, wall time, stdout, stderr, and its own CPU time and peak RSS as the kernel counted them.
 */
export function runMeasured(args, { env = {}, dir }) {
  const usageFile = path.join(dir, `usage-${process.hrtime.bigint()}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", path.join(root, "bench/usage-probe.mjs"), ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, BENCH_USAGE_FILE: usageFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      let usage = {};
      try {
        usage = JSON.parse(readFileSync(usageFile, "utf8"));
        rmSync(usageFile);
      } catch {
        // killed before its exit hook ran
      }
      resolve({ code, seconds, stdout, stderr, cpuMs: (usage.userMs ?? 0) + (usage.systemMs ?? 0), maxRssMb: usage.maxRssMb });
    });
  });
}

/** The extract CLI on `input`, measured, with the bench schema. */
export function runExtractCli(input, out, flags, { dir, env = {} }) {
  return runMeasured([path.join(root, "dist/cli/main.js"), input, "--schema", benchSchema, "-m", "bench", "-o", out, "-q", ...flags], { dir, env });
}

/** The baseline program (bench/baseline.mjs) on `input`, measured. */
export function runBaseline(input, out, concurrency, baseURL, { dir }) {
  return runMeasured([path.join(root, "bench/baseline.mjs"), input, out, String(concurrency), baseURL], { dir });
}

/** Rows of an llm-extract output (CSV or JSONL) that succeeded, and the tokens they billed. */
export function readOutput(file) {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".jsonl")) {
    const rows = text.trimEnd().split("\n").map((line) => JSON.parse(line));
    const tokens = rows.reduce((sum, row) => sum + row.usage.prompt_tokens + row.usage.completion_tokens, 0);
    return { rows: rows.length, ok: rows.filter((row) => row.error === null).length, tokens };
  }
  const rows = parse(text, { columns: true });
  return { rows: rows.length, ok: rows.filter((row) => row._error === "").length };
}

/** What bench/baseline.mjs reports on stderr: rows, ok, usage. */
export function baselineReport(run) {
  return JSON.parse(run.stderr.trim().split("\n").at(-1));
}
