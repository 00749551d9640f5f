import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "csv-parse/sync";
import { afterAll, describe, expect, it } from "vitest";
import { leafColumns, type LeafColumn } from "../../../src/schema/columns.ts";
import { createOutputWriter, type OutputOptions, type OutputRow } from "../../../src/io/output/write.ts";
import { ExtractError } from "../../../src/errors/extract-error.ts";
import { toPromptJsonSchema } from "../../../src/schema/json-schema.ts";
import ticket from "../../../schemas/ticket.ts";

/** A Writable that keeps what it is given, as text. */
class MemorySink extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString("utf8");
    callback();
  }
}

const usage = { prompt_tokens: 120, completion_tokens: 40 };
const okRow = (index: number, input: Record<string, string>, data: unknown): OutputRow => ({ index, input, data, attempts: 1, usage });
const failedRow = (index: number, input: Record<string, string>): OutputRow => ({
  index,
  input,
  error: { code: "SCHEMA_MISMATCH", message: "$.urgency: Invalid option" },
  attempts: 3,
  usage,
});

async function writeAll(rows: OutputRow[], options: OutputOptions) {
  const sink = new MemorySink();
  const writer = createOutputWriter(sink, options);
  for (const row of rows) await writer.write(row);
  await writer.close();
  return { text: sink.text, header: writer.header };
}

const leaf = (name: string, json = false): LeafColumn => ({ name, path: name.split("."), json });
const csvOptions = (inputColumns: string[], leaves: LeafColumn[], extra: Partial<OutputOptions> = {}): OutputOptions => ({
  format: "csv",
  inputColumns,
  leaves,
  ...extra,
});

describe("CSV output", () => {
  const ticketLeaves = leafColumns(toPromptJsonSchema(ticket));
  const ticketData = {
    contact: { name: "Ana García", email: "ana@acme.example", company: null },
    product: "Nimbus Thermostat T3",
    category: "shipping",
    sentiment: "negative",
    urgency: "high",
    order_id: "A-20417",
    order_items: [{ sku: null, name: "Thermostat", quantity: 2 }],
    summary: 'Arrived "broken", wants a replacement, fast.\nSecond line ✓',
    requested_action: "replace item",
  };

  it("writes input columns, flattened leaves and _error, and reads back the same cells", async () => {
    const input = { id: "7", text: 'Hi, "Ana" here,\r\nmy order 🧯 arrived broken' };
    const { text, header } = await writeAll([okRow(0, input, ticketData), failedRow(1, { id: "8", text: "?" })], csvOptions(["id", "text"], ticketLeaves));
    expect(header).toEqual(["id", "text", ...ticketLeaves.map((leaf) => leaf.name), "_error"]);
    const records = parse(text) as string[][];
    expect(records).toEqual([
      header,
      [
        "7",
        input.text,
        "Ana García",
        "ana@acme.example",
        "",
        "Nimbus Thermostat T3",
        "shipping",
        "negative",
        "high",
        "A-20417",
        '[{"sku":null,"name":"Thermostat","quantity":2}]',
        ticketData.summary,
        "replace item",
        "",
      ],
      ["8", "?", ...ticketLeaves.map(() => ""), "SCHEMA_MISMATCH: $.urgency: Invalid option"],
    ]);
  });

  it('uses RFC 4180 quoting, "\\n" between records and no BOM', async () => {
    const { text } = await writeAll([okRow(0, { a: 'say "hi", ok' }, { b: "line\nbreak", c: "cr\ronly" })], csvOptions(["a"], [leaf("b"), leaf("c")]));
    expect(text).toBe('a,b,c,_error\n"say ""hi"", ok","line\nbreak","cr\ronly",\n');
  });

  it("writes a header-only file when there are no rows", async () => {
    const { text } = await writeAll([], csvOptions(["id"], [leaf("x")]));
    expect(text).toBe("id,x,_error\n");
  });

  it("renames an output column that collides with an input column to extracted.<name>", async () => {
    const inputColumns = ["summary", "_error", "extracted.urgency", "urgency"];
    const { text, header } = await writeAll(
      [okRow(0, { summary: "in", _error: "old", "extracted.urgency": "x", urgency: "y" }, { summary: "out", urgency: "high" })],
      csvOptions(inputColumns, [leaf("summary"), leaf("urgency")]),
    );
    expect(header).toEqual([...inputColumns, "extracted.summary", "extracted.extracted.urgency", "extracted._error"]);
    expect(parse(text)).toEqual([header, ["in", "old", "x", "y", "out", "high", ""]]);
  });

  it("keeps leaf names unique when a property name contains a dot", async () => {
    const leaves = [{ name: "a.b", path: ["a.b"], json: false }, leaf("a.b")];
    const { text, header } = await writeAll([okRow(0, {}, { "a.b": "flat", a: { b: "nested" } })], csvOptions([], leaves));
    expect(header).toEqual(["a.b", "extracted.a.b", "_error"]);
    expect(parse(text)).toEqual([header, ["flat", "nested", ""]]);
  });

  it("writes empty cells for a missing input column and a null parent object", async () => {
    const { text } = await writeAll([okRow(0, { id: "1" }, { contact: null })], csvOptions(["id", "note"], [leaf("contact.email")]));
    expect(parse(text)).toEqual([["id", "note", "contact.email", "_error"], ["1", "", "", ""]]);
  });
});

