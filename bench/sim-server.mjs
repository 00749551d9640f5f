/**
 * The test suite's simulated OpenAI (test/servers/simulated-api.ts: seeded faults, RPM/TPM
 * buckets with OpenAI's headers) as a process of its own, so its CPU is not counted in the
 * measured one. Options come as JSON in SIM_OPTIONS (see SimulatedApiOptions). Prints its base URL
 * on stdout; on SIGTERM prints its stats as one JSON line on stdout and exits.
 *
 *   SIM_OPTIONS='{"limits":{"rpm":6000}}' node bench/sim-server.mjs
 */
import { createJiti } from "jiti";

const jiti = createJiti(import.meta.url);
const { startChatServer } = await jiti.import("../test/servers/chat-server.ts");
const { createSimulatedApi, minimumRequests } = await jiti.import("../test/servers/simulated-api.ts");

const options = JSON.parse(process.env.SIM_OPTIONS ?? "{}");
// The answer the bench schema (test/fixtures/schemas/person.ts) expects, derived from the row.
const simulated = createSimulatedApi({ ...options, reply: (row) => ({ name: String(row.text ?? "").toUpperCase(), age: Number(row.id) || null }) });
const server = await startChatServer({ validateRequests: false });
server.handle(simulated.handler);

process.on("SIGTERM", () => {
  const { stats } = simulated;
  const rows = stats.servedPerRow.size;
  const summary = {
    requests: stats.requests,
    rateLimited: stats.rateLimited,
    injected: stats.injected,
    rowsServed: rows,
    servedTwice: [...stats.servedPerRow.values()].filter((count) => count > 1).length,
    floor: minimumRequests(stats, rows),
    admitted: stats.admitted,
    seconds: ((stats.lastAnswerAt ?? 0) - (stats.firstRequestAt ?? 0)) / 1000,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(0));
});
process.stdout.write(`${server.url}\n`);
