import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/run-cli.js";

// `npm run bench` is never part of `npm test`, but its tiny version is: every section runs end to
// end on a few rows, so the suite cannot rot between benchmark runs. Its numbers mean nothing.
describe("npm run bench, smoke version", () => {
  it("runs every section and writes the results JSON with the table", async () => {
    const results = await mkdtemp(path.join(os.tmpdir(), "bench-smoke-"));
    const run = spawnSync(process.execPath, [path.join(repoRoot, "bench/run.mjs"), "--smoke", `--results=${results}`], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const latest = JSON.parse(readFileSync(path.join(results, "latest.json"), "utf8"));
    expect(Object.keys(latest)).toEqual(expect.arrayContaining(["throughput", "overhead", "memory", "limits", "start", "flaky", "tokens", "reask"]));
    for (const heading of ["Throughput vs the bound", "Overhead per row", "Peak RSS", "Under limits", "Start", "Flaky server", "Prompt tokens per row", "Cost of re-asks"]) {
      expect(run.stdout).toContain(heading);
    }
    // Every row of llm-extract's runs came back ok (the baseline may lose rows to 429s: that is its point).
    for (const point of latest.limits.filter((p: { who: string }) => p.who === "llm-extract")) expect(point.ok).toBe(point.rows);
    expect(latest.reask.ours.ok).toBe(100);
    // A guard against a hang, not a measure: about 40 processes start in turn, and a busy 2-core
    // machine takes a few seconds for each.
  }, 240_000);
});