describe("formula-injection guard", () => {
  const attacks = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTAB", "\r=1", "＝1+1"];
  const numbers = ["-12.50", "-5", "+3.2", "-0.5e3", "42"];
  const cells = [...attacks, ...numbers];
  const leaves = cells.map((_, i) => leaf(`v${i}`));
  const data = Object.fromEntries(cells.map((cell, i) => [`v${i}`, cell]));

  it("prefixes formula-like cells with ' (input cells too) and leaves plain numbers alone", async () => {
    const { text } = await writeAll([okRow(0, { note: "=1+1" }, data)], csvOptions(["note"], leaves));
    const [, record] = parse(text) as string[][];
    expect(record).toEqual(["'=1+1", ...attacks.map((cell) => `'${cell}`), ...numbers, ""]);
  });

  it("guards header cells taken from the input", async () => {
    const { header } = await writeAll([], csvOptions(["=cmd()", "id"], []));
    expect(header).toEqual(["'=cmd()", "id", "_error"]);
  });

  it("leaves every cell untouched with formulaGuard: false", async () => {
    const { text } = await writeAll([okRow(0, { note: "=1+1" }, data)], csvOptions(["note"], leaves, { formulaGuard: false }));
    const [, record] = parse(text) as string[][];
    expect(record).toEqual(["=1+1", ...cells, ""]);
  });
});

describe("JSONL output", () => {
  it("writes one JSON object per row, in a fixed key order, without the guard", async () => {
    const rows: OutputRow[] = [
      { ...okRow(0, { text: "=1+1" }, { total: -12.5, items: [] }), usage: { completion_tokens: 2, prompt_tokens: 1 } },
      { ...failedRow(1, { text: "?" }), error: Object.assign(new ExtractError("REFUSED", "The model refused."), { row: 1 }) },
    ];
    const { text, header } = await writeAll(rows, { format: "jsonl", inputColumns: ["text"], leaves: [] });
    expect(header).toEqual([]);
    expect(text.split("\n")).toEqual([
      '{"index":0,"input":{"text":"=1+1"},"data":{"total":-12.5,"items":[]},"error":null,"attempts":1,"usage":{"prompt_tokens":1,"completion_tokens":2}}',
      '{"index":1,"input":{"text":"?"},"data":null,"error":{"code":"REFUSED","message":"The model refused."},"attempts":3,"usage":{"prompt_tokens":120,"completion_tokens":40}}',
      "",
    ]);
  });
});

describe("JSONL output of repairs", () => {
  it("says whether the accepted reply needed a local repair, when the row says", async () => {
    const rows: OutputRow[] = [{ ...okRow(0, { text: "a" }, { n: 1 }), repaired: true }, { ...okRow(1, { text: "b" }, { n: 2 }), repaired: false }];
    const { text } = await writeAll(rows, { format: "jsonl", inputColumns: ["text"], leaves: [] });
    expect(text.trimEnd().split("\n").map((line) => JSON.parse(line).repaired)).toEqual([true, false]);
  });

  it("lists the fields whose loose values were coerced, when the row says", async () => {
    const rows: OutputRow[] = [{ ...okRow(0, { text: "a" }, { n: 1 }), coerced: ["n"] }, { ...okRow(1, { text: "b" }, { n: 2 }), coerced: [] }, okRow(2, { text: "c" }, { n: 3 })];
    const { text } = await writeAll(rows, { format: "jsonl", inputColumns: ["text"], leaves: [] });
    expect(text.trimEnd().split("\n").map((line) => JSON.parse(line).coerced)).toEqual([["n"], [], undefined]);
  });
});

describe("grounding in the output", () => {
  const span = { path: "name", column: "text", start: 5, end: 8, match: "exact" as const };
  const grounded = (row: OutputRow): OutputRow => ({ ...row, spans: [span], ungrounded: ["age", "tags[1]"] });

  it("CSV: an _ungrounded column of comma-separated paths before _error, empty for failed rows", async () => {
    const rows = [grounded(okRow(0, { text: "I am Ana" }, { name: "Ana", age: 7 })), failedRow(1, { text: "?" })];
    const { text, header } = await writeAll(rows, csvOptions(["text"], [leaf("name"), leaf("age")], { grounding: true }));
    expect(header).toEqual(["text", "name", "age", "_ungrounded", "_error"]);
    expect(parse(text)).toEqual([
      header,
      ["I am Ana", "Ana", "7", "age,tags[1]", ""],
      ["?", "", "", "", "SCHEMA_MISMATCH: $.urgency: Invalid option"],
    ]);
  });

  it("CSV: renames _ungrounded when an input column has its name", async () => {
    const { header } = await writeAll([], csvOptions(["_ungrounded"], [], { grounding: true }));
    expect(header).toEqual(["_ungrounded", "extracted._ungrounded", "_error"]);
  });

  it("JSONL: spans and ungrounded after usage on every line, [] for failed rows", async () => {
    const rows = [grounded(okRow(0, { text: "I am Ana" }, { name: "Ana" })), failedRow(1, { text: "?" })];
    const { text } = await writeAll(rows, { format: "jsonl", inputColumns: ["text"], leaves: [], grounding: true });
    const [first, second] = text.split("\n").map((line) => (line ? JSON.parse(line) : undefined));
    expect(Object.keys(first)).toEqual(["index", "input", "data", "error", "attempts", "usage", "spans", "ungrounded"]);
    expect(first).toMatchObject({ spans: [span], ungrounded: ["age", "tags[1]"] });
    expect(second).toMatchObject({ error: { code: "SCHEMA_MISMATCH" }, spans: [], ungrounded: [] });
  });
});

