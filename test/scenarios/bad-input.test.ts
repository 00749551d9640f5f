/**
 * Bad input through the built CLI: each problem ends in a clear error (exit code, error code,
 * file, line or field) and costs nothing that can be avoided. Unit coverage of the same errors
 * is in test/csv/read.test.ts and test/schema/load.test.ts; here the whole command is run.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsonReply, startChatServer, type ChatServer, rowOf } from "../servers/chat-server.js";
import { repoRoot, runCli, readCsv } from "../helpers/run-cli.js";

const fixtures = path.join(repoRoot, "test/fixtures/schemas");
const env = { EXTRACT_SCHEMAS_DIR: fixtures, EXTRACT_MODEL: "test-model" };
let server: ChatServer;
let dir: string;

beforeEach(async () => {
  server = await startChatServer();
  server.handle((request) => jsonReply({ name: rowOf(request).text ?? "", age: null }));
  dir = await mkdtemp(path.join(os.tmpdir(), "bad-input-"));
});
afterEach(() => server.close());

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function writeInput(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Complete journal lines, parsed. */
function journalRows(file: string): { i: number }[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => `${i},person ${i}`).join("\n");
const args = (input: string, out: string, ...more: string[]) => [input, "--schema", "person", "--base-url", server.url, "-o", out, "-c", "4", ...more];

/**
 * When the reader meets a bad spot after good rows, every row before it is still extracted,
 * written and journaled (the rows in flight finish, as on Ctrl-C); then the run ends with exit 2
 * and the error's file and line. Nothing at or after the bad line is sent. A --resume after
 * fixing the file sends only the rows that were not there before.
 */
async function expectStopsAtBadRow(input: string, good: number, error: RegExp, fixAndResume: boolean, ...flags: string[]): Promise<void> {
  const out = path.join(dir, "out.csv");
  const run = await runCli(args(input, out, ...flags), { env });
  expect(run.stderr).toMatch(error);
  expect(run.code).toBe(2);

  const every = Array.from({ length: good }, (_, i) => i);
  expect(server.requests.map((request) => Number(rowOf(request).id)).sort((a, b) => a - b)).toEqual(every);
  expect(readCsv(out).map((row) => Number(row.id))).toEqual(every);
  const journaled = journalRows(`${out}.journal`).map((line) => line.i);
  expect(journaled.sort((a, b) => a - b)).toEqual(every);

  if (!fixAndResume) return;
  // Fixed file: the rows journaled before the error are not sent again.
  writeFileSync(input, `id,text\n${lines(good + 2)}\n`);
  server.reset();
  const resumed = await runCli(args(input, out, "--resume"), { env });
  expect(resumed.code).toBe(0);
  expect(server.requests).toHaveLength(good + 2 - new Set(journaled).size);
  expect(readCsv(out).map((row) => row.id)).toEqual(Array.from({ length: good + 2 }, (_, i) => String(i)));
}

describe("a malformed CSV with --strict", () => {
  it("with an unterminated quote names the file and the line where the quote opened; nothing at or after it is sent", async () => {
    const good = 40;
    const input = writeInput("in.csv", `id,text\n${lines(good)}\n${good},"never closed\n${good + 1},after\n`);
    // Line 1 is the header, so the row with the open quote is on line good + 2.
    await expectStopsAtBadRow(input, good, new RegExp(`CSV_MALFORMED: ${escape(input)} line ${good + 2}: a quote opened in the row starting here is never closed`), true, "--strict");
  });

  it("with a ragged row stops there with exit 2, after writing the rows before it", async () => {
    const good = 40;
    const input = writeInput("in.csv", `id,text\n${lines(good)}\n${good},a,b\n${good + 1},after\n`);
    // The CLI renders the option `strict` as --strict once option names are rendered as flags (helper "messages").
    await expectStopsAtBadRow(input, good, new RegExp(`CSV_MALFORMED: ${escape(input)} line ${good + 2}: 3 fields, but the header has 2\\. .*leave out (--strict|\`strict\`)`), true, "--strict");
  });

  it("with an unterminated quote near the start stops before anything is written", async () => {
    const input = writeInput("in.csv", 'id,text\n0,"never closed\n1,b\n2,c\n');
    const out = path.join(dir, "out.csv");
    const run = await runCli(args(input, out, "--strict"), { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`CSV_MALFORMED: ${escape(input)} line 2: `));
    expect(server.requests).toHaveLength(0);
    expect(readFileSync(out, "utf8")).toBe("id,text,name,age,_ungrounded,_error\n");
  });
});

