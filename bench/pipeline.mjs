/**
 * The pipeline's own CPU cost per row, without HTTP: extractCsv (CSV in, prompt building,
 * validation, journal, CSV out) in this process, with an engine that answers at once from
 * memory. Prints one JSON line: rows, seconds, CPU microseconds per row.
 *
 *   npm run build && node bench/pipeline.mjs [rows=20000] [concurrency=64]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/pipeline.mjs   # to see where the time goes
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { extractCsv } from "../dist/index.js";
import { benchSchema, writeBenchCsv } from "./lib.mjs";

const rows = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 64);
const dir = await mkdtemp(path.join(os.tmpdir(), "llm-extract-pipeline-"));

/** Answers like the bench servers, but in memory: only the pipeline around the engine is measured. */
const engine = {
  model: "bench",
  async complete(request) {
    const row = JSON.parse(request.messages[1].content);
    return {
      content: JSON.stringify({ name: String(row.text ?? "").toUpperCase(), age: Number(row.id) || null }),
      refusal: null,
      finishReason: "stop",
      usage: { prompt_tokens: 100, completion_tokens: 12 },
    };
  },
};

try {
  const input = path.join(dir, "in.csv");
  await writeBenchCsv(input, rows);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const summary = await extractCsv(input, {
    schema: benchSchema,
    engine,
    concurrency,
    out: path.join(dir, "out.csv"),
  });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuMicrosPerRow = (used.user + used.system) / rows;
  process.stdout.write(
    `${JSON.stringify({ rows, ok: summary.rowsOk, seconds: +seconds.toFixed(2), cpuMicrosPerRow: Math.round(cpuMicrosPerRow), rowsPerSecondPerCore: Math.round(1e6 / cpuMicrosPerRow) })}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

