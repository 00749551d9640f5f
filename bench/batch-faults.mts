/**
 * The numbers issue 13 asks for, on the loopback Files + Batches simulator: a 2,000-row batch run
 * under seeded faults (10% invalid JSON, 10% wrong shape, 5% cut off, 8% per-request 500s, 4%
 * 429s, at most two per row; every batch expires after 1,600 answered requests), uninterrupted,
 * then the same run killed with SIGKILL while its first batch is live and finished with
 * `--resume`. Prints batches, request lines per row, rounds, rows right, lines sent twice, and
 * whether both outputs are byte-identical.
 *
 *   npm run build && npx tsx bench/batch-faults.mts [--rows 2000]
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startBatchApi, type BatchApi, type BatchApiOptions } from "../test/servers/batch-api.js";
import { readCsv, repoRoot, runCli } from "../test/helpers/run-cli.js";

const ROWS = Number(process.argv[process.argv.indexOf("--rows") + 1]) || 2000;
const dir = mkdtempSync(path.join(os.tmpdir(), "batch-faults-"));
const input = path.join(dir, "in.csv");
writeFileSync(input, `id,text\n${Array.from({ length: ROWS }, (_, i) => `${i},"person ${i}, line ""${i}"""`).join("\n")}\n`);
const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas"), EXTRACT_MODEL: "gpt-4o-mini" };
const rowOfBody = (body: Record<string, any>) => JSON.parse(body.messages.at(1).content) as Record<string, string>;
const options: BatchApiOptions = {
  stepMs: 20,
  answer: (body) => ({ name: rowOfBody(body).text!.toUpperCase(), age: Number(rowOfBody(body).id) }),
  faults: { invalidJson: 0.1, wrongShape: 0.1, truncated: 0.05, serverError: 0.08, rateLimit: 0.04 },
  faultKey: (body) => rowOfBody(body).id!,
  maxFaultsPerRow: 2,
  expire: { afterLines: Math.floor(ROWS * 0.8) },
  seed: 13,
};
const args = (api: BatchApi, out: string, ...more: string[]) =>
  [input, "--schema", "person", "--base-url", api.url, "--api-key", "sk-test", "-o", out, "--batch", "--batch-poll", "20ms", "--max-attempts", "4", ...more];

function describeRun(name: string, api: BatchApi, out: string, summary: string) {
  const rows = readCsv(out);
  const lines = [...api.stats.linesPerCustomId.values()].reduce((sum, n) => sum + n, 0);
  const sentTwice = [...api.stats.linesPerCustomId.values()].filter((n) => n > 1).length;
  const statuses = api.batches().map((batch) => batch.status);
  console.log(`## ${name}`);
  console.log(`batches: ${statuses.length} (${statuses.join(", ")})`);
  console.log(`request lines: ${lines} (${(lines / ROWS).toFixed(2)} per row); custom_ids sent twice: ${sentTwice}`);
  console.log(`rows right: ${rows.filter((row) => row._error === "").length} of ${rows.length}`);
  console.log(`summary: ${summary.trim().split("\n").at(-1)}`);
}

// 1. Uninterrupted.
const clean = await startBatchApi(options);
const cleanOut = path.join(dir, "clean.csv");
const cleanRun = await runCli(args(clean, cleanOut), { env });
describeRun("uninterrupted", clean, cleanOut, cleanRun.stderr);
await clean.close();

// 2. kill -9 while the first batch is live (held by the server), then --resume.
const api = await startBatchApi(options);
api.hold();
const out = path.join(dir, "killed.csv");
let child: ChildProcess | undefined;
const killed = runCli(args(api, out), { env, onSpawn: (spawned) => (child = spawned) });
while (api.stats.batchesCreated < 1) await sleep(5);
child!.kill("SIGKILL");
await killed;
const liveAtKill = api.liveBatches().length;
api.release();
const resumed = await runCli(args(api, out, "--resume"), { env });
console.log(`\nkilled with SIGKILL while ${liveAtKill} batch was live; --resume exit ${resumed.code}`);
describeRun("killed, then --resume", api, out, resumed.stderr);
console.log(`output identical to the uninterrupted run: ${readFileSync(out, "utf8") === readFileSync(cleanOut, "utf8")}`);
await api.close();
