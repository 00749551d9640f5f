/**
 * Few-shot examples at the wire: what the loopback server (which validates each body against
 * OpenAI's OpenAPI description and refuses unanswered tool calls) receives in every mode, what the
 * dry run and `maxInputTokens` count, what resume keys on, and what the CLI says of a bad example.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { extract, type ExtractOptions, type FewShotExample } from "../../src/index.js";
import { estimateRun } from "../../src/api/dry-run.js";
import { buildMessages } from "../../src/core/prompt.js";
import { countChatTokens } from "../../src/models/tokens.js";
import { preparePrompt } from "../../src/run/context.js";
import { runFingerprint } from "../../src/run/journal.js";
import { extractBatch } from "../../src/api/extract-batch.js";
import { jsonReply, rowContentOf, rowOf, startChatServer, toolReply, type ChatServer } from "../servers/chat-server.js";
import { startBatchApi } from "../servers/batch-api.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";
import { collect } from "../helpers/collect.js";

const schema = z.object({ name: z.string().nullable(), urgency: z.enum(["low", "high"]) });
const examples: FewShotExample[] = [
  { input: { text: "Ana here, the site is down!" }, output: { name: "Ana", urgency: "high" } },
  { input: { text: "no rush, just a question" }, output: { name: null, urgency: "low" } },
];
const rows = [{ text: "Bo: invoice question" }, { text: "Cy: all orders failing" }];
const answer = (row: Record<string, string>) => ({ name: row.text!.split(":")[0]!, urgency: "low" });

let server: ChatServer;
let dir: string;
beforeEach(async () => {
  server = await startChatServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "few-shot-"));
});
afterEach(() => server.close());

function options(extra: Partial<ExtractOptions<typeof schema>> = {}): ExtractOptions<typeof schema> {
  return { schema, examples, model: "test-model", baseURL: server.url, apiKey: "sk-test-01234", maxRetries: 0, concurrency: 1, ...extra };
}

const user = (content: unknown) => ({ role: "user", content: JSON.stringify(content) });

describe("examples at the wire", () => {
  it.each(["json_object", "json_schema"] as const)("%s: user/assistant pairs after the system message, the same bytes for every row", async (mode) => {
    server.handle((request) => jsonReply(answer(rowOf(request))));
    const results = await collect(extract(rows, options({ mode })));

    expect(results.every((result) => result.ok)).toBe(true);
    expect(server.requests.map((request) => request.schemaErrors)).toEqual([[], []]);
    const [first, second] = server.bodies;
    expect(first.messages.slice(1)).toEqual([
      user(examples[0]!.input),
      { role: "assistant", content: JSON.stringify(examples[0]!.output) },
      user(examples[1]!.input),
      { role: "assistant", content: JSON.stringify(examples[1]!.output) },
      user(rows[0]),
    ]);
    expect(JSON.stringify(second.messages.slice(0, -1))).toBe(JSON.stringify(first.messages.slice(0, -1)));
    expect(second.messages.at(-1)).toEqual(user(rows[1]));
  });

  it("tools: each answer is a call of the mode's function, answered by a tool message, and a re-ask keeps them", async () => {
    // The first row's first answer does not fit the schema (re-asked); every other answer does.
    let firstRowAsked = 0;
    server.handle((request) => {
      const row = rowOf(request);
      const misfit = row.text === rows[0]!.text && firstRowAsked++ === 0;
      return toolReply("extraction", misfit ? { name: "Bo", urgency: "soon" } : answer(row));
    });
    const results = await collect(extract(rows, options({ mode: "tools" })));

    expect(results.map((result) => result.ok && result.attempts)).toEqual([2, 1]);
    // Every request passed the OpenAPI description and the rule that a tool call is answered.
    expect(server.requests.map((request) => request.schemaErrors)).toEqual([[], [], []]);
    // The second row's request may go out before the re-ask (it waits, built, for the slot the first answer frees).
    const ofRow = (row: (typeof rows)[number]) => server.requests.filter((request) => rowOf(request).text === row.text).map((request) => request.body);
    const [first, reask] = ofRow(rows[0]!);
    const [other] = ofRow(rows[1]!);
    const call = (n: number) => ({
      role: "assistant",
      tool_calls: [{ id: `example_${n}`, type: "function", function: { name: "extraction", arguments: JSON.stringify(examples[n - 1]!.output) } }],
    });
    const answered = (n: number) => ({ role: "tool", tool_call_id: `example_${n}`, content: "Recorded." });
    const prefix = [first.messages[0], user(examples[0]!.input), call(1), answered(1), user(examples[1]!.input), call(2), answered(2)];
    expect(first.messages).toEqual([...prefix, user(rows[0])]);
    expect(reask.messages.slice(0, 8)).toEqual(first.messages);
    expect(reask.messages.slice(8).map((message: { role: string }) => message.role)).toEqual(["assistant", "user"]);
    expect(JSON.stringify(other.messages.slice(0, -1))).toBe(JSON.stringify(prefix));
  });

  it("examples: false sends none: the request is as it was before examples", async () => {
    server.handle((request) => jsonReply(answer(rowOf(request))));
    await collect(extract(rows.slice(0, 1), options({ examples: false })));
    expect(server.bodies[0].messages.map((message: { role: string }) => message.role)).toEqual(["system", "user"]);
  });
});

describe("examples in a Batch API run", () => {
  it("every request line carries the same pairs before its row, as a synchronous request does", async () => {
    const bodies: any[] = [];
    const api = await startBatchApi({ stepMs: 2, answer: (body) => (bodies.push(body), answer(JSON.parse(rowContentOf(body)!))) });
    try {
      const results = await collect(extractBatch(rows, { ...options(), baseURL: api.url, batchPoll: 1 }));
      expect(results.every((result) => result.ok)).toBe(true);
    } finally {
      await api.close();
    }
    server.handle((request) => jsonReply(answer(rowOf(request))));
    await collect(extract(rows, options()));
    const byRow = (list: any[]) => [...list].sort((a, b) => a.messages.at(-1).content.localeCompare(b.messages.at(-1).content));
    expect(byRow(bodies).map((body) => body.messages)).toEqual(byRow(server.bodies).map((body) => body.messages));
    expect(bodies[0].messages).toHaveLength(6);
  });
});

describe("examples and the prompt's size", () => {
  it("the dry run counts them with every row", async () => {
    const { systemPrompt, exampleMessages, jsonSchema } = await preparePrompt(options());
    const withExamples = await estimateRun(rows, { systemPrompt, exampleMessages, jsonSchema, model: "gpt-4o-mini", maxTokens: 100 });
    const without = await estimateRun(rows, { systemPrompt, jsonSchema, model: "gpt-4o-mini", maxTokens: 100 });

    const sent = rows.map((row) => countChatTokens(buildMessages(systemPrompt, row, exampleMessages), "gpt-4o-mini"));
    expect(withExamples.promptTokens).toBe(sent[0]! + sent[1]!);
    expect(withExamples.promptTokens).toBeGreaterThan(without.promptTokens);
  });

  it("maxInputTokens counts them: a row that fits alone fails with INPUT_TOO_LARGE once examples come along", async () => {
    server.handle((request) => jsonReply(answer(rowOf(request))));
    const { systemPrompt, exampleMessages } = await preparePrompt(options());
    const alone = countChatTokens(buildMessages(systemPrompt, rows[0]!), "gpt-4o-mini");
    const limit = { maxInputTokens: alone + 1, model: "gpt-4o-mini" };
    expect(countChatTokens(buildMessages(systemPrompt, rows[0]!, exampleMessages), "gpt-4o-mini")).toBeGreaterThan(alone + 1);

    const [without] = await collect(extract(rows.slice(0, 1), options({ ...limit, examples: false })));
    const [withExamples] = await collect(extract(rows.slice(0, 1), options(limit)));
    expect(without!.ok).toBe(true);
    expect(withExamples).toMatchObject({ ok: false, error: { code: "INPUT_TOO_LARGE" }, attempts: 0 });
    expect(server.requests).toHaveLength(1);
  });
});

describe("examples and resume", () => {
  it("a run without examples keeps the fingerprint runs had before examples; examples change it", async () => {
    const plain = await preparePrompt(options({ examples: false }));
    expect(plain.fingerprint).toBe(runFingerprint({ systemPrompt: plain.systemPrompt, model: "test-model", temperature: undefined }));
    const one = await preparePrompt(options({ examples: examples.slice(0, 1) }));
    const two = await preparePrompt(options());
    expect(new Set([plain.fingerprint, one.fingerprint, two.fingerprint]).size).toBe(3);
    expect(new Set([plain.legacyFingerprint, one.legacyFingerprint, two.legacyFingerprint]).size).toBe(3);
  });

  it("rows journaled without examples are asked again once examples are added, and reused when they are not", async () => {
    server.handle((request) => jsonReply(answer(rowOf(request))));
    const journal = path.join(dir, "run.journal");
    await collect(extract(rows, options({ journal, examples: false })));
    expect(server.requests).toHaveLength(2);

    const same = await collect(extract(rows, options({ journal, resume: true, examples: false })));
    expect(same.every((result) => result.reused)).toBe(true);
    expect(server.requests).toHaveLength(2);

    const withExamples = await collect(extract(rows, options({ journal, resume: true })));
    expect(withExamples.some((result) => result.reused)).toBe(false);
    expect(server.requests).toHaveLength(4);
  });
});

describe("the CLI's --examples and --no-examples", () => {
  const ticketReply = (id: string) => ({
    contact: { name: null, email: null, company: null },
    product: null,
    category: "other",
    sentiment: "neutral",
    urgency: "low",
    order_id: null,
    order_items: [],
    summary: `Ticket ${id}`,
    requested_action: null,
  });
  const ticketInput = { ticket_id: "T-1", received_at: "2024-06-01", channel: "email", subject: "Hello", body: "Just saying thanks." };

  it("sends the shipped schema's examples, then the file's; --no-examples sends none", async () => {
    server.handle((request) => jsonReply(ticketReply(rowOf(request).ticket_id!)));
    const file = path.join(dir, "more.jsonl");
    writeFileSync(file, `${JSON.stringify({ input: ticketInput, output: ticketReply("T-1") })}\n`);
    const input = path.join(dir, "one.csv");
    writeFileSync(input, "ticket_id,received_at,channel,subject,body\nT-9,2024-06-02,chat,Hi,Where is my order 5521?\n");
    const base = [input, "--schema", "ticket", "--base-url", server.url, "-o", path.join(dir, "out.csv")];

    expect((await runCli([...base, "--examples", file])).code).toBe(0);
    expect((await runCli([...base, "--no-examples"])).code).toBe(0);
    const [withFile, none] = server.bodies;
    expect(withFile.messages.map((message: { role: string }) => message.role)).toEqual(["system", ...Array(6).fill(["user", "assistant"]).flat().slice(0, 6), "user"]);
    expect(withFile.messages[5]).toEqual(user(ticketInput));
    expect(withFile.messages[1].content).toContain('"ticket_id":"T-20417"');
    expect(none.messages).toHaveLength(2);
  }, 60_000); // two runs of the CLI

  it("exits 2 before any call on an example that does not fit, naming the file, the line and the field", async () => {
    const file = path.join(dir, "bad.jsonl");
    writeFileSync(file, `\n${JSON.stringify({ input: ticketInput, output: { ...ticketReply("T-1"), urgency: "asap" } })}\n`);
    const run = await runCli(["examples/tickets.csv", "--schema", "ticket", "--base-url", server.url, "--examples", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`SCHEMA_INVALID: Example ${file}:2: output.urgency: Invalid option`);
    expect(server.requests).toHaveLength(0);
  });

  it("--dry-run shows the examples and counts them", async () => {
    const shown = await runCli(["examples/tickets.csv", "--schema", "ticket", "--dry-run"], { cwd: repoRoot });
    const hidden = await runCli(["examples/tickets.csv", "--schema", "ticket", "--dry-run", "--no-examples"], { cwd: repoRoot });
    expect(shown.stdout.match(/── assistant \(example\) ──/g)).toHaveLength(2);
    expect(hidden.stdout).not.toContain("(example)");
    const tokens = (text: string) => Number(/Prompt tokens: +([\d,]+)/.exec(text)![1]!.replaceAll(",", ""));
    expect(tokens(shown.stdout)).toBeGreaterThan(tokens(hidden.stdout));
  }, 60_000); // two runs of the CLI
});
