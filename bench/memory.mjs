/**
 * Peak RSS and throughput of the `extract` CLI over a large CSV, against a local server that
 * answers instantly. Generates the input in a temp folder (never committed).
 *
 *   npm run build && node bench/memory.mjs [rows=1000000] [concurrency=64]
 *
 * Peak RSS comes from /proc/<pid>/status (VmHWM) of the CLI process, read just before it exits.
 */
import { spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const rows = Number(process.argv[2] ?? 1_000_000);
const concurrency = Number(process.argv[3] ?? 64);
const dir = await mkdtemp(path.join(os.tmpdir(), "llm-extract-bench-"));

async function writeInput(file) {
  const out = createWriteStream(file);
  out.write("id,text\n");
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${i},"person ${i}, from ""row"" ${i % 997}"\n`)) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve) => out.end(resolve));
}

function startServer() {
  const child = spawn(process.execPath, [path.join(root, "bench/instant-server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve) => child.stdout.once("data", (data) => resolve({ child, url: String(data).trim() })));
}

/** Runs the CLI, sampling its VmHWM (peak RSS) from /proc while it runs. */
function runCli(args) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(root, "dist/cli.js"), ...args], {
      env: { PATH: process.env.PATH, EXTRACT_SCHEMAS_DIR: path.join(root, "test/fixtures/schemas") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let peakKb = 0;
    const sample = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        // the process is gone
      }
    }, 100);
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => {
      clearInterval(sample);
      resolve({ code, stderr, seconds: (performance.now() - started) / 1000, peakMb: peakKb / 1024 });
    });
  });
}

const input = path.join(dir, "in.csv");
await writeInput(input);
const server = await startServer();
try {
  const run = await runCli([input, "--schema", "person", "--base-url", server.url, "-m", "bench", "-c", String(concurrency), "-o", path.join(dir, "out.csv")]);
  console.log(run.stderr.trim());
  console.log(
    JSON.stringify({ rows, concurrency, exitCode: run.code, seconds: +run.seconds.toFixed(1), rowsPerSecond: Math.round(rows / run.seconds), peakRssMb: Math.round(run.peakMb) }),
  );
} finally {
  server.child.kill();
  await rm(dir, { recursive: true, force: true });
}
