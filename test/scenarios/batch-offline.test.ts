/**
 * The offline batch round trip, as with vLLM's `run-batch`, through the built CLI and no server
 * at all: `--batch-file` writes round 1's request lines; the test answers them as run-batch would
 * (some valid, some invalid JSON, some left out, in shuffled order); `--batch-results` reads them
 * back and writes round 2's file with exactly the rows to ask again (with the correction
 * feedback); its answers read back give the same output as the synchronous path given the same
 * answers. Results files that are not this job's are refused, naming the line.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonReply, rowOf, startChatServer } from "../servers/chat-server.js";
import { validateAgainstOpenApi } from "../servers/openapi.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";

const ROWS = 30;
const MODEL = "Qwen/Qwen2.5-0.5B-Instruct";
const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas") };

/** The answer plan, by row: the first reply invalid JSON, always invalid, or left out of round 1's results. */
const firstInvalid = (row: number) => row % 7 === 3;
const alwaysInvalid = (row: number) => row === 4;
const missingInRound1 = (row: number) => row % 11 === 5;

const personOf = (row: Record<string, string>) => ({ name: row.text!.toUpperCase(), age: Number(row.id) });

/** What the model says to a request: by its row and whether it is a re-ask (more than the system and row messages). */
function replyTo(body: { messages: { content: string }[] }): string {
  const row = JSON.parse(body.messages[1]!.content) as Record<string, string>;
  const id = Number(row.id);
  const reask = body.messages.length > 2;
  if (alwaysInvalid(id) || (firstInvalid(id) && !reask)) return '{"name": "broken';
  return JSON.stringify(personOf(row));
}

interface RequestLine {
  custom_id: string;
  method: string;
  url: string;
  body: { model: string; messages: { role: string; content: string }[] };
}

function readLines(file: string): RequestLine[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as RequestLine);
}

