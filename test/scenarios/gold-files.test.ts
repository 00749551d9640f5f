/**
 * The gold files shipped with the examples: every line is a record of its schema, and the gold
 * rows are the example CSV's rows, by the same key, in the same order.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSchema } from "../../src/schema/load.js";
import { readCsv, repoRoot } from "../helpers/run-cli.js";

const EXAMPLES = [
  { gold: "tickets.gold.jsonl", csv: "tickets.csv", schema: "ticket", key: "ticket_id" },
  { gold: "invoices.gold.jsonl", csv: "invoices.csv", schema: "invoice", key: "file" },
  { gold: "jobs.gold.jsonl", csv: "jobs.csv", schema: "job", key: "posting_id" },
];

describe.each(EXAMPLES)("examples/$gold", ({ gold, csv, schema, key }) => {
  const lines = readFileSync(path.join(repoRoot, "examples", gold), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

  it(`has one line per row of ${csv}, keyed by ${key}, in order`, () => {
    const ids = readCsv(path.join(repoRoot, "examples", csv)).map((row) => row[key]);
    expect(lines.map((line) => line[key])).toEqual(ids);
    for (const line of lines) expect(Object.keys(line)).toEqual([key, "data"]);
  });

  it(`validates every record against the ${schema} schema`, async () => {
    const { schema: zod } = await loadSchema(schema, { schemasDir: path.join(repoRoot, "schemas") });
    for (const line of lines) {
      const parsed = zod.safeParse(line.data);
      expect(parsed.error?.issues ?? [], String(line[key])).toEqual([]);
      expect(parsed.data).toEqual(line.data); // nothing stripped: no key the schema does not know
    }
  });
});
