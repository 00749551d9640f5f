/**
 * `npm run bench`: the benchmark suite. Every figure is measured in this one run, side by side
 * with the baseline (bench/baseline.mjs, the plainest correct program) on the same loopback
 * servers, and reported as a ratio: to the theoretical bound, to the limit, or to the baseline.
 * Prints a table and writes bench/results/latest.json (and a dated copy).
 *
 *   npm run bench                 # a few minutes on 2 cores
 *   npm run bench -- --full       # 10,000 rows per throughput point, memory up to 1M rows (~1 h)
 *   npm run bench -- --only=throughput,tokens,grounding
 *   node bench/run.mjs --smoke --results=/tmp/x   # tiny sizes: checks the suite runs (npm test does)
 *
 * Method and latest numbers: bench/README.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { baselineReport, readOutput, root, runBaseline, runExtractCli, runMeasured, startServer, writeBenchCsv } from "./lib.mjs";

const args = process.argv.slice(2);
const full = args.includes("--full");
// Tiny sizes everywhere: proves every section runs, measures nothing worth reading.
const smoke = args.includes("--smoke");
const resultsDir = args.find((arg) => arg.startsWith("--results="))?.slice("--results=".length) ?? path.join(root, "bench/results");
const only = args.find((arg) => arg.startsWith("--only="))?.slice("--only=".length).split(",");
const wanted = (section) => !only || only.includes(section);
const dir = await mkdtemp(path.join(os.tmpdir(), "llm-extract-bench-"));
const results = { date: new Date().toISOString(), cores: os.availableParallelism(), node: process.version, full, smoke };
const lines = [];
const say = (line) => {
  lines.push(line);
  console.log(line);
};
const ratio = (value) => value.toFixed(2);

/** A bench input of `rows` rows, written once per size. */
const inputs = new Map();
async function input(rows) {
  if (!inputs.has(rows)) {
    const file = path.join(dir, `in-${rows}.csv`);
    await writeBenchCsv(file, rows);
    inputs.set(rows, file);
  }
  return inputs.get(rows);
}

/** Runs the CLI and the baseline on the same input against a fresh server each; returns both. */
async function sideBySide(script, env, rows, concurrency, cliFlags = []) {
  const file = await input(rows);
  const measure = async (run) => {
    const server = await startServer(script, env);
    const result = await run(server.url);
    return { ...result, server: await server.stop() };
  };
  const ours = await measure((url) => runExtractCli(file, path.join(dir, "out.csv"), ["--base-url", url, "-c", String(concurrency), ...cliFlags], { dir }));
  const baseline = await measure((url) => runBaseline(file, path.join(dir, "baseline.jsonl"), concurrency, url, { dir }));
  for (const [who, run] of [["llm-extract", ours], ["baseline", baseline]]) {
    if (run.code !== 0 && !(who === "baseline" && run.code === 1)) throw new Error(`${who} exited ${run.code}: ${run.stderr.slice(-500)}`);
  }
  return { ours, baseline };
}