/** vLLM's run-batch output line (`BatchRequestOutput`) for a request answered with `content`. */
function outputLine(request: RequestLine, content: string, n: number): string {
  const body = {
    id: `chatcmpl-${n}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model: request.body.model,
    choices: [{ index: 0, message: { role: "assistant", content, tool_calls: [] }, logprobs: null, finish_reason: "stop", stop_reason: null }],
    usage: { prompt_tokens: 40, total_tokens: 52, completion_tokens: 12 },
  };
  return JSON.stringify({ id: `vllm-${n}`, custom_id: request.custom_id, response: { status_code: 200, request_id: `vllm-batch-${n}`, body }, error: null });
}

/** Answers a request file as run-batch would, leaving out the lines `skip` names, in a shuffled (but fixed) order. */
function answer(requests: RequestLine[], skip: (request: RequestLine) => boolean = () => false): string {
  const lines = requests.filter((request) => !skip(request)).map((request, n) => outputLine(request, replyTo(request.body), n));
  const shuffled = lines.map((line, n) => ({ line, order: (n * 17) % 31 })).sort((a, b) => a.order - b.order);
  return `${shuffled.map(({ line }) => line).join("\n")}\n`;
}

const rowIndexOf = (customId: string) => Number(/^r(\d+)-a\d+$/.exec(customId)![1]);

let dir: string;
let input: string;
let syncReference: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "batch-offline-"));
  input = path.join(dir, "in.csv");
  writeFileSync(input, `id,text\n${Array.from({ length: ROWS }, (_, i) => `${i},"person ${i}, line ""${i}"""`).join("\n")}\n`);
  // The synchronous path given the same answers (a row left out of a results file has no
  // synchronous counterpart: its call is simply made).
  const chat = await startChatServer();
  chat.handle((request) => (alwaysInvalid(Number(rowOf(request).id)) || (firstInvalid(Number(rowOf(request).id)) && request.body.messages.length === 2) ? { reply: '{"name": "broken' } : jsonReply(personOf(rowOf(request)))));
  const out = path.join(dir, "sync.csv");
  const run = await runCli([input, "--schema", "person", "-m", MODEL, "--max-attempts", "2", "--base-url", chat.url, "-o", out], { env });
  await chat.close();
  expect(run.code).toBe(1);
  syncReference = readFileSync(out, "utf8");
});

describe("extract --batch-file / --batch-results (vLLM run-batch)", { timeout: 120_000 }, () => {
  it("writes request files, reads results back in rounds, and ends with the synchronous path's output", async () => {
    const out = path.join(dir, "out.csv");
    const requests = path.join(dir, "requests.jsonl");
    const args = [input, "--schema", "person", "-m", MODEL, "--max-attempts", "2", "-o", out];

    // Round 1: the request lines, no call, no key.
    const first = await runCli([...args, "--batch-file", requests], { env });
    expect(first.stderr).toContain(`vllm run-batch -i ${requests} -o ${path.join(dir, "requests.results.jsonl")} --model ${MODEL}`);
    expect(first.stderr).toContain(`--batch-results ${path.join(dir, "requests.results.jsonl")}`);
    expect(first.code).toBe(0);
    expect(existsSync(out)).toBe(false);
    const round1 = readLines(requests);
    expect(round1.map((line) => line.custom_id)).toEqual(Array.from({ length: ROWS }, (_, i) => `r${i}-a1`));
    for (const line of round1) {
      expect(Object.keys(line)).toEqual(["custom_id", "method", "url", "body"]);
      expect(line).toMatchObject({ method: "POST", url: "/v1/chat/completions", body: { model: MODEL } });
      expect(validateAgainstOpenApi("CreateChatCompletionRequest", line.body)).toEqual([]);
    }

    // A damaged results file is refused whole, naming the line; nothing of it is used.
    const results1 = path.join(dir, "results1.jsonl");
    const good1 = answer(round1, (request) => missingInRound1(rowIndexOf(request.custom_id)));
    const damaged = good1.split("\n");
    damaged[2] = damaged[2]!.slice(0, 40);
    writeFileSync(results1, damaged.join("\n"));
    const refused = await runCli([...args, "--batch-results", results1], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`INPUT_UNREADABLE: ${results1}, line 3: not a JSON line`);

    // Round 1's results: invalid replies and missing lines go into round 2, with feedback.
    writeFileSync(results1, good1);
    const second = await runCli([...args, "--batch-results", results1], { env });
    expect(second.code).toBe(0);
    const missing = Array.from({ length: ROWS }, (_, i) => i).filter(missingInRound1);
    expect(second.stderr).toContain(`${ROWS - missing.length} of ${ROWS} requests answered (${missing.length} missing: asked again)`);
    const requests2 = path.join(dir, "requests.round2.jsonl");
    expect(second.stderr).toContain(`vllm run-batch -i ${requests2}`);
    expect(existsSync(out)).toBe(false);
    const round2 = readLines(requests2);
    const reasked = Array.from({ length: ROWS }, (_, i) => i).filter((i) => firstInvalid(i) || alwaysInvalid(i) || missingInRound1(i));
    expect(round2.map((line) => line.custom_id).sort()).toEqual(reasked.map((i) => `r${i}-a2`).sort());
    for (const line of round2) {
      expect(validateAgainstOpenApi("CreateChatCompletionRequest", line.body)).toEqual([]);
      const row = rowIndexOf(line.custom_id);
      if (missingInRound1(row)) {
        expect(line.body.messages).toHaveLength(2); // the same request again
      } else {
        expect(line.body.messages.at(-2)).toMatchObject({ role: "assistant", content: '{"name": "broken' });
        expect(line.body.messages.at(-1)!.content).toContain("Your reply was not valid JSON");
      }
    }

    // Round 1's results again are an earlier round's.
    const again = await runCli([...args, "--batch-results", results1], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/line \d+: custom_id "r\d+-a1" was asked in an earlier round/);

    // Round 2's results: every row is done; the output is the synchronous path's, one row failed.
    const results2 = path.join(dir, "results2.jsonl");
    writeFileSync(results2, answer(round2));
    const last = await runCli([...args, "--batch-results", results2], { env });
    expect(last.stderr).toContain(`${round2.length} of ${round2.length} requests answered.`);
    expect(last.code).toBe(1);
    expect(readFileSync(out, "utf8")).toBe(syncReference);
  });

  it("with --batch-finish sync, sends the re-asks after round 1 to a server as synchronous calls", async () => {
    const sub = await mkdtemp(path.join(dir, "sync-finish-"));
    const out = path.join(sub, "out.csv");
    const args = [input, "--schema", "person", "-m", MODEL, "--max-attempts", "2", "-o", out];
    const requests = path.join(sub, "requests.jsonl");
    expect((await runCli([...args, "--batch-file", requests], { env })).code).toBe(0);
    const results = path.join(sub, "results.jsonl");
    writeFileSync(results, answer(readLines(requests), (request) => missingInRound1(rowIndexOf(request.custom_id))));
    const chat = await startChatServer();
    chat.handle((request) => ({ reply: replyTo(request.body) }));
    try {
      const run = await runCli([...args, "--batch-results", results, "--batch-finish", "sync", "--base-url", chat.url], { env });
      expect(run.code).toBe(1);
      const reasked = Array.from({ length: ROWS }, (_, i) => i).filter((i) => firstInvalid(i) || alwaysInvalid(i) || missingInRound1(i));
      expect(chat.bodies.map((body) => Number(JSON.parse(body.messages[1].content).id)).sort((a, b) => a - b)).toEqual(reasked);
      for (const request of chat.requests) expect(request.schemaErrors).toEqual([]);
    } finally {
      await chat.close();
    }
    expect(readFileSync(out, "utf8")).toBe(syncReference);
  });

  it("refuses a results line of another job, naming it, and a results file with no job to read it into", async () => {
    const sub = await mkdtemp(path.join(dir, "foreign-"));
    const out = path.join(sub, "out.csv");
    const args = [input, "--schema", "person", "-m", MODEL, "-o", out];
    const none = await runCli([...args, "--batch-results", path.join(sub, "results.jsonl")], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("waits on no results: no request file was written for it: write one first with --batch-file");

    const requests = path.join(sub, "requests.jsonl");
    expect((await runCli([...args, "--batch-file", requests], { env })).code).toBe(0);
    const lines = answer(readLines(requests)).split("\n");
    lines.splice(4, 0, lines[0]!.replace(/"custom_id":"r\d+-a1"/, '"custom_id":"request-7"'));
    const results = path.join(sub, "results.jsonl");
    writeFileSync(results, lines.join("\n"));
    const foreign = await runCli([...args, "--batch-results", results], { env });
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(`${results}, line 5: custom_id "request-7" is not a request of this job`);
    expect(existsSync(out)).toBe(false);
  });

  it("needs an output file to keep the job's state in", async () => {
    const run = await runCli([input, "--schema", "person", "--batch-file", path.join(dir, "stdout-requests.jsonl")], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--batch-file needs --out (a file) or");
  });
});
