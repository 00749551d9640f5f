/**
 * Crash safety of the built CLI: `kill -9` at several points of a run, then `--resume`. Kill
 * points are decided by what the loopback server has seen (request counts), never by time: the
 * server answers the first N requests, holds every later one unanswered, and kills the child
 * when a given request arrives. The resumed run must send exactly the rows the journal lacks
 * and write an output byte-identical to an uninterrupted run's.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jsonReply, startChatServer, type ChatServer, type RecordedRequest, type Step, rowOf } from "../servers/chat-server.js";
import { untilJournalHas } from "../helpers/journal-file.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";

const ROWS = 32;
const CONCURRENCY = 4;
const env = { EXTRACT_SCHEMAS_DIR: path.join(repoRoot, "test/fixtures/schemas"), EXTRACT_MODEL: "test-model" };

let server: ChatServer;
let input: string;
let reference: string;
let referenceJournal: string;

/** A valid `person` reply derived from the row, so every run writes the same output. */
function personReply(request: RecordedRequest): Step {
  const row = rowOf(request);
  return jsonReply({ name: row.text!.toUpperCase(), age: Number(row.id) });
}

const args = (out: string, ...more: string[]) => [input, "--schema", "person", "--base-url", server.url, "-o", out, "-c", String(CONCURRENCY), ...more];

beforeAll(async () => {
  server = await startChatServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), "crash-"));
  input = path.join(dir, "in.csv");
  writeFileSync(input, `id,text\n${Array.from({ length: ROWS }, (_, i) => `${i},"person ${i}, line ""${i}"""`).join("\n")}\n`);
  server.handle(personReply);
  const out = path.join(dir, "reference.csv");
  const run = await runCli(args(out), { env });
  expect(run.code).toBe(0);
  expect(server.requests).toHaveLength(ROWS);
  reference = readFileSync(out, "utf8");
  referenceJournal = `${out}.journal`;
});
afterAll(() => server.close());

beforeEach(() => {
  server.reset();
  server.handle(personReply);
});

async function freshOut(): Promise<string> {
  return path.join(await mkdtemp(path.join(os.tmpdir(), "crash-run-")), "out.csv");
}

interface JournalLine {
  k: string;
  i: number;
  ok: boolean;
}

/** The journal's complete lines, each of which must parse; a torn last line (no newline) is allowed. */
function readJournal(file: string): { lines: JournalLine[]; torn: string } {
  if (!existsSync(file)) return { lines: [], torn: "" };
  const parts = readFileSync(file, "utf8").split("\n");
  const torn = parts.pop()!;
  const lines = parts.map((line, n) => {
    let entry: JournalLine;
    try {
      entry = JSON.parse(line);
    } catch {
      throw new Error(`${file} line ${n + 1} does not parse: ${line.slice(0, 80)}`);
    }
    expect(entry.k).toMatch(/^[0-9a-f]{32}$/);
    expect(Number.isInteger(entry.i)).toBe(true);
    return entry;
  });
  return { lines, torn };
}

/**
 * Runs the job and kills it with SIGKILL when the `killAt`-th request arrives (1-based). The
 * first `answered` requests get normal replies; every later one is held unanswered until the
 * child is dead, so no row beyond those can finish. `beforeKill` runs just before the signal.
 */
async function killedRun(out: string, answered: number, killAt: number, beforeKill?: () => Promise<void>) {
  let child: ChildProcess | undefined;
  let arrivals = 0;
  let release!: () => void;
  const dead = new Promise<void>((resolve) => (release = resolve));
  server.handle(async (request): Promise<Step> => {
    const n = ++arrivals;
    if (n <= answered) return personReply(request);
    if (n === killAt) {
      await beforeKill?.();
      child!.kill("SIGKILL");
    }
    await dead;
    return { drop: true };
  });
  const run = await runCli(args(out), { env, onSpawn: (spawned) => (child = spawned) });
  release();
  expect(run.signal).toBe("SIGKILL");
  expect(arrivals).toBeGreaterThanOrEqual(killAt);
  return run;
}

