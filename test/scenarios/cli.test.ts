import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jsonReply, startChatServer, type ChatServer, type RecordedRequest, rowOf } from "../servers/chat-server.js";
import { repoRoot, runCli, readCsv } from "../helpers/run-cli.js";

const fixtures = path.join(repoRoot, "test/fixtures/schemas");
let server: ChatServer;
let dir: string;

beforeEach(async () => {
  server = await startChatServer();
  server.handle((request) => personReply(request));
  dir = await mkdtemp(path.join(os.tmpdir(), "cli-"));
});
afterEach(() => server.close());

/** A valid reply for the `person` fixture schema, derived from the row so output can be checked. */
function personReply(request: RecordedRequest) {
  const row = rowOf(request);
  return jsonReply({ name: (row.text ?? "").toUpperCase(), age: row.id === undefined ? null : Number(row.id) });
}

function writeCsv(name: string, text: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const people = (n: number) => `id,text\n${Array.from({ length: n }, (_, i) => `${i},person ${i}`).join("\n")}\n`;
const base = () => ["--schema", "person", "--base-url", server.url, "--api-key", "sk-cli-test-1234"];
const env = { EXTRACT_SCHEMAS_DIR: fixtures, EXTRACT_MODEL: "test-model" };

describe("extract CLI: output", () => {
  it("writes the input columns, one column per schema leaf, _ungrounded and _error, in input order", async () => {
    let seed = 7;
    server.handle(async (request) => {
      seed = (seed * 48_271) % 2_147_483_647;
      await new Promise((resolve) => setTimeout(resolve, seed % 25));
      return personReply(request);
    });
    const input = writeCsv("in.csv", people(40));
    const out = path.join(dir, "out.csv");
    const run = await runCli([input, ...base(), "-o", out, "-c", "8"], { env });

    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    const lines = readFileSync(out, "utf8").split("\n");
    expect(lines[0]).toBe("id,text,name,age,_ungrounded,_error");
    const rows = readCsv(out);
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(rows[5]).toEqual({ id: "5", text: "person 5", name: "PERSON 5", age: "5", _ungrounded: "", _error: "" });
    expect(server.requests).toHaveLength(40);
  });

  it("runs an example CSV with a shipped schema: dotted nested columns and JSON arrays", async () => {
    server.handle((request) => {
      const row = rowOf(request);
      return jsonReply({
        contact: { name: null, email: `${row.ticket_id}@example.com`, company: null },
        product: null,
        category: "other",
        sentiment: "neutral",
        urgency: "low",
        order_id: null,
        order_items: [{ sku: null, name: "widget", quantity: 2 }],
        summary: `Ticket ${row.ticket_id}`,
        requested_action: null,
      });
    });
    const out = path.join(dir, "tickets.out.csv");
    const run = await runCli(["examples/tickets.csv", "--schema", "ticket", "--base-url", server.url, "-o", out]);

    expect(run.code).toBe(0);
    const rows = readCsv(out);
    const source = parse(readFileSync(path.join(repoRoot, "examples/tickets.csv")), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(source.length);
    expect(Object.keys(rows[0]!)).toEqual([
      ...Object.keys(source[0]!),
      "contact.name",
      "contact.email",
      "contact.company",
      "product",
      "category",
      "sentiment",
      "urgency",
      "order_id",
      "order_items",
      "summary",
      "requested_action",
      "_ungrounded",
      "_error",
    ]);
    rows.forEach((row, i) => {
      // Multi-line cells survive the round trip; a cell starting with @ gets the formula guard.
      expect(row.body).toBe(/^[=+\-@]/.test(source[i]!.body!) ? `'${source[i]!.body}` : source[i]!.body);
      expect(row["contact.email"]).toBe(`${source[i]!.ticket_id}@example.com`);
      expect(JSON.parse(row.order_items!)).toEqual([{ sku: null, name: "widget", quantity: 2 }]);
      // The invented email and item name are in no column; the enums are not looked for.
      expect(row._ungrounded!.split(",")).toEqual(expect.arrayContaining(["contact.email", "order_items[0].name"]));
      expect(row._ungrounded).not.toMatch(/category|sentiment|urgency/);
    });
  });

  it("marks failed rows with _error, keeps them in the output and exits 1", async () => {
    server.handle((request) => (rowOf(request).id === "2" ? { reply: null, refusal: "No." } : personReply(request)));
    const out = path.join(dir, "out.csv");
    const run = await runCli([writeCsv("in.csv", people(4)), ...base(), "-o", out], { env });

    expect(run.code).toBe(1);
    const rows = readCsv(out);
    expect(rows.map((row) => row._error)).toEqual(["", "", "REFUSED: The model refused: No.", ""]);
    expect(rows[2]).toMatchObject({ id: "2", name: "", age: "" });
    expect(run.stderr).toMatch(/4 rows: 3 ok, 1 failed/);
  });

  it("writes JSONL when -o ends in .jsonl", async () => {
    const out = path.join(dir, "out.jsonl");
    const run = await runCli([writeCsv("in.csv", people(2)), ...base(), "-o", out], { env });
    expect(run.code).toBe(0);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(lines[1]).toMatchObject({ index: 1, input: { id: "1", text: "person 1" }, data: { name: "PERSON 1", age: 1 }, error: null, attempts: 1 });
  });

  it("writes where each value sits in the input on each JSONL line (spans in code points) and what is nowhere", async () => {
    server.handle(() => jsonReply({ name: "Zoë", age: 99 }));
    const out = path.join(dir, "out.jsonl");
    const run = await runCli([writeCsv("in.csv", "id,text\n1,👋 hi Zoë\n"), ...base(), "-o", out], { env });
    expect(run.code).toBe(0);
    const [line] = readFileSync(out, "utf8").trimEnd().split("\n").map((text) => JSON.parse(text));
    expect(line).toMatchObject({
      spans: [{ path: "name", column: "text", start: 5, end: 8, match: "exact" }],
      ungrounded: ["age"],
    });
  });

  it("--no-grounding writes the output without _ungrounded, spans or ungrounded", async () => {
    const csv = path.join(dir, "out.csv");
    const jsonl = path.join(dir, "out.jsonl");
    const input = writeCsv("in.csv", people(2));
    expect((await runCli([input, ...base(), "-o", csv, "--no-grounding"], { env })).code).toBe(0);
    expect((await runCli([input, ...base(), "-o", jsonl, "--no-grounding"], { env })).code).toBe(0);
    expect(readFileSync(csv, "utf8").split("\n")[0]).toBe("id,text,name,age,_error");
    const lines = readFileSync(jsonl, "utf8").trimEnd().split("\n").map((text) => JSON.parse(text));
    expect(Object.keys(lines[0])).toEqual(["index", "input", "data", "error", "attempts", "usage", "repaired", "coerced"]);
  });

  it("reads stdin (-) and writes CSV to stdout, messages only on stderr", async () => {
    const run = await runCli(["-", ...base()], { env, stdin: people(3) });
    expect(run.code).toBe(0);
    expect(parse(run.stdout, { columns: true })).toHaveLength(3);
    expect(run.stderr).toMatch(/3 rows: 3 ok/);
  });

  it("writes one output per input with -o DIR/", async () => {
    const a = writeCsv("a.csv", people(2));
    const b = writeCsv("b.csv", people(3));
    const run = await runCli([a, b, ...base(), "-o", path.join(dir, "out") + "/"], { env });
    expect(run.code).toBe(0);
    expect((await readdir(path.join(dir, "out"))).filter((f) => f.endsWith(".csv")).sort()).toEqual(["a.csv", "b.csv"]);
    expect(readCsv(path.join(dir, "out/b.csv"))).toHaveLength(3);
  });

  it("sends only --columns to the model but writes every input column", async () => {
    const out = path.join(dir, "out.csv");
    const run = await runCli([writeCsv("in.csv", "id,text,secret\n1,ana,hunter2\n"), ...base(), "--columns", "text", "-o", out], { env });
    expect(run.code).toBe(0);
    expect(rowOf(server.requests[0]!)).toEqual({ text: "ana" });
    expect(readCsv(out)[0]).toMatchObject({ secret: "hunter2", name: "ANA" });
  });
});

describe("extract CLI: what users' files look like", () => {
  it("copes with a UTF-8 BOM, CRLF line ends and quoted newlines", async () => {
    const text = '\uFEFFid,text\r\n1,"two\r\nlines, and ""quotes"""\r\n2,plain\r\n';
    const out = path.join(dir, "out.csv");
    const run = await runCli([writeCsv("in.csv", text), ...base(), "-o", out], { env });
    expect(run.code).toBe(0);
    expect(rowOf(server.requests.find((r) => rowOf(r).id === "1")!)).toEqual({ id: "1", text: 'two\r\nlines, and "quotes"' });
    const rows = readCsv(out);
    expect(Object.keys(rows[0]!)[0]).toBe("id");
    expect(rows.map((row) => row.id)).toEqual(["1", "2"]);
  });

  it("writes a header-only output for a header-only input, and exits 0", async () => {
    const out = path.join(dir, "out.csv");
    const run = await runCli([writeCsv("in.csv", "id,text\n"), ...base(), "-o", out], { env });
    expect(run.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("id,text,name,age,_ungrounded,_error\n");
    expect(server.requests).toHaveLength(0);
  });
});

describe("extract CLI: exit code 2, nothing sent", () => {
  it.each([
    ["no API key and no base URL", ["--schema", "person"], /MISSING_API_KEY/],
    ["an unknown schema, listing the ones there are", ["--schema", "nope", "--base-url", "URL"], /SCHEMA_NOT_FOUND.*Available schemas: .*person/],
    ["a bad flag value", [...["--schema", "person", "--base-url", "URL"], "--concurrency", "0"], /--concurrency.*got 0/],
    ["a non-numeric flag value", [...["--schema", "person", "--base-url", "URL"], "--max-attempts", "lots"], /--max-attempts expects a whole number/],
    ["an unknown column", [...["--schema", "person", "--base-url", "URL"], "--columns", "txet"], /COLUMN_NOT_FOUND.*Available columns: id, text/],
    ["an unknown flag", [...["--schema", "person", "--base-url", "URL"], "--frobnicate"], /frobnicate/],
  ])("for %s", async (_, flags, message) => {
    const input = writeCsv("in.csv", people(2));
    const args = flags.map((flag) => (flag === "URL" ? server.url : flag));
    const run = await runCli([input, ...args, "-o", path.join(dir, "out.csv")], { env });
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(server.requests).toHaveLength(0);
  });

  it("for an unreadable input file", async () => {
    const run = await runCli([path.join(dir, "missing.csv"), ...base()], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/INPUT_UNREADABLE.*missing\.csv/);
  });

  it("for an output that would overwrite the input", async () => {
    const input = writeCsv("in.csv", people(1));
    const run = await runCli([input, ...base(), "-o", input], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is the input file: writing it would destroy the input\. Choose another --out\./);
    expect(readFileSync(input, "utf8")).toBe(people(1));
  });

  it("never prints the API key, even when the server echoes it", async () => {
    server.handle(() => ({ status: 401, error: { message: "Incorrect API key provided: sk-cli-test-1234." } }));
    const run = await runCli([writeCsv("in.csv", people(3)), ...base(), "-o", path.join(dir, "out.csv")], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/AUTH_FAILED/);
    expect(run.stderr + run.stdout).not.toContain("sk-cli-test");
  });
});

describe("extract CLI: command-line mistakes", () => {
  it("prints the usage on stderr and exits 2 when run with no arguments at all", async () => {
    const run = await runCli([], { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^Usage: extract <input\.csv/);
    expect(run.stderr).toContain("--max-tokens-cap <n>");
    expect(run.stderr).not.toMatch(/Missing --schema/);
  });

  it("suggests the closest flag for a typo, in place of node's parseArgs message", async () => {
    const run = await runCli([writeCsv("in.csv", people(1)), ...base(), "--concurency", "3"], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("extract: INVALID_OPTION: Unknown flag --concurency. Did you mean --concurrency? Run extract --help for the flags.\n");
    expect(server.requests).toHaveLength(0);
  });

  it("suggests nothing when no flag is close", async () => {
    const run = await runCli([writeCsv("in.csv", people(1)), ...base(), "--frobnicate"], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown flag --frobnicate\. Run extract --help/);
    expect(run.stderr).not.toMatch(/Did you mean|To specify a positional argument/);
  });

  it("says which flag needs a value", async () => {
    const last = await runCli([writeCsv("in.csv", people(1)), "--schema"], { env });
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/INVALID_OPTION: --schema needs a value: --schema <name\|path>\./);
    const beforeFlag = await runCli([writeCsv("in.csv", people(1)), "--schema", "person", "-o", "--resume"], { env });
    expect(beforeFlag.code).toBe(2);
    expect(beforeFlag.stderr).toMatch(/INVALID_OPTION: -o needs a value, but --resume follows it: -o <file\|dir\/>/);
  });

  it("names the flag where a fatal library error names the option", async () => {
    const run = await runCli([writeCsv("in.csv", people(1)), "--schema", "optional-field", "--mode", "json_schema", "--dry-run"], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SCHEMA_INVALID: .*\(--mode json_schema\).*Or run with --mode json_object \(or tools\)/);
    expect(run.stderr).not.toMatch(/`mode`/);
  });

  it("keeps the library's option names in _error cells, which are data", async () => {
    const out = path.join(dir, "out.csv");
    const input = writeCsv("in.csv", `id,text\n1,${"word ".repeat(300)}\n`);
    const run = await runCli([input, ...base(), "--max-input-tokens", "50", "-o", out], { env });
    expect(run.code).toBe(1);
    expect(readCsv(out)[0]!._error).toMatch(/^INPUT_TOO_LARGE: .*over `maxInputTokens` 50\..*raise `maxInputTokens`\.$/);
    expect(server.requests).toHaveLength(0);
  });
});

describe("extract CLI: --dry-run", () => {
  it("prints the first row's exact messages and an estimate, and makes no request", async () => {
    const run = await runCli([writeCsv("in.csv", people(5)), "--schema", "person", "--dry-run", "-m", "gpt-4o-mini"], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('{"id":"0","text":"person 0"}');
    expect(run.stdout).toMatch(/JSON Schema/);
    expect(run.stdout).toMatch(/Rows:\s+5\n/);
    expect(run.stdout).toMatch(/Prompt tokens:\s+\d+/);
    expect(run.stdout).toMatch(/Estimated cost:\s+\$[\d.]+ – \$[\d.]+/);
    expect(server.requests).toHaveLength(0);
  });
});

describe("extract CLI: resume", () => {
  it("after kill -9 mid-run, --resume sends only unfinished rows and writes the same output", async () => {
    const rows = 60;
    const input = writeCsv("in.csv", people(rows));
    const reference = path.join(dir, "reference.csv");
    expect((await runCli([input, ...base(), "-o", reference], { env })).code).toBe(0);

    server.reset();
    let answered = 0;
    let kill: (() => void) | undefined;
    server.handle(async (request) => {
      if (++answered === 25) kill?.();
      // Slow after the kill, so that a loaded machine cannot finish the run before the signal lands.
      await new Promise((resolve) => setTimeout(resolve, answered >= 25 ? 200 : 5));
      return personReply(request);
    });
    const out = path.join(dir, "out.csv");
    const killed = await runCli([input, ...base(), "-o", out, "-c", "4"], {
      env,
      onSpawn: (child) => (kill = () => child.kill("SIGKILL")),
    });
    expect(killed.signal).toBe("SIGKILL");
    const journaled = readFileSync(`${out}.journal`, "utf8").split("\n").filter((line) => line.endsWith("}")).length;
    expect(journaled).toBeGreaterThan(0);
    expect(journaled).toBeLessThan(rows);

    server.reset();
    server.handle((request) => personReply(request));
    const resumed = await runCli([input, ...base(), "-o", out, "-c", "4", "--resume"], { env });
    expect(resumed.code).toBe(0);
    expect(server.requests).toHaveLength(rows - journaled);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(reference, "utf8"));
  });

  it("stops gently on Ctrl-C, exits 130 with a resume hint, and --resume finishes the job", async () => {
    const rows = 40;
    const input = writeCsv("in.csv", people(rows));
    let interrupt: (() => void) | undefined;
    let answered = 0;
    server.handle(async (request) => {
      if (++answered === 10) interrupt?.();
      // Slow after Ctrl-C, so that a loaded machine cannot finish the run before the signal lands.
      await new Promise((resolve) => setTimeout(resolve, answered >= 10 ? 200 : 5));
      return personReply(request);
    });
    const out = path.join(dir, "out.csv");
    const stopped = await runCli([input, ...base(), "-o", out, "-c", "2"], {
      env,
      onSpawn: (child) => (interrupt = () => child.kill("SIGINT")),
    });
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/--resume/);
    const partial = readCsv(out);
    expect(partial.map((row) => row.id)).toEqual(partial.map((_, i) => String(i)));
    expect(partial.length).toBeLessThan(rows);

    const sent = server.requests.length;
    server.reset();
    server.handle((request) => personReply(request));
    const resumed = await runCli([input, ...base(), "-o", out, "--resume"], { env });
    expect(resumed.code).toBe(0);
    expect(readCsv(out)).toHaveLength(rows);
    expect(server.requests).toHaveLength(rows - sent);
  });
});
