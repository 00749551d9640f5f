import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ExtractError } from "../../../src/errors/extract-error.js";
import { createDecoder } from "../../../src/io/input/decode.js";
import { openCsv, type CsvInput, type CsvRow, type OpenCsvOptions } from "../../../src/io/input/read.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "llm-extract-csv-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeCsv(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

async function collect(input: CsvInput): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const row of input.rows) rows.push(row);
  return rows;
}

/** Opens `content` as a stream and reads every row. */
async function readCsv(content: string | Buffer, options?: OpenCsvOptions) {
  const input = await openCsv(Readable.from([Buffer.from(content)]), options);
  return { columns: input.columns, renamed: input.renamed, rows: await collect(input) };
}

/** Reads all rows, returning the rows seen before the ExtractError that must end the reading. */
async function readUntilError(content: string | Buffer, options?: OpenCsvOptions) {
  const seen: CsvRow[] = [];
  try {
    const input = await openCsv(Readable.from([Buffer.from(content)]), options);
    for await (const row of input.rows) seen.push(row);
  } catch (error) {
    expect(error).toBeInstanceOf(ExtractError);
    return { seen, error: error as ExtractError };
  }
  throw new Error("expected the reading to fail");
}

function utf16(text: string, endian: "le" | "be"): Buffer {
  const le = Buffer.from(`\ufeff${text}`, "utf16le");
  return endian === "le" ? le : le.swap16();
}