/** `--resume` after a crash: exit 0, exactly the rows the journal lacks are sent, same output as the reference. */
async function expectResumeCompletes(out: string, journaled: readonly JournalLine[]): Promise<void> {
  server.reset();
  server.handle(personReply);
  const resumed = await runCli(args(out, "--resume"), { env });
  expect(resumed.stderr).not.toMatch(/error/i);
  expect(resumed.code).toBe(0);
  const done = new Set(journaled.map((line) => line.i));
  const missing = Array.from({ length: ROWS }, (_, i) => i).filter((i) => !done.has(i));
  expect(server.requests).toHaveLength(ROWS - journaled.length);
  expect(server.requests.map((request) => Number(rowOf(request).id)).sort((a, b) => a - b)).toEqual(missing);
  expect(readFileSync(out, "utf8")).toBe(reference);
  // The journal is whole again: one parseable line per row.
  const after = readJournal(`${out}.journal`);
  expect(after.torn).toBe("");
  expect(new Set(after.lines.map((line) => line.i)).size).toBe(ROWS);
}

describe("kill -9, then --resume", () => {
  it("at the very first request, before any row finished", async () => {
    const out = await freshOut();
    await killedRun(out, 0, 1);
    const journal = `${out}.journal`;
    if (existsSync(journal)) expect(readFileSync(journal, "utf8")).toBe("");
    await expectResumeCompletes(out, []);
  });

  it("after a few rows", async () => {
    const out = await freshOut();
    const answered = 5;
    // Each answer frees a slot for the next request, which goes out before the answered row is
    // journaled: the kill waits for the answered rows' lines (what a later kill finds written).
    await killedRun(out, answered, answered + CONCURRENCY, () => untilJournalHas(`${out}.journal`, answered));
    const { lines, torn } = readJournal(`${out}.journal`);
    expect(torn).toBe("");
    expect(lines).toHaveLength(answered);
    await expectResumeCompletes(out, lines);
  });

  it("when all but the last request were answered, holding the last one's answer", async () => {
    const out = await freshOut();
    // No request follows the last one, so the journal itself shows when the other rows are done.
    await killedRun(out, ROWS - 1, ROWS, () => untilJournalHas(`${out}.journal`, ROWS - 1));
    const { lines } = readJournal(`${out}.journal`);
    expect(lines).toHaveLength(ROWS - 1);
    await expectResumeCompletes(out, lines);
  });
});

describe("a damaged journal", () => {
  const journalLines = () => readFileSync(referenceJournal, "utf8").trimEnd().split("\n");

  it("with a torn last line (a kill mid-write): --resume re-sends the torn row and the rows not journaled, nothing else", async () => {
    const out = await freshOut();
    const lines = journalLines();
    const kept = lines.slice(0, -3);
    const torn = lines.at(-3)!;
    writeFileSync(`${out}.journal`, `${kept.join("\n")}\n${torn.slice(0, Math.floor(torn.length / 2))}`);
    expect(readJournal(`${out}.journal`).torn).not.toBe("");
    await expectResumeCompletes(out, readJournal(`${out}.journal`).lines);
    expect(server.requests).toHaveLength(3);
  });

  it("with garbage lines in the middle: --resume loses no row and re-sends only the rows whose lines are damaged", async () => {
    // Today's behaviour (src/journal.ts): a line that does not start with a key is skipped and a
    // line that does not parse is treated as missing, silently; the rows are simply done again.
    const out = await freshOut();
    const lines = journalLines();
    const damaged = [lines[4]!, lines[8]!].map((line) => JSON.parse(line) as JournalLine);
    const edited = [...lines];
    edited[4] = "this is not JSON {{{";
    // Keeps its key, no longer parses (the damage is in the line's tail: its first ~80 bytes are
    // the key, the fingerprint tag and `ok`, a string and fields whose damage may still parse).
    edited[8] = `${lines[8]!.slice(0, -20)}#garbage#${lines[8]!.slice(-5)}`;
    edited.splice(12, 0, '\u0000\u0001 not a journal line "}\\');
    writeFileSync(`${out}.journal`, `${edited.join("\n")}\n`);

    server.reset();
    server.handle(personReply);
    const resumed = await runCli(args(out, "--resume"), { env });
    expect(resumed.code).toBe(0);
    expect(server.requests.map((request) => Number(rowOf(request).id)).sort((a, b) => a - b)).toEqual(damaged.map((line) => line.i).sort((a, b) => a - b));
    expect(readFileSync(out, "utf8")).toBe(reference);
  });
});
