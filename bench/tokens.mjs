/**
 * Token benchmarks: prompt tokens per row for each shipped schema against a naive prompt, and
 * the tokens re-asks add under a 10% invalid-reply rate, for llm-extract and the baseline.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { z } from "zod";
import { buildMessages, buildSystemPrompt, loadSchema, toPromptJsonSchema } from "../dist/index.js";
import { countChatTokens } from "../dist/models/tokens.js";
import { baselineReport, readOutput, root, runBaseline, runExtractCli, startServer } from "./lib.mjs";

/** Each shipped schema with the example CSV written for it. */
const SHIPPED = [
  ["ticket", "examples/tickets.csv"],
  ["invoice", "examples/invoices.csv"],
  ["job", "examples/jobs.csv"],
];
/** Counted as for gpt-4o-mini (o200k_base), the default model. */
const MODEL = "gpt-4o-mini";
const SAMPLE_ROWS = 50;

/**
 * Average prompt tokens per row (system + user message, chat framing included) of llm-extract's
 * prompt, and of the baseline prompt many tools use: the JSON Schema pretty-printed in the
 * system message, the row as `column: value` lines.
 */
export async function tokensPerRow() {
  const results = [];
  for (const [name, csv] of SHIPPED) {
    const loaded = await loadSchema(name, { schemasDir: path.join(root, "schemas") });
    const systemPrompt = buildSystemPrompt(toPromptJsonSchema(loaded.schema), [loaded.instructions]);
    const naiveSystem = `Extract the following information from the text and return it as JSON matching this JSON Schema:\n${JSON.stringify(z.toJSONSchema(loaded.schema), null, 2)}`;
    const rows = parse(readFileSync(path.join(root, csv)), { columns: true }).slice(0, SAMPLE_ROWS);
    let ours = 0;
    let baseline = 0;
    for (const row of rows) {
      ours += countChatTokens(buildMessages(systemPrompt, row), MODEL);
      const asText = Object.entries(row)
        .map(([column, value]) => `${column}: ${value}`)
        .join("\n");
      baseline += countChatTokens(
        [
          { role: "system", content: naiveSystem },
          { role: "user", content: asText },
        ],
        MODEL,
      );
    }
    results.push({ schema: name, rows: rows.length, ours: ours / rows.length, baseline: baseline / rows.length });
  }
  return results;
}

/**
 * Tokens per row (prompt + completion, as the simulated server bills them) without faults and
 * with 10% of replies invalid, for llm-extract and the baseline, on the same rows and seed.
 */
export async function reaskCost(dir, input) {
  const result = { ours: {}, baseline: {} };
  for (const [label, faults] of [
    ["clean", {}],
    ["faulty", { invalidJson: 0.1 }],
  ]) {
    const env = { SIM_OPTIONS: JSON.stringify({ seed: 5, faults }) };
    let server = await startServer("sim-server.mjs", env);
    const out = path.join(dir, "reask.jsonl");
    const ours = await runExtractCli(input, out, ["--base-url", server.url, "-c", "32", "--max-tokens", "100"], { dir });
    await server.stop();
    if (ours.code !== 0) throw new Error(`llm-extract exited ${ours.code}: ${ours.stderr.slice(-500)}`);
    const oursOutput = readOutput(out);
    result.ours[label] = oursOutput.tokens / oursOutput.rows;
    result.ours.ok = oursOutput.ok;

    server = await startServer("sim-server.mjs", env);
    const baseline = await runBaseline(input, path.join(dir, "reask-baseline.jsonl"), 32, server.url, { dir });
    await server.stop();
    const report = baselineReport(baseline);
    result.baseline[label] = (report.usage.prompt_tokens + report.usage.completion_tokens) / report.rows;
    result.baseline.ok = report.ok;
  }
  return result;
}
