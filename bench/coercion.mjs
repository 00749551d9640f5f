/**
 * Requests per row with and without local coercion: the same seeded faulty run through the built
 * CLI against the simulated API (bench/sim-server.mjs), once as it is (coercion on, the default)
 * and once with `--no-coerce` (what every run did before coercion). Prints a Markdown table.
 *
 *   npm run build && node bench/coercion.mjs [--rows 2000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readOutput, runExtractCli, startServer, writeBenchCsv } from "./lib.mjs";

const rowsFlag = process.argv.indexOf("--rows");
const rows = rowsFlag === -1 ? 2000 : Number(process.argv[rowsFlag + 1]);
// The fault-injection suite's mix of model and transport faults (test/scenarios/faults.test.ts,
// without slow answers, whose timeouts depend on the machine), then the same with loose replies.
const suite = { rateLimit: 0.03, serverError: 0.03, drop: 0.02, invalidJson: 0.03, wrongShape: 0.03, truncated: 0.02 };
const scenarios = [
  { label: "fault suite", faults: suite },
  { label: "fault suite + 10% loose replies", faults: { ...suite, looseValues: 0.1 } },
  { label: "30% loose replies only", faults: { looseValues: 0.3 } },
];

const dir = mkdtempSync(path.join(os.tmpdir(), "bench-coercion-"));
try {
  const input = path.join(dir, "in.csv");
  await writeBenchCsv(input, rows);
  console.log(`## Requests per row, ${rows} rows, seed 42 (the floor: one per row and one per fault that costs a call)\n`);
  console.log("| faults | coercion | rows ok | requests | requests/row | loose replies injected |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const { label, faults } of scenarios) {
    for (const flags of [[], ["--no-coerce"]]) {
      const server = await startServer("sim-server.mjs", { SIM_OPTIONS: JSON.stringify({ seed: 42, faults }) });
      const out = path.join(dir, "out.csv");
      const run = await runExtractCli(input, out, ["--base-url", server.url, "-c", "32", "--max-tokens", "100", ...flags], { dir });
      const stats = await server.stop();
      if (run.code !== 0) throw new Error(`extract exited ${run.code}: ${run.stderr.slice(-500)}`);
      const { ok } = readOutput(out);
      const coercion = flags.length ? "off (`--no-coerce`)" : "on";
      console.log(`| ${label} | ${coercion} | ${ok} | ${stats.requests} | ${(stats.requests / rows).toFixed(3)} | ${stats.injected.looseValues ?? 0} |`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