describe("a malformed CSV by default: the bad row fails alone, every other row is processed, exit 1", () => {
  const good = 40;
  const ids = (rows: { id?: string }[]) => rows.map((row) => row.id);
  const sentIds = () => server.requests.map((request) => Number(rowOf(request).id)).sort((a, b) => a - b);

  it("a ragged row in the middle, CSV output", async () => {
    const input = writeInput("in.csv", `id,text\n${lines(good)}\n${good},a,b\n${lines(good + 10).split("\n").slice(good + 1).join("\n")}\n`);
    const out = path.join(dir, "out.csv");
    const run = await runCli(args(input, out), { env });
    expect(run.code).toBe(1);
    const rows = readCsv(out);
    expect(ids(rows)).toEqual(Array.from({ length: good + 10 }, (_, i) => String(i)));
    const bad = rows[good]!;
    expect(bad._error).toMatch(new RegExp(`^CSV_MALFORMED: line ${good + 2}: 3 fields, but the header has 2 \\(in ${escape(input)}\\)\\. Fix the row`));
    expect(bad.text).toBe("a"); // the fields there were, on the first columns
    expect(rows.filter((row) => row._error !== "")).toEqual([bad]);
    // Every other row was sent once; the bad one never.
    expect(sentIds()).toEqual(Array.from({ length: good + 10 }, (_, i) => i).filter((i) => i !== good));
  });

  it("a ragged row in the middle, JSONL output", async () => {
    const input = writeInput("in.csv", `id,text\n${lines(good)}\n${good}\n${good + 1},after\n`);
    const out = path.join(dir, "out.jsonl");
    const run = await runCli(args(input, out), { env });
    expect(run.code).toBe(1);
    const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(rows.map((row) => row.index)).toEqual(Array.from({ length: good + 2 }, (_, i) => i));
    expect(rows[good]).toMatchObject({ input: { id: String(good) }, data: null, error: { code: "CSV_MALFORMED" }, attempts: 0 });
    expect(rows[good].error.message).toMatch(new RegExp(`^line ${good + 2}: 1 field, but the header has 2`));
    expect(rows[good + 1]).toMatchObject({ input: { id: String(good + 1), text: "after" }, error: null });
  });

  it("the deprecated --skip-bad-rows is still accepted and changes nothing", async () => {
    const input = writeInput("in.csv", `id,text\n0,a\n1\n2,c\n`);
    const out = path.join(dir, "out.csv");
    const run = await runCli(args(input, out, "--skip-bad-rows"), { env });
    expect(run.code).toBe(1);
    expect(readCsv(out).map((row) => [row.id, row._error?.slice(0, 22)])).toEqual([
      ["0", ""],
      ["1", "CSV_MALFORMED: line 3:"],
      ["2", ""],
    ]);
  });

  it("an unterminated quote: its row fails, saying how many lines it swallowed, and those lines are read again as rows", async () => {
    const input = writeInput("in.csv", `id,text\n${lines(good)}\n${good},"never closed\n${good + 1},after\n${good + 2},last\n`);
    const out = path.join(dir, "out.csv");
    const run = await runCli(args(input, out), { env });
    expect(run.code).toBe(1);
    const rows = readCsv(out);
    expect(ids(rows)).toEqual([...Array.from({ length: good }, (_, i) => String(i)), `${good},"never closed`, String(good + 1), String(good + 2)]);
    expect(rows[good]!._error).toMatch(
      new RegExp(`^CSV_MALFORMED: line ${good + 2}: an opening quote in this row is never closed; it swallowed the 2 lines to the end of the file, which were read again as rows`),
    );
    expect(rows.slice(good + 1)).toMatchObject([
      { text: "after", name: "after", _error: "" },
      { text: "last", name: "last", _error: "" },
    ]);
    expect(sentIds()).toEqual([...Array.from({ length: good }, (_, i) => i), good + 1, good + 2]);
  });
});

