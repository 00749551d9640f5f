/**
 * `extract eval` through the built CLI, on the tickets example: an output written by the real
 * writer from the gold records, with two values changed, scored against the shipped gold file.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutputWriter } from "../../src/io/output/write.js";
import { leafColumns } from "../../src/schema/columns.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { loadSchema } from "../../src/schema/load.js";
import { readCsv, repoRoot, runCli } from "../helpers/run-cli.js";

const gold = path.join(repoRoot, "examples/tickets.gold.jsonl");
const dir = mkdtempSync(path.join(tmpdir(), "llm-extract-eval-cli-"));
const output = path.join(dir, "tickets.out.csv");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const { schema } = await loadSchema("ticket", { schemasDir: path.join(repoRoot, "schemas") });
  const rows = readCsv(path.join(repoRoot, "examples/tickets.csv"));
  const records = readFileSync(gold, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as { data: Record<string, unknown> });
  records[6]!.data.urgency = "critical"; // T-10237: shouting is not urgency
  records[9]!.data.contact = { name: "Elodie Marchand", email: "x@example.com", company: "Hôtel Les Tilleuls" };
  const writer = createOutputWriter(createWriteStream(output), {
    format: "csv",
    inputColumns: Object.keys(rows[0]!),
    leaves: leafColumns(toPromptJsonSchema(schema)),
  });
  for (const [index, row] of rows.entries()) {
    await writer.write({ index, input: row, data: records[index]!.data, attempts: 1, usage: { prompt_tokens: 0, completion_tokens: 0 } });
  }
  await writer.close();
});

describe("extract eval", () => {
  it("prints the field table, the totals and the worst rows, and exits 0", async () => {
    const run = await runCli(["eval", output, "--gold", gold, "--schema", "ticket"], { cwd: repoRoot });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("16 rows matched by ticket_id.");
    expect(run.stdout).toMatch(/^field +n +accuracy +fill +precision +recall$/m);
    // Normalization folds case, not accents: "Elodie" is not "Élodie".
    expect(run.stdout).toMatch(/^contact\.name +16 +93\.8% +75\.0% +100\.0% +100\.0%$/m);
    expect(run.stdout).toMatch(/^contact\.email +16 +93\.8% +37\.5% +83\.3% +100\.0%$/m);
    expect(run.stdout).toMatch(/^urgency +16 +93\.8% +100\.0% +- +-$/m);
    expect(run.stdout).toMatch(/^order_items\[\]\.quantity +6 +100\.0%/m);
    expect(run.stdout).toContain("Field accuracy: 98.3% (173 of 176 values)");
    expect(run.stdout).toContain("Rows exactly right: 14 of 16 (87.5%)");
    expect(run.stdout).toContain('  T-10240: 2 fields differ\n    contact.name: expected "Élodie Marchand", got "Elodie Marchand"\n');
    expect(run.stdout).toContain('    urgency: expected "high", got "critical"');
  });

  it("prints the report as JSON with --json, finding the key column by itself", async () => {
    const run = await runCli(["eval", output, "--gold", gold, "--json"], { cwd: repoRoot });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { key: string; rows: { matched: number; exactlyRight: number }; worstRows: { row: string }[] };
    expect(report.key).toBe("ticket_id");
    expect(report.rows).toMatchObject({ matched: 16, exactlyRight: 14 });
    expect(report.worstRows.map((row) => row.row)).toEqual(["T-10240", "T-10237"]);
  });

  it("names flags in its messages and exits 2 on a usage error", async () => {
    const missing = await runCli(["eval", output], { cwd: repoRoot });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Missing --gold");
    const tolerance = await runCli(["eval", output, "--gold", gold, "--schema", "ticket", "--tolerance", "total=0.01"], { cwd: repoRoot });
    expect(tolerance.code).toBe(2);
    expect(tolerance.stderr).toContain("Expected --tolerance to be keyed by number fields");
  });
});
