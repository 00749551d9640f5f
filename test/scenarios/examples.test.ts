/**
 * The runnable examples, run as a user runs them (`npx tsx examples/<file>.ts`, no environment
 * tricks), against the loopback server: they must work as the README says.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonReply, startChatServer, type ChatServer } from "../servers/chat-server.js";
import { cleanEnv, repoRoot } from "../helpers/run-cli.js";

/** A reply that fits schemas/ticket.ts. */
const ticketRecord = {
  contact: { name: "Ana Silva", email: "ana.silva@acme.example", company: "Acme Robotics" },
  product: "Nimbus Room Sensor",
  category: "shipping",
  sentiment: "neutral",
  urgency: "medium",
  order_id: "A-20417",
  order_items: [{ sku: "NB-RS-1", name: "Nimbus Room Sensor", quantity: 1 }],
  summary: "One of two sensors arrived cracked and the customer wants a replacement.",
  requested_action: "send a replacement sensor",
};

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer();
  server.handle(() => jsonReply(ticketRecord));
});
afterAll(() => server.close());

function runExample(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [path.join("examples", file)], {
      cwd: repoRoot,
      env: cleanEnv({ OPENAI_BASE_URL: server.url, EXTRACT_MODEL: "test-model" }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("examples/ run with tsx and nothing else", () => {
  it("extract-one.ts prints the typed record's fields", async () => {
    const run = await runExample("extract-one.ts");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("shipping medium Ana Silva A-20417");
    expect(run.stdout).toContain("send a replacement sensor");
  });

  it("extract-tickets.ts extracts every row of examples/tickets.csv", async () => {
    const before = server.bodies.length;
    const run = await runExample("extract-tickets.ts");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(16);
    expect(lines[0]).toMatch(/^T-\d+\tmedium\tshipping\tana\.silva@acme\.example\t/);
    expect(run.stderr).toMatch(/^16 ok, 0 failed/);
    // The example's EXTRACT_MODEL reached the request.
    expect(server.bodies.slice(before).every((body) => body.model === "test-model")).toBe(true);
  });
});
