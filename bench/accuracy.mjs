/**
 * `npm run bench:accuracy`: a real small model (bench/accuracy-model.mjs, fetched once into a
 * cache outside the repository) runs in the embedded engine over the three shipped examples, and
 * `evaluate()` scores each output against its gold file. Four variants: the schema's few-shot
 * examples left out or sent, each with the decoding grammar on and off. Printed: field accuracy,
 * rows per minute, tokens per row; written with the full reports to bench/results/accuracy-latest.json.
 *
 * Greedy decoding (temperature 0), one sequence, one attempt per row: the same weights give the
 * same replies on every run, and the score is what the prompt choices do to the first reply.
 *
 *   node bench/accuracy.mjs [--rows N] [--max-tokens N]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { evaluate, extractCsv, loadSchema, toPromptJsonSchema } from "../dist/index.js";
import { createLlamaEngine } from "../dist/engine/llama/llama.js";
import { accuracyModel, fetchModel } from "./accuracy-model.mjs";
import { root } from "./lib.mjs";

/** The shipped examples, each with its gold file and the `extract eval` settings examples/README.md gives. */
const EXAMPLES = [
  { csv: "examples/tickets.csv", gold: "examples/tickets.gold.jsonl", key: "ticket_id", schema: "ticket" },
  { csv: "examples/invoices.csv", gold: "examples/invoices.gold.jsonl", key: "file", schema: "invoice", tolerance: { total: 0.01 } },
  { csv: "examples/jobs.csv", gold: "examples/jobs.gold.jsonl", key: "posting_id", schema: "job" },
];

/** Few-shot examples (the `examples` option): the schema file's own, or none. */
const EXAMPLE_VARIANTS = [
  { name: "none", examples: false },
  { name: "few-shot", examples: true },
];

const GRAMMAR_VARIANTS = [true, false];

const { values: flags } = parseArgs({ options: { rows: { type: "string" }, "max-tokens": { type: "string", default: "512" } } });
const rowLimit = flags.rows === undefined ? Infinity : Number(flags.rows);
const maxTokens = Number(flags["max-tokens"]);

const modelFile = await fetchModel();
const model = `local:${modelFile}`;
const work = await mkdtemp(path.join(os.tmpdir(), "bench-accuracy-"));
let runs;
try {
  // The three examples run side by side, an engine each: the embedded engine gives llama.cpp one
  // thread less than the cores (one here), so one engine alone would leave a core idle.
  runs = (await Promise.all(EXAMPLES.map((example) => runExample(example)))).flat();
} finally {
  await rm(work, { recursive: true, force: true });
}

const table = tableOf(runs);
console.log(`\n${accuracyModel.name}, temperature 0, 1 attempt, max ${maxTokens} output tokens, ${os.cpus().length} cores\n`);
console.log(table);
mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(
  path.join(root, "bench/results/accuracy-latest.json"),
  `${JSON.stringify({ date: new Date().toISOString(), model: accuracyModel, maxTokens, node: process.version, cores: os.cpus().length, table, runs }, null, 2)}\n`,
);

/** Every variant over one example: its runs, each with the extraction's summary and the evaluation's report. */
async function runExample(example) {
  const { csv, goldRows, rows } = subset(example, work);
  const schemasDir = path.join(root, "schemas");
  const loaded = await loadSchema(example.schema, { schemasDir });
  const runs = [];
  for (const grammar of GRAMMAR_VARIANTS) {
    const engine = await createLlamaEngine({ model, jsonSchema: toPromptJsonSchema(loaded.schema), concurrency: 1, grammar });
    try {
      for (const variant of EXAMPLE_VARIANTS) {
        if (variant.examples && loaded.examples.length === 0) continue; // the schema ships none
        const out = path.join(work, `${example.schema}-${variant.name}-${grammar ? "grammar" : "free"}.jsonl`);
        const summary = await extractCsv(csv, {
          schema: example.schema,
          schemasDir,
          examples: variant.examples,
          engine,
          model,
          temperature: 0,
          concurrency: 1,
          maxAttempts: 1,
          maxTokens,
          maxTokensCap: maxTokens,
          out,
        });
        const report = await evaluate(out, goldRows, { key: example.key, schema: loaded.schema, tolerance: example.tolerance });
        const seconds = (summary.elapsedMs / 1000).toFixed(0);
        process.stderr.write(`${example.schema}: examples ${variant.name}, grammar ${grammar ? "on" : "off"}, ${rows} rows: ${percent(report.correct, report.compared)} in ${seconds} s\n`);
        // The files lived in a temporary folder, gone after the run: the results name them, not where they were.
        const files = { input: path.basename(summary.input), output: path.basename(summary.output), journal: summary.journal && path.basename(summary.journal) };
        runs.push({ schema: example.schema, examples: variant.name, grammar, rows, summary: { ...summary, ...files }, report });
      }
    } finally {
      await engine.close();
    }
  }
  return runs;
}

/** The example's first `rowLimit` rows as a CSV of their own, and their gold lines. */
function subset(example, dir) {
  const rows = parse(readFileSync(path.join(root, example.csv)), { columns: true });
  const kept = rows.slice(0, rowLimit);
  const keys = new Set(kept.map((row) => row[example.key]));
  const goldRows = readFileSync(path.join(root, example.gold), "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line))
    .filter((line) => keys.has(line[example.key]));
  const csv = path.join(dir, path.basename(example.csv));
  writeFileSync(csv, stringify(kept, { header: true }));
  return { csv, goldRows, rows: kept.length };
}

/** One line per variant and schema, then the variant over all three schemas. */
function tableOf(results) {
  const lines = [
    "| schema | examples | grammar | field accuracy | rows exactly right | rows failed | rows/min | prompt tokens/row | output tokens/row |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const line = (schema, group) => {
    const sum = (pick) => group.reduce((total, run) => total + pick(run), 0);
    const rows = sum((run) => run.rows);
    const minutes = sum((run) => run.summary.elapsedMs) / 60_000;
    const { examples, grammar } = group[0];
    lines.push(
      `| ${schema} | ${examples} | ${grammar ? "on" : "off"} | ${percent(sum((run) => run.report.correct), sum((run) => run.report.compared))} | ` +
        `${sum((run) => run.report.rows.exactlyRight)} / ${rows} | ${sum((run) => run.summary.rowsFailed)} | ${(rows / minutes).toFixed(1)} | ` +
        `${Math.round(sum((run) => run.summary.usage.prompt_tokens) / rows)} | ${Math.round(sum((run) => run.summary.usage.completion_tokens) / rows)} |`,
    );
  };
  for (const run of results) line(run.schema, [run]);
  const variants = new Map();
  for (const run of results) {
    const id = `${run.examples}/${run.grammar}`;
    variants.set(id, [...(variants.get(id) ?? []), run]);
  }
  for (const group of variants.values()) line("**all**", group);
  return lines.join("\n");
}

function percent(part, whole) {
  return whole === 0 ? "n/a" : `${((100 * part) / whole).toFixed(1)}%`;
}
