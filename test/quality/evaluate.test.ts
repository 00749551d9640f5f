import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ExtractError } from "../../src/errors/extract-error.js";
import { evaluate, type EvalReport } from "../../src/quality/evaluate.js";

const field = (report: EvalReport, name: string) => report.fields.find((score) => score.field === name)!;

describe("evaluate: scalar fields", () => {
  const gold = [
    { id: "r1", data: { name: "Acme Corp.", email: null, total: 10 } },
    { id: "r2", data: { name: "Zeta", email: "a@x.com", total: 20 } },
    { id: "r3", data: { name: "Beta", email: "b@x.com", total: 30.004 } },
  ];
  const output = [
    { row: { id: "r1" }, data: { name: " acme \n corp", email: null, total: 10.005 } },
    { row: { id: "r2" }, data: { name: "Zeta Inc", email: null, total: 20 } },
    { row: { id: "r3" }, data: { name: "beta", email: "c@x.com", total: 30 } },
  ];

  it("compares strings after normalization, and null with null as right", async () => {
    const report = await evaluate(output, gold, { tolerance: { total: 0.01 } });
    expect(report.key).toBe("id");
    expect(field(report, "name")).toMatchObject({ n: 3, correct: 2, accuracy: 2 / 3, precision: null, recall: null });
    expect(field(report, "email")).toMatchObject({ n: 3, correct: 1 });
  });

  it("gives nullable fields the precision and recall of having a value", async () => {
    const email = field(await evaluate(output, gold), "email");
    // extracted values: only r3 (its gold has one too); gold values: r2 and r3.
    expect(email).toMatchObject({ fill: 1 / 3, precision: 1, recall: 1 / 2, f1: 2 / 3 });
  });

  it("takes numbers within the field's tolerance, exactly without one", async () => {
    expect(field(await evaluate(output, gold, { tolerance: { total: 0.01 } }), "total").correct).toBe(3);
    expect(field(await evaluate(output, gold), "total").correct).toBe(1);
  });

  it("sums up: field accuracy, rows exactly right, the worst rows first", async () => {
    const report = await evaluate(output, gold, { tolerance: { total: 0.01 } });
    expect(report.accuracy).toBe(6 / 9);
    expect(report.rows).toMatchObject({ matched: 3, exactlyRight: 1, failed: 0 });
    expect(report.exactlyRightRate).toBe(1 / 3);
    expect(report.worstRows.map((row) => [row.row, row.differences.map((d) => d.field)])).toEqual([
      ["r2", ["name", "email"]],
      ["r3", ["email"]],
    ]);
    expect(report.worstRows[0]!.differences[1]).toEqual({ field: "email", expected: "a@x.com", actual: null });
  });

  it("accepts near strings with a fuzzy threshold", async () => {
    const people = [{ id: 1, data: { name: "Jürgen Weiß" } }];
    const typed = [{ row: { id: 1 }, data: { name: "Jurgen Weiss" } }];
    // edit distance 3 over 12 characters: similarity 0.75
    expect(field(await evaluate(typed, people), "name").correct).toBe(0);
    expect(field(await evaluate(typed, people, { fuzzy: 0.75 }), "name").correct).toBe(1);
    expect(field(await evaluate(typed, people, { fuzzy: 0.8 }), "name").correct).toBe(0);
  });
});

describe("evaluate: arrays of objects", () => {
  const schema = z.object({
    items: z.array(z.object({ sku: z.string().nullable(), name: z.string(), quantity: z.int() })),
  });
  const gold = [
    {
      id: 1,
      data: {
        items: [
          { sku: "A", name: "Plug", quantity: 2 },
          { sku: "B", name: "Sensor", quantity: 1 },
        ],
      },
    },
  ];
  const output = [
    {
      row: { id: 1 },
      data: {
        items: [
          { sku: "B", name: "sensor", quantity: 1 },
          { sku: "A", name: "Plug", quantity: 3 },
          { sku: "C", name: "Hub", quantity: 1 },
        ],
      },
    },
  ];

  it("pairs items optimally whatever their order, and scores each item field with P/R/F1", async () => {
    const report = await evaluate(output, gold, { schema });
    // Pairs: gold B with the exact B (similarity 1), gold A with A (2 of 3 fields); Hub is extra.
    expect(field(report, "items")).toMatchObject({ n: 1, correct: 0, precision: 1 / 3, recall: 1 / 2 });
    expect(field(report, "items").f1).toBeCloseTo(0.4, 12);
    expect(field(report, "items[].sku")).toMatchObject({ kind: "string", n: 2, correct: 2, fill: 1, precision: 2 / 3, recall: 1 });
    expect(field(report, "items[].sku").f1).toBeCloseTo(0.8, 12);
    expect(field(report, "items[].quantity")).toMatchObject({ kind: "number", n: 2, correct: 1, precision: 1 / 3, recall: 1 / 2 });
    expect(report.accuracy).toBe(0); // only top-level fields count, and the array is not right as a whole
  });

  it("counts an array right when every item pairs exactly, in any order", async () => {
    const reordered = [{ row: { id: 1 }, data: { items: [...gold[0]!.data.items].reverse() } }];
    const report = await evaluate(reordered, gold, { schema });
    expect(field(report, "items")).toMatchObject({ correct: 1, precision: 1, recall: 1, f1: 1 });
    expect(report.rows.exactlyRight).toBe(1);
  });

  it("infers the item fields from the gold values without a schema", async () => {
    const report = await evaluate(output, gold);
    expect(report.fields.map((score) => `${score.field}:${score.kind}`)).toEqual([
      "items:items",
      "items[].sku:string",
      "items[].name:string",
      "items[].quantity:number",
    ]);
  });

  it("pairs a list of strings as a multiset", async () => {
    const report = await evaluate([{ row: { id: 1 }, data: { tags: ["b", "A", "c"] } }], [{ id: 1, data: { tags: ["a", "b"] } }]);
    expect(field(report, "tags")).toMatchObject({ kind: "list", correct: 0, precision: 2 / 3, recall: 1 });
  });
});

