import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { extract, type ExtractOptions } from "../../src/index.js";
import { collect } from "../helpers/collect.js";
import { runCli } from "../helpers/run-cli.js";
import { startChatServer, type ChatServer } from "../servers/chat-server.js";

// Coercion at the wire: a real server's loose reply ends the row in one call, and `--no-coerce`
// pays for the re-ask instead.

const order = z.object({
  total: z.number(),
  urgent: z.boolean(),
  urgency: z.enum(["low", "high"]),
  items: z.array(z.object({ sku: z.string(), qty: z.int() })),
});
const SCHEMA_FILE = `import { z } from "zod";
export default z.object({
  total: z.number(),
  urgent: z.boolean(),
  urgency: z.enum(["low", "high"]),
  items: z.array(z.object({ sku: z.string(), qty: z.int() })),
});
`;
const loose = '{"total": "123 USD", "urgent": "yes", "urgency": "HIGH", "items": {"sku": "A-1", "qty": "2"}}';
const good = { total: 123, urgent: true, urgency: "high", items: [{ sku: "A-1", qty: 2 }] };
const coercedPaths = ["total", "urgent", "urgency", "items", "items[0].qty"];

let server: ChatServer;
let dir: string;
beforeEach(async () => {
  server = await startChatServer();
  // Whatever is asked, the model writes its values loosely, and strictly only when told off.
  server.handle((request) => ({ reply: request.body.messages.length > 2 ? JSON.stringify(good) : loose }));
  dir = await mkdtemp(path.join(os.tmpdir(), "coercion-"));
});
afterEach(() => server.close());

function options(extra: Partial<ExtractOptions<typeof order>> = {}): ExtractOptions<typeof order> {
  return { schema: order, model: "test-model", baseURL: server.url, apiKey: "sk-test-01234", maxRetries: 0, ...extra };
}

describe("coercion through extract()", () => {
  it("accepts a reply with \"123 USD\", \"yes\", \"HIGH\" and a lone object in one call, naming the fields", async () => {
    const [result] = await collect(extract(["2x A-1, urgent, 123 USD"], options()));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.schemaErrors).toEqual([]);
    expect(result).toMatchObject({ ok: true, data: good, attempts: 1, repaired: false, coerced: coercedPaths });
  });

  it("re-asks with `coerce: false`, telling the model what was wrong", async () => {
    const [result] = await collect(extract(["2x A-1, urgent, 123 USD"], options({ coerce: false })));
    expect(server.requests).toHaveLength(2);
    const feedback = server.bodies[1].messages.at(-1).content as string;
    expect(feedback).toContain("$.total");
    expect(feedback).toContain("$.urgent");
    expect(result).toMatchObject({ ok: true, data: good, attempts: 2, coerced: [] });
  });
});

describe("coercion through the CLI", () => {
  async function run(flags: string[]) {
    const schema = path.join(dir, "order.ts");
    writeFileSync(schema, SCHEMA_FILE);
    const input = path.join(dir, "in.csv");
    writeFileSync(input, "text\n\"2x A-1, urgent, 123 USD\"\n");
    const out = path.join(dir, "out.jsonl");
    const cli = await runCli([input, "--schema", schema, "--base-url", server.url, "-m", "gpt-4o-mini", "-o", out, ...flags]);
    const lines = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    return { cli, lines };
  }

  it("writes `coerced` in JSONL and counts the values in the summary", async () => {
    const { cli, lines } = await run([]);
    expect(cli.code).toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(lines[0]).toMatchObject({ data: good, attempts: 1, coerced: coercedPaths });
    expect(cli.stderr).toContain("1 model call · 5 values coerced ·");
  });

  it("--no-coerce re-asks, and a resume with it does again a row that was coerced", async () => {
    const first = await run(["--no-coerce"]);
    expect(first.cli.code).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(first.lines[0]).toMatchObject({ data: good, attempts: 2, coerced: [] });
    expect(first.cli.stderr).not.toContain("coerced");

    server.reset();
    await run([]);
    expect(server.requests).toHaveLength(1);
    server.reset();
    const resumed = await run(["--resume"]);
    expect(server.requests).toHaveLength(0);
    expect(resumed.lines[0]).toMatchObject({ coerced: coercedPaths });
    const strict = await run(["--resume", "--no-coerce"]);
    expect(server.requests).toHaveLength(2);
    expect(strict.lines[0]).toMatchObject({ attempts: 2, coerced: [] });
  }, 60_000); // four CLI runs
});