describe("backpressure", () => {
  /** A destination with room for a few bytes only, that takes each chunk one turn of the event loop later. */
  class SlowSink extends Writable {
    chunks: string[] = [];
    constructor() {
      super({ highWaterMark: 64 });
    }
    override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
      setImmediate(() => {
        this.chunks.push(chunk.toString("utf8"));
        callback();
      });
    }
  }

  it.each(["csv", "jsonl"] as const)("%s: write() waits for 'drain' and every row arrives in order", async (format) => {
    const sink = new SlowSink();
    const writer = createOutputWriter(sink, { format, inputColumns: ["id"], leaves: [leaf("value")] });
    let waits = 0;
    for (let index = 0; index < 500; index++) {
      let settled = false;
      const written = writer.write(okRow(index, { id: String(index) }, { value: `row ${index} ${"x".repeat(40)}` })).then(() => {
        settled = true;
      });
      await Promise.resolve();
      if (!settled) waits++;
      await written;
    }
    await writer.close();
    expect(waits).toBeGreaterThan(0);
    const text = sink.chunks.join("");
    const ids =
      format === "csv"
        ? (parse(text, { columns: true }) as { id: string }[]).map((row) => row.id)
        : text.trim().split("\n").map((line) => (JSON.parse(line) as { input: { id: string } }).input.id);
    expect(ids).toEqual(Array.from({ length: 500 }, (_, index) => String(index)));
  });
});

describe("output errors", () => {
  let directory: string | undefined;
  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it.each(["csv", "jsonl"] as const)("%s: a failing destination rejects write() and close() with OUTPUT_UNWRITABLE", async (format) => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("disk quota exceeded"));
      },
    });
    const writer = createOutputWriter(broken, { format, inputColumns: ["id"], leaves: [leaf("x")] });
    await writer.write(okRow(0, { id: "1" }, { x: "a" })).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    const failure = { code: "OUTPUT_UNWRITABLE", message: expect.stringContaining("the output stream: disk quota exceeded") };
    await expect(writer.write(okRow(1, { id: "2" }, { x: "b" }))).rejects.toMatchObject(failure);
    await expect(writer.close()).rejects.toMatchObject(failure);
    await expect(writer.close()).rejects.toBeInstanceOf(ExtractError);
  });

  it("names the file of a file stream that cannot be opened", async () => {
    directory = await mkdtemp(path.join(tmpdir(), "llm-extract-write-"));
    const file = path.join(directory, "missing-folder", "out.csv");
    const writer = createOutputWriter(createWriteStream(file), csvOptions(["id"], []));
    const error = await writer.close().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: "OUTPUT_UNWRITABLE", file, message: expect.stringContaining(`Cannot write the output file ${file}: ENOENT`) });
  });

  it("resolves close() once a file is flushed and closed", async () => {
    directory ??= await mkdtemp(path.join(tmpdir(), "llm-extract-write-"));
    const file = path.join(directory, "out.jsonl");
    const stream = createWriteStream(file);
    const writer = createOutputWriter(stream, { format: "jsonl", inputColumns: ["id"], leaves: [] });
    await writer.write(okRow(0, { id: "1" }, { ok: true }));
    await writer.close();
    expect(stream.closed).toBe(true);
    expect(await readFile(file, "utf8")).toContain('"data":{"ok":true}');
  });
});

describe("standard output", () => {
  // In a child process, because the test runner owns this process's stdout.
  const script = `
    const module = await import(process.argv[1]);
    const { createOutputWriter } = module.default ?? module; // jiti exposes CommonJS-style exports
    const writer = createOutputWriter(process.stdout, { format: "csv", inputColumns: ["id"], leaves: [] });
    await writer.write({ index: 0, input: { id: "1" }, attempts: 1, usage: { prompt_tokens: 1, completion_tokens: 1 } });
    await writer.close();
    process.stdout.write("printed after close\\n");
  `;

  it("is flushed by close() but left open for whatever prints next", async () => {
    const writeModule = fileURLToPath(new URL("../../../src/io/output/write.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "jiti/register", "--input-type=module", "-e", script, writeModule], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
    });
    expect(stdout).toBe("id,_error\n1,\nprinted after close\n");
  });
});