describe("invalid UTF-8", () => {
  const latin1Cafe = (before: string) => Buffer.concat([Buffer.from(`${before}caf`), Buffer.from([0xe9]), Buffer.from(" au lait\n")]);
  const noMojibake = () => {
    for (const request of server.requests) {
      const body = JSON.stringify(request.body);
      expect(body).not.toContain("\uFFFD");
      expect(body).not.toContain("\\ufffd");
      expect(body).not.toContain("Ã");
      expect(body).not.toContain("caf");
    }
  };

  it("in a data row: INVALID_ENCODING names the file and line; no replacement character or mojibake is ever sent", async () => {
    const good = 40;
    const input = writeInput("in.csv", Buffer.concat([latin1Cafe(`id,text\n${lines(good)}\n${good},`), Buffer.from(`${good + 1},after\n`)]));
    await expectStopsAtBadRow(input, good, new RegExp(`INVALID_ENCODING: ${escape(input)} line ${good + 2} is not valid UTF-8 \\(byte 0xE9 `), false);
    noMojibake();
  });

  it("in the header: exit 2, nothing sent", async () => {
    const input = writeInput("in.csv", Buffer.concat([latin1Cafe("id,"), Buffer.from("1,x\n")]));
    const run = await runCli(args(input, path.join(dir, "out.csv")), { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`INVALID_ENCODING: ${escape(input)} line 1 is not valid UTF-8`));
    expect(server.requests).toHaveLength(0);
  });
});

describe("a bad schema: exit 2, nothing sent", () => {
  it("that throws on import: SCHEMA_LOAD_FAILED with the file and the line that threw", async () => {
    const input = writeInput("in.csv", `id,text\n${lines(3)}\n`);
    const schema = path.join(fixtures, "throws-on-import.ts");
    const run = await runCli([input, "--schema", schema, "--base-url", server.url, "-o", path.join(dir, "out.csv")], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`SCHEMA_LOAD_FAILED: Schema file ${escape(schema)}:4:\\d+ failed to load`));
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(server.requests).toHaveLength(0);
  });

  it("that JSON Schema cannot express: SCHEMA_INVALID naming the field", async () => {
    const input = writeInput("in.csv", `id,text\n${lines(3)}\n`);
    const run = await runCli([input, "--schema", "unrepresentable", "--base-url", server.url, "-o", path.join(dir, "out.csv")], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SCHEMA_INVALID: .*field `address\.since` cannot be expressed as JSON Schema/);
    expect(server.requests).toHaveLength(0);
  });

  it("that JSON Schema cannot express: SCHEMA_INVALID also names the schema file", async () => {
    // The schema was given by name; the message must say which file holds the field.
    const input = writeInput("in.csv", `id,text\n${lines(3)}\n`);
    const run = await runCli([input, "--schema", "unrepresentable", "--base-url", server.url, "-o", path.join(dir, "out.csv")], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SCHEMA_INVALID: /);
    expect(run.stderr).toContain(path.join(fixtures, "unrepresentable.ts"));
  });
});

describe("an output that cannot be written: exit 2, OUTPUT_UNWRITABLE naming the path, nothing sent", () => {
  it.each([
    ["in a folder that does not exist", () => "/nonexistent-dir/x/out.csv"],
    ["under a regular file, as if it were a folder", () => path.join(writeInput("plain-file", "x"), "out.csv")],
    ["as an output folder (DIR/) under a regular file", () => `${path.join(writeInput("plain-file", "x"), "sub")}/`],
  ])("%s", async (_, outPath) => {
    const input = writeInput("in.csv", `id,text\n${lines(3)}\n`);
    const out = outPath();
    const run = await runCli(args(input, out), { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^extract: OUTPUT_UNWRITABLE: /);
    expect(run.stderr).toContain(out.replace(/\/$/, ""));
    expect(server.requests).toHaveLength(0);
  });

  it("when the journal next to the output cannot be created", async () => {
    const input = writeInput("in.csv", `id,text\n${lines(3)}\n`);
    const out = path.join(dir, "out.csv");
    mkdirSync(`${out}.journal`); // a folder where the journal file should go
    const run = await runCli(args(input, out), { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^extract: OUTPUT_UNWRITABLE: .*${escape(`${out}.journal`)}`));
    expect(server.requests).toHaveLength(0);
  });
});

describe("a huge cell", () => {
  it("does not crash anything: the run finishes with every row in the output", async () => {
    const huge = "word ".repeat(40_000); // 200 KB
    const input = writeInput("in.csv", `id,text\n0,small\n1,"${huge}"\n2,after\n`);
    const out = path.join(dir, "out.csv");
    const run = await runCli(args(input, out), { env });
    expect(run.signal).toBeNull();
    expect([0, 1]).toContain(run.code);
    expect(run.stderr).not.toMatch(/internal error/);
    const rows = readCsv(out);
    expect(rows.map((row) => row.id)).toEqual(["0", "1", "2"]);
    expect(rows[1]!.text).toBe(huge);
    expect(rows[0]).toMatchObject({ name: "small", _error: "" });
    expect(rows[2]).toMatchObject({ name: "after", _error: "" });
  });
});