try {
  // 1. Throughput against the bound C / L.
  if (wanted("throughput")) {
    say("\n## Throughput vs the bound C/L (rows/s, end to end: process start to exit)");
    say("| L | C | rows | bound | llm-extract | / bound | steady / bound | baseline | / bound | ours / baseline |");
    say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    results.throughput = [];
    for (const latency of smoke ? [50] : [50, 300]) {
      for (const concurrency of smoke ? [8] : [8, 64, 256]) {
        const bound = (concurrency * 1000) / latency;
        // Quick mode: about 12 s of work at the bound, so each point takes seconds, not minutes;
        // start-up, the first round trip and the last partial round then weigh about 5-8%.
        const rows = smoke ? 50 : full ? 10_000 : Math.min(10_000, Math.max(200, Math.round(bound * 12)));
        const { ours, baseline } = await sideBySide("instant-server.mjs", { LATENCY_MS: String(latency) }, rows, concurrency);
        const point = {
          latencyMs: latency,
          concurrency,
          rows,
          bound,
          ours: rows / ours.seconds,
          // Server side, first request to last answer: without process start-up and schema loading.
          oursSteady: ours.server.served / ours.server.seconds,
          baseline: rows / baseline.seconds,
        };
        results.throughput.push(point);
        say(
          `| ${latency} ms | ${concurrency} | ${rows} | ${bound.toFixed(0)} | ${point.ours.toFixed(0)} | ${ratio(point.ours / bound)} | ` +
            `${ratio(point.oursSteady / bound)} | ${point.baseline.toFixed(0)} | ${ratio(point.baseline / bound)} | ${ratio(point.ours / point.baseline)} |`,
        );
      }
    }
  }

  // 2. Overhead per row.
  if (wanted("overhead")) {
    say("\n## Overhead per row (server answers at once)");
    const rows = smoke ? 500 : 20_000;
    const pipeline = await runMeasured([path.join(root, "bench/pipeline.mjs"), String(rows), "64"], { dir });
    if (pipeline.code !== 0) throw new Error(`pipeline bench exited ${pipeline.code}: ${pipeline.stderr}`);
    const inMemory = JSON.parse(pipeline.stdout);
    const httpRows = smoke ? 200 : 10_000;
    const { ours, baseline } = await sideBySide("instant-server.mjs", {}, httpRows, 64);
    results.overhead = {
      pipelineCpuMicrosPerRow: inMemory.cpuMicrosPerRow,
      pipelineRowsPerSecondPerCore: inMemory.rowsPerSecondPerCore,
      cliCpuMicrosPerRow: (ours.cpuMs * 1000) / httpRows,
      baselineCpuMicrosPerRow: (baseline.cpuMs * 1000) / httpRows,
      cliRowsPerSecond: httpRows / ours.seconds,
      baselineRowsPerSecond: httpRows / baseline.seconds,
    };
    const o = results.overhead;
    say("| measure | llm-extract | baseline | ratio |");
    say("| --- | --- | --- | --- |");
    say(`| pipeline alone, no HTTP (${rows} rows, in-memory engine): CPU µs/row | ${o.pipelineCpuMicrosPerRow} | | |`);
    say(`| pipeline alone: rows/s on one core | ${o.pipelineRowsPerSecondPerCore} | | |`);
    say(`| whole process with HTTP (${httpRows} rows, c=64): CPU µs/row | ${o.cliCpuMicrosPerRow.toFixed(0)} | ${o.baselineCpuMicrosPerRow.toFixed(0)} | ${ratio(o.cliCpuMicrosPerRow / o.baselineCpuMicrosPerRow)} |`);
    say(`| whole process with HTTP: rows/s | ${o.cliRowsPerSecond.toFixed(0)} | ${o.baselineRowsPerSecond.toFixed(0)} | ${ratio(o.cliRowsPerSecond / o.baselineRowsPerSecond)} |`);
  }

  // 3. Memory.
  if (wanted("memory")) {
    say("\n## Peak RSS (server answers at once, c=64)");
    say("| rows | llm-extract MB | rows/s | baseline MB |");
    say("| --- | --- | --- | --- |");
    results.memory = [];
    for (const rows of smoke ? [300] : full ? [10_000, 100_000, 1_000_000] : [10_000, 40_000]) {
      // The baseline holds every row and result in memory: past 100k rows it is not worth the wait.
      const withBaseline = rows <= 100_000;
      const file = await input(rows);
      const server = await startServer("instant-server.mjs");
      const ours = await runExtractCli(file, path.join(dir, "out.csv"), ["--base-url", server.url, "-c", "64"], { dir });
      await server.stop();
      let baseline;
      if (withBaseline) {
        const again = await startServer("instant-server.mjs");
        baseline = await runBaseline(file, path.join(dir, "baseline.jsonl"), 64, again.url, { dir });
        await again.stop();
      }
      results.memory.push({ rows, oursPeakRssMb: ours.maxRssMb, oursRowsPerSecond: rows / ours.seconds, baselinePeakRssMb: baseline?.maxRssMb });
      say(`| ${rows} | ${ours.maxRssMb.toFixed(0)} | ${(rows / ours.seconds).toFixed(0)} | ${baseline ? baseline.maxRssMb.toFixed(0) : "(skipped)"} |`);
    }
  }

  // 4. Under rate limits enforced by the server.
  if (wanted("limits")) {
    say("\n## Under limits enforced by the server (1-second slices, OpenAI's headers and 429s)");
    say("| limit | rows | who | rows ok | requests | 429s | 429 share | admitted / limit |");
    say("| --- | --- | --- | --- | --- | --- | --- | --- |");
    results.limits = [];
    const scenarios = [
      { label: "6,000 RPM", limits: { rpm: 6000 }, rows: smoke ? 100 : full ? 3000 : 1000 },
      { label: "1,600,000 TPM", limits: { tpm: 1_600_000, rpm: 100_000 }, rows: smoke ? 100 : full ? 3000 : 1000 },
    ];
    for (const scenario of scenarios) {
      const env = { SIM_OPTIONS: JSON.stringify({ limits: scenario.limits }) };
      const { ours, baseline } = await sideBySide("sim-server.mjs", env, scenario.rows, 64, ["--max-tokens", "100"]);
      const okRows = { "llm-extract": readOutput(path.join(dir, "out.csv")).ok, baseline: baselineReport(baseline).ok };
      for (const [who, run] of [["llm-extract", ours], ["baseline", baseline]]) {
        const s = run.server;
        const tokensPerRequest = s.admitted.tokens / s.admitted.requests;
        const limitPerSecond = Math.min((scenario.limits.rpm ?? Infinity) / 60, (scenario.limits.tpm ?? Infinity) / 60 / tokensPerRequest);
        const point = {
          limit: scenario.label,
          who,
          rows: scenario.rows,
          ok: okRows[who],
          requests: s.requests,
          rateLimited: s.rateLimited,
          share429: s.rateLimited / s.requests,
          ofLimit: s.admitted.requests / s.seconds / limitPerSecond,
        };
        results.limits.push(point);
        say(
          `| ${point.limit} | ${point.rows} | ${who} | ${point.ok} | ${point.requests} | ${point.rateLimited} | ${(100 * point.share429).toFixed(1)}% | ${ratio(point.ofLimit)} |`,
        );
      }
    }
  }

  // 5. Tokens per row.
  if (wanted("tokens")) {
    const { tokensPerRow, reaskCost } = await import("./tokens.mjs");
    say("\n## Prompt tokens per row (system + user message, o200k_base), first 50 rows of each example");
    say("| schema | llm-extract | baseline (pretty-printed schema, row as text) | ratio |");
    say("| --- | --- | --- | --- |");
    results.tokens = await tokensPerRow();
    for (const t of results.tokens) say(`| ${t.schema} | ${t.ours.toFixed(0)} | ${t.baseline.toFixed(0)} | ${ratio(t.ours / t.baseline)} |`);

    say("\n## Cost of re-asks: 10% of replies invalid (tokens per row, as the server bills them)");
    results.reask = await reaskCost(dir, await input(smoke ? 100 : 1000));
    const r = results.reask;
    say("| who | rows ok | tokens/row, clean | tokens/row, 10% invalid | extra |");
    say("| --- | --- | --- | --- | --- |");
    for (const who of ["ours", "baseline"]) {
      const x = r[who];
      say(`| ${who === "ours" ? "llm-extract" : "baseline"} | ${x.ok} | ${x.clean.toFixed(0)} | ${x.faulty.toFixed(0)} | +${(100 * (x.faulty / x.clean - 1)).toFixed(1)}% |`);
    }
  }

  // 6. Source grounding per row.
  if (wanted("grounding")) {
    const { groundingCost } = await import("./grounding.mjs");
    say("\n## Source grounding: CPU per row (groundRecord on every row of each example, plausible records)");
    say("| schema | rows | input chars/row | spans/row | ungrounded/row | µs/row, first passes (warm-up) | µs/row, warm | target (warm) |");
    say("| --- | --- | --- | --- | --- | --- | --- | --- |");
    results.grounding = await groundingCost({ rounds: smoke ? 2 : 200 });
    for (const g of results.grounding) {
      say(`| ${g.schema} | ${g.rows} | ${g.cellChars} | ${g.spansPerRow.toFixed(1)} | ${g.ungroundedPerRow.toFixed(1)} | ${g.coldMicrosPerRow} | ${g.microsPerRow} | < 50 |`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

mkdirSync(resultsDir, { recursive: true });
const json = `${JSON.stringify({ ...results, table: lines.join("\n") }, null, 2)}\n`;
writeFileSync(path.join(resultsDir, "latest.json"), json);
if (!smoke) writeFileSync(path.join(resultsDir, `${results.date.slice(0, 10)}${full ? "-full" : ""}.json`), json);
console.log(`\nWrote ${path.join(resultsDir, "latest.json")} (${results.cores} cores, Node ${results.node}).`);