describe("evaluate: matching rows", () => {
  it("lists rows missing on either side when matching by key", async () => {
    const gold = ["1", "2", "3"].map((id) => ({ id, data: { x: id } }));
    const output = ["2", "3", "4"].map((id) => ({ row: { id }, data: { x: id } }));
    const report = await evaluate(output, gold);
    expect(report.rows).toMatchObject({ gold: 3, output: 3, matched: 2, exactlyRight: 2, missingFromOutput: ["1"], notInGold: ["4"] });
  });

  it("matches by position when the sides share no key column", async () => {
    const gold = [{ data: { x: "a" } }, { data: { x: "b" } }];
    const output = [{ data: { x: "a" } }, { data: { x: "z" } }, { data: { x: "c" } }];
    const report = await evaluate(output, gold);
    expect(report.key).toBeNull();
    expect(report.rows).toMatchObject({ matched: 2, exactlyRight: 1, notInGold: ["#3"], missingFromOutput: [] });
    expect(report.worstRows[0]!.row).toBe("#2");
  });

  it("finds the one column both sides have, and takes --key when given", async () => {
    const gold = [{ ticket_id: "T-1", data: { x: "a" } }];
    const output = [{ index: 0, row: { ticket_id: "T-1", body: "..." }, data: { x: "a" } }];
    expect((await evaluate(output, gold)).key).toBe("ticket_id");
    expect((await evaluate(output, gold, { key: "ticket_id" })).rows.matched).toBe(1);
    const error = await evaluate(output, gold, { key: "ticket" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe("INVALID_OPTION");
    expect((error as ExtractError).message).toContain("`key`");
  });

  it("rejects a tolerance for a field that is not a number", async () => {
    const error = await evaluate([], [{ id: 1, data: { total: 1, name: "a" } }], { tolerance: { totl: 0.01 } }).catch((caught: unknown) => caught);
    expect((error as ExtractError).code).toBe("INVALID_OPTION");
    expect((error as ExtractError).message).toContain("number fields (total)");
  });
});

describe("evaluate: files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "llm-extract-eval-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const schema = z.object({
    contact: z.object({ name: z.string().nullable() }),
    total: z.number(),
    paid: z.boolean(),
    lines: z.array(z.object({ amount: z.number() })),
  });

  it("reads a CSV output (dotted columns, JSON cells, _error) against a JSONL gold", async () => {
    const output = write(
      "out.csv",
      'id,text,contact.name,total,paid,lines,_error\n1,a,Ana,12.5,true,"[{""amount"":12.5}]",\n2,b,,,,,"SCHEMA_MISMATCH: total: expected number"\n',
    );
    const gold = write(
      "gold.jsonl",
      '{"id":"1","data":{"contact":{"name":"ana"},"total":12.5,"paid":true,"lines":[{"amount":12.5}]}}\n\n' +
        '{"id":"2","data":{"contact":{"name":null},"total":3,"paid":false,"lines":[]}}\n',
    );
    const report = await evaluate(output, gold, { schema });
    expect(report.rows).toMatchObject({ matched: 2, failed: 1, exactlyRight: 1 });
    expect(report.fields.map((score) => [score.field, score.correct])).toEqual([
      ["contact.name", 2],
      ["total", 1],
      ["paid", 1],
      ["lines", 2],
      ["lines[].amount", 1],
    ]);
    expect(report.worstRows[0]).toMatchObject({ row: "2", error: "SCHEMA_MISMATCH: total: expected number" });
  });

  it("reads a JSONL output against a CSV gold", async () => {
    const output = write("out.jsonl", `${JSON.stringify({ index: 0, input: { id: "7" }, data: { total: 4 }, error: null })}\n`);
    const gold = write("gold.csv", "id,total\n7,4.00\n");
    const report = await evaluate(output, gold, { key: "id" });
    expect(field(report, "total")).toMatchObject({ n: 1, correct: 1 });
  });

  it("names the file and line of a gold line that is not JSON", async () => {
    const gold = write("bad.jsonl", '{"id":1,"data":{}}\n{oops\n');
    const error = (await evaluate([], gold).catch((caught: unknown) => caught)) as ExtractError;
    expect(error.code).toBe("INPUT_UNREADABLE");
    expect(error.line).toBe(2);
    expect(error.message).toContain("bad.jsonl");
  });
});
