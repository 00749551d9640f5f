/**
 * Preloaded into a benchmarked process (`node --import ./bench/usage-probe.mjs ...`): when it
 * exits, writes its own CPU time and peak RSS to $BENCH_USAGE_FILE. The kernel's numbers for the
 * process itself, so a child's cost is measured without sampling from outside.
 */
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  const file = process.env.BENCH_USAGE_FILE;
  if (!file) return;
  const usage = process.resourceUsage();
  writeFileSync(
    file,
    JSON.stringify({ userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, maxRssMb: usage.maxRSS / 1024 }),
  );
});