describe("openCsv streaming", () => {
  it("reads lazily: after 10 rows of a large file only a small part has been read", async () => {
    const lines = ["id,name,note"];
    for (let i = 0; i < 200_000; i++) lines.push(`${i},name ${i},a note that makes the row longer ${i}`);
    const file = await writeCsv("large.csv", lines.join("\n"));
    const { size } = await stat(file);
    const input = await openCsv(file);
    const iterator = input.rows[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) expect((await iterator.next()).value?.index).toBe(i);
    await sleep(50); // let the streams fill their buffers: they must stop by themselves
    const { bytesRead, totalBytes } = input.progress();
    expect(totalBytes).toBe(size);
    expect(bytesRead).toBeGreaterThan(0);
    expect(bytesRead).toBeLessThan(size / 10);
    await iterator.return?.();
  });

  it.each([
    ["breaking out of the loop", async (input: CsvInput) => {
      for await (const row of input.rows) if (row.index === 1) break;
    }],
    ["returning the iterator unread", async (input: CsvInput) => {
      await input.rows[Symbol.asyncIterator]().return?.();
    }],
  ])("closes the input on %s", async (_, stop) => {
    const source = Readable.from(Array.from({ length: 1000 }, (_, i) => Buffer.from(i === 0 ? "a,b\n" : `${i},x\n`)));
    const input = await openCsv(source);
    await stop(input);
    await sleep(10);
    expect(source.destroyed).toBe(true);
  });

  it("reads a Readable and reports no total size for it", async () => {
    const input = await openCsv(Readable.from([Buffer.from("a,b\n1,2\n")]));
    expect(input.name).toBe("input");
    expect(input.columns).toEqual(["a", "b"]);
    expect((await collect(input)).map((row) => row.record)).toEqual([{ a: "1", b: "2" }]);
    expect(input.progress()).toEqual({ bytesRead: 8, totalBytes: undefined });
  });

  it('reads process.stdin for "-"', async () => {
    const spy = vi.spyOn(process, "stdin", "get").mockReturnValue(Readable.from([Buffer.from("a,b\n1,2\n")]) as never);
    try {
      const input = await openCsv("-");
      expect(input.name).toBe("stdin");
      expect((await collect(input)).map((row) => row.record)).toEqual([{ a: "1", b: "2" }]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("openCsv encodings", () => {
  it("drops a UTF-8 BOM from the first header name", async () => {
    const file = await writeCsv("bom.csv", "\ufeffid,name\n1,Ana\n");
    const input = await openCsv(file);
    expect(input.columns[0]).toBe("id");
    expect((await collect(input))[0]?.record).toEqual({ id: "1", name: "Ana" });
  });

  it.each(["le", "be"] as const)("decodes UTF-16 %s with a BOM", async (endian) => {
    const { columns, rows } = await readCsv(utf16("name,city\r\nJürgen,東京\r\n", endian));
    expect(columns).toEqual(["name", "city"]);
    expect(rows.map((row) => row.record)).toEqual([{ name: "Jürgen", city: "東京" }]);
  });

  it("decodes characters split across chunk boundaries", async () => {
    const bytes = Buffer.from("name,city\nJürgen 😀,東京\n");
    const input = await openCsv(Readable.from([...bytes].map((byte) => Buffer.from([byte]))));
    expect((await collect(input)).map((row) => row.record)).toEqual([{ name: "Jürgen 😀", city: "東京" }]);
  });

  it("fails with INVALID_ENCODING at the line of a Latin-1 byte, after the rows before it", async () => {
    const bytes = Buffer.concat([Buffer.from("a,b\n1,2\n3,caf"), Buffer.from([0xe9]), Buffer.from("\n5,6\n")]);
    const { seen, error } = await readUntilError(bytes);
    expect(seen.map((row) => row.record)).toEqual([{ a: "1", b: "2" }]);
    expect(error.code).toBe("INVALID_ENCODING");
    expect(error).toMatchObject({ file: "input", line: 3 });
    expect(error.message).toBe(
      "input line 3 is not valid UTF-8 (byte 0xE9 at offset 13). Re-save the file as UTF-8 (or UTF-16 with BOM).",
    );
  });

  it("names the file of an invalid byte in the header", async () => {
    const file = await writeCsv("latin1.csv", Buffer.from("r\xe9sum\xe9,b\n1,2\n", "latin1"));
    await expect(openCsv(file)).rejects.toMatchObject({ code: "INVALID_ENCODING", file, line: 1 });
  });

  it("fails with INVALID_ENCODING when the file ends inside a character", async () => {
    const { error } = await readUntilError(Buffer.concat([Buffer.from("a\n東"), Buffer.from("京").subarray(0, 2)]));
    expect(error).toMatchObject({ code: "INVALID_ENCODING", line: 2 });
    expect(error.message).toContain("byte 0xE4 at offset 5");
  });

  it("fails on a UTF-16 file with an odd number of bytes", async () => {
    const { error } = await readUntilError(Buffer.concat([utf16("a\n1\n", "be"), Buffer.from([0x00])]));
    expect(error.message).toContain("not valid UTF-16 BE (a lone last byte 0x00 at offset 10)");
  });

  it("rejects UTF-16 without a BOM instead of passing NUL bytes on", async () => {
    const { error } = await readUntilError(Buffer.from("a,b\n1,2\n", "utf16le"));
    expect(error.code).toBe("INVALID_ENCODING");
    expect(error.message).toContain("UTF-16 without a byte order mark");
  });

  it("fails on an unpaired UTF-16 surrogate", async () => {
    const bytes = Buffer.concat([utf16("a\n1\n", "le"), Buffer.from([0x00, 0xd8, 0x41, 0x00])]);
    const { error } = await readUntilError(bytes);
    expect(error).toMatchObject({ code: "INVALID_ENCODING", line: 3 });
    expect(error.message).toContain("not valid UTF-16 LE (unpaired surrogate 0xD800 at offset 10)");
  });

  it("createDecoder passes valid UTF-8 through unchanged", async () => {
    const decoder = createDecoder("x.csv");
    const chunks: string[] = [];
    decoder.on("data", (chunk: string) => chunks.push(chunk));
    decoder.end(Buffer.from("\ufeffa,b\n\ufeffkept\n"));
    await new Promise((resolve) => decoder.on("end", resolve));
    expect(chunks.join("")).toBe("a,b\n\ufeffkept\n");
    expect(decoder.bytesRead).toBe(15);
  });
});

describe("openCsv syntax", () => {
  it("reads quoted commas, doubled quotes and newlines, counting lines inside quotes", async () => {
    const csv = 'id,text\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,"crlf\r\ninside"\n5,last\n';
    const { rows } = await readCsv(csv);
    expect(rows.map((row) => [row.index, row.line, row.record.text])).toEqual([
      [0, 2, "a, b"],
      [1, 3, 'say "hi"'],
      [2, 4, "two\nlines"],
      [3, 6, "crlf\r\ninside"],
      [4, 8, "last"],
    ]);
  });

  it("reads CRLF, LF and CR line endings, even mixed, leaving no stray \\r", async () => {
    const { columns, rows } = await readCsv("a,b\r\n1,2\r\n3,4\n5,6\r7,8\r\n");
    expect(columns).toEqual(["a", "b"]);
    expect(rows.map((row) => [row.line, row.record])).toEqual([
      [2, { a: "1", b: "2" }],
      [3, { a: "3", b: "4" }],
      [4, { a: "5", b: "6" }],
      [5, { a: "7", b: "8" }],
    ]);
  });

  it("gives each row the input position at its end, for progress", async () => {
    const text = 'a,b\n1,"x\ny"\n22,2\n';
    const { rows } = await readCsv(text);
    expect(rows.map((row) => row.end)).toEqual([text.indexOf("22"), text.length]);
  });

  it("reads a final line without a trailing newline", async () => {
    const { rows } = await readCsv("a,b\n1,2\n3,4");
    expect(rows.map((row) => row.record)).toEqual([
      { a: "1", b: "2" },
      { a: "3", b: "4" },
    ]);
  });

  it("skips blank and whitespace-only lines but counts them in line numbers", async () => {
    const { rows } = await readCsv("\na,b\n\n1,2\r\n\r\n   \n3,4\n\n");
    expect(rows.map((row) => [row.index, row.line, row.record])).toEqual([
      [0, 4, { a: "1", b: "2" }],
      [1, 7, { a: "3", b: "4" }],
    ]);
  });

  it.each([
    [";", "a;b\n1;2\n"],
    ["\t", "a\tb\n1\t2\n"],
  ])("splits on the delimiter %j", async (delimiter, csv) => {
    const { rows } = await readCsv(csv, { delimiter });
    expect(rows[0]?.record).toEqual({ a: "1", b: "2" });
  });
});

describe("openCsv header", () => {
  it("renames empty and repeated names without colliding with names in the file", async () => {
    const { columns, renamed, rows } = await readCsv(",a,a,a_2,,column_5,a\n1,2,3,4,5,6,7\n");
    expect(columns).toEqual(["column_1", "a", "a_3", "a_2", "column_5_2", "column_5", "a_4"]);
    expect(renamed).toEqual([
      { position: 1, from: "", to: "column_1" },
      { position: 3, from: "a", to: "a_3" },
      { position: 5, from: "", to: "column_5_2" },
      { position: 7, from: "a", to: "a_4" },
    ]);
    expect(Object.keys(rows[0]!.record)).toEqual(columns);
  });

  it("keeps names as written otherwise", async () => {
    const { columns, renamed } = await readCsv(" Name ,e-mail,Name\n");
    expect(columns).toEqual([" Name ", "e-mail", "Name"]);
    expect(renamed).toEqual([]);
  });

  it("stores a __proto__ column as a plain value", async () => {
    const { rows } = await readCsv("__proto__,b\nx,y\n");
    const record = rows[0]!.record;
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.keys(record)).toEqual(["__proto__", "b"]);
    expect(Object.getOwnPropertyDescriptor(record, "__proto__")?.value).toBe("x");
  });

  it.each([
    ["a 0-byte file", ""],
    ["only line breaks and spaces", "\n \r\n\t\n\n"],
  ])("gives no columns and no rows for %s", async (_, csv) => {
    expect(await readCsv(csv)).toEqual({ columns: [], renamed: [], rows: [] });
    const file = await writeCsv("empty.csv", csv);
    expect((await openCsv(file)).columns).toEqual([]);
  });

  it("knows the columns of a header-only file", async () => {
    expect(await readCsv("a,b\n")).toEqual({ columns: ["a", "b"], renamed: [], rows: [] });
  });
});

describe("openCsv malformed input, strict", () => {
  const ragged = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n";
  const strict = { strict: true };

  it("throws CSV_MALFORMED at a row with the wrong number of fields, after the rows before it", async () => {
    const { seen, error } = await readUntilError(ragged, strict);
    expect(seen.map((row) => row.index)).toEqual([0]);
    expect(error).toMatchObject({ code: "CSV_MALFORMED", file: "input", line: 3, row: 1 });
    expect(error.message).toBe(
      "input line 3: 2 fields, but the header has 3. Fix the row (a missing or extra comma or quote?), " +
        "or leave out `strict` to record such rows as failed and read on.",
    );
  });

  it("throws CSV_MALFORMED at the row of an unclosed quote", async () => {
    const { seen, error } = await readUntilError('a,b\n1,2\n\n3,"4\n5,6\n7,8\n', strict);
    expect(seen).toHaveLength(1);
    expect(error).toMatchObject({ code: "CSV_MALFORMED", line: 4 });
    expect(error.message).toMatch(/^input line 4: a quote opened in the row starting here is never closed/);
    expect((error.cause as { code?: string }).code).toBe("CSV_QUOTE_NOT_CLOSED");
  });

  it("throws CSV_MALFORMED at the line of text after a closing quote, despite CRLF inside earlier quotes", async () => {
    const { error } = await readUntilError('a,b\r\n1,"x\r\ny"\r\n2,"3"z\r\n', strict);
    expect(error).toMatchObject({ code: "CSV_MALFORMED", file: "input", line: 4 });
    expect((error.cause as { code?: string }).code).toBe("CSV_INVALID_CLOSING_QUOTE");
  });

  it("throws CSV_MALFORMED for a quote inside an unquoted field", async () => {
    const { error } = await readUntilError('a,b\n1,2\n3,4"5\n', strict);
    expect(error).toMatchObject({ code: "CSV_MALFORMED", line: 3 });
    expect((error.cause as { code?: string }).code).toBe("INVALID_OPENING_QUOTE");
  });

  it("stops an unclosed quote from reading the rest of a large file into one row", async () => {
    const file = await writeCsv("runaway.csv", `a,b\n1,"2\n${"3,4\n".repeat(2_500_000)}`);
    const input = await openCsv(file, strict);
    const error = await collect(input).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "CSV_MALFORMED", file, line: 2 });
    expect((error as Error).message).toContain("most likely because a quote opened in it is never closed");
  });
});

describe("openCsv malformed input, by default", () => {
  const summary = (rows: CsvRow[]) => rows.map((row) => [row.index, row.line, row.record, row.error?.code]);

  it("yields ragged rows with an error and their fields on the first columns, and reads on", async () => {
    const { rows } = await readCsv("a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n");
    expect(summary(rows)).toEqual([
      [0, 2, { a: "1", b: "2", c: "3" }, undefined],
      [1, 3, { a: "4", b: "5" }, "CSV_MALFORMED"],
      [2, 4, { a: "6", b: "7", c: "8" }, undefined],
      [3, 5, { a: "9", b: "10", c: "11" }, "CSV_MALFORMED"],
    ]);
    expect(rows[3]!.error).toMatchObject({ file: "input", line: 5, row: 3 });
    expect(rows[3]!.error!.message).toBe(
      "line 5: 4 fields, but the header has 3 (in input). Fix the row (a missing or extra comma or quote?), " +
        "then rerun with `resume`: only the rows not done yet are sent.",
    );
    expect("error" in rows[0]!).toBe(false);
  });

  it("accepts the deprecated skipBadRows and reads the same", async () => {
    const { rows } = await readCsv("a,b\n1\n2,3\n", { skipBadRows: true });
    expect(summary(rows)).toEqual([
      [0, 2, { a: "1" }, "CSV_MALFORMED"],
      [1, 3, { a: "2", b: "3" }, undefined],
    ]);
  });

  it("fails the row of a quote never closed, says how many lines it swallowed, and reads those lines again as rows", async () => {
    const { rows } = await readCsv('a,b\n1,2\n\n3,"4\n5,6\n\n7,8\n9\n');
    expect(summary(rows)).toEqual([
      [0, 2, { a: "1", b: "2" }, undefined],
      [1, 4, { a: '3,"4' }, "CSV_MALFORMED"],
      [2, 5, { a: "5", b: "6" }, undefined],
      [3, 7, { a: "7", b: "8" }, undefined],
      [4, 8, { a: "9" }, "CSV_MALFORMED"],
    ]);
    expect(rows[1]!.error!.message).toMatch(
      /^line 4: an opening quote in this row is never closed; it swallowed the 4 lines to the end of the file, which were read again as rows \(in input\)\. Add the missing closing quote/,
    );
  });

  it("fails the row of a quote that a later quote seems to close, and reads the lines between again", async () => {
    // A quote left open makes the opening quote of a later field look like a closing one.
    const { rows } = await readCsv('a,b\r\n1,"x\r\ny"\r\n2,"3\r\n4,5\r\n6,"7"\r\n8,9\r\n');
    expect(summary(rows)).toEqual([
      [0, 2, { a: "1", b: "x\r\ny" }, undefined],
      [1, 4, { a: '2,"3' }, "CSV_MALFORMED"],
      [2, 5, { a: "4", b: "5" }, undefined],
      [3, 6, { a: "6", b: "7" }, undefined],
      [4, 7, { a: "8", b: "9" }, undefined],
    ]);
    expect(rows[1]!.error!.message).toMatch(/^line 4: a quote opened in this row seems never closed: text follows the next quote, at line 6; /);
  });

  it("fails the row of a quote inside an unquoted field and reads on", async () => {
    const { rows } = await readCsv('a,b\n1,2\n3,4"5\n6,7\n');
    expect(summary(rows)).toEqual([
      [0, 2, { a: "1", b: "2" }, undefined],
      [1, 3, { a: '3,4"5' }, "CSV_MALFORMED"],
      [2, 4, { a: "6", b: "7" }, undefined],
    ]);
    expect(rows[1]!.error!.message).toMatch(/^line 3: a quote appears inside a field that does not start with one; /);
  });

  it("reads on after an unclosed quote in a large file, which stops at the row size limit", async () => {
    const file = await writeCsv("runaway-default.csv", `a,b\n1,"2\n${"3,4\n".repeat(2_500_000)}`);
    const input = await openCsv(file);
    let count = 0;
    let failed = 0;
    let first: CsvRow | undefined;
    let last: CsvRow | undefined;
    for await (const row of input.rows) {
      first ??= row;
      last = row;
      count++;
      if (row.error) failed++;
    }
    expect([count, failed]).toEqual([2_500_001, 1]);
    expect(first!.error).toMatchObject({ code: "CSV_MALFORMED", line: 2 });
    expect(first!.error!.message).toContain("most likely because a quote opened in it is never closed; the lines after it are read again as rows");
    expect(last).toMatchObject({ line: 2_500_002, record: { a: "3", b: "4" } });
  }, 60_000);

  it("still stops at a malformed header", async () => {
    const { error } = await readUntilError('a,"b\n1,2\n');
    expect(error).toMatchObject({ code: "CSV_MALFORMED", line: 1 });
  });
});

describe("openCsv unreadable input", () => {
  it("rejects a missing file with INPUT_UNREADABLE", async () => {
    const file = path.join(dir, "missing.csv");
    await expect(openCsv(file)).rejects.toMatchObject({ code: "INPUT_UNREADABLE", file, message: `${file} does not exist.` });
  });

  it("says where a relative path was looked for", async () => {
    await expect(openCsv("no/such.csv")).rejects.toThrow(`no/such.csv does not exist (looked for ${path.resolve("no/such.csv")}).`);
  });

  it("rejects a directory with INPUT_UNREADABLE", async () => {
    await expect(openCsv(dir)).rejects.toMatchObject({ code: "INPUT_UNREADABLE", message: `${dir} is a directory, not a CSV file.` });
  });

  // Skipped as root (as in CI), where chmod 000 does not stop reading; it runs for other users.
  it.skipIf(process.getuid?.() === 0)("rejects a file without read permission with INPUT_UNREADABLE", async () => {
    const file = await writeCsv("secret.csv", "a\n1\n");
    await chmod(file, 0o000);
    await expect(openCsv(file)).rejects.toMatchObject({ code: "INPUT_UNREADABLE", message: `${file} cannot be read: permission denied.` });
  });
});
