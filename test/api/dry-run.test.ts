import * as o200k from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { renderForCli } from "../../src/cli/render.js";
import { estimateRun, formatDryRun } from "../../src/api/dry-run.js";
import { minimalJsonFor } from "../../src/schema/minimal-value.js";
import { priceOf } from "../../src/models/pricing.js";
import { buildMessages, buildSystemPrompt } from "../../src/core/prompt.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";

const schema = z.object({
  customer: z.string().nullable().describe("Who wrote"),
  urgency: z.enum(["high", "low", "medium"]),
  order: z.object({ id: z.string(), qty: z.int(), gift: z.boolean() }),
  tags: z.array(z.string()),
  refund: z.number().nullable(),
});
const jsonSchema = toPromptJsonSchema(schema);
const systemPrompt = buildSystemPrompt(jsonSchema, ["Urgency is high when a customer threatens to leave."]);
const records = [
  { text: "Hi, I'm Ana from Acme, order #A-20417 arrived broken" },
  { text: "Where is my parcel?? 3rd time asking", channel: "email" },
  { text: "Merci pour le remboursement, tout est réglé. 😊" },
];

async function* streamOf<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe("estimateRun", () => {
  it("counts the system message once per row, each row's user message, and the framing", async () => {
    const estimate = await estimateRun(streamOf(records), { systemPrompt, jsonSchema, model: "gpt-4o-mini", maxTokens: 1024 });

    // Independently: gpt-tokenizer's own chat encoding of each row's full request.
    const expected = records.reduce((sum, record) => sum + o200k.encodeChat(buildMessages(systemPrompt, record), "gpt-4o").length, 0);
    expect(estimate.rows).toBe(3);
    expect(estimate.promptTokens).toBe(expected);

    // And by the formula: (system + 3 + 1) per row + Σ (user + 3 + 1) + 3 per row.
    const system = o200k.encode(systemPrompt).length;
    const users = records.reduce((sum, record) => sum + o200k.encode(JSON.stringify(record)).length, 0);
    expect(estimate.promptTokens).toBe((system + 4) * 3 + users + 4 * 3 + 3 * 3);
    expect(estimate.exact).toBe(true);
  });

  it("bounds completions by the shortest valid reply and four times it, capped at maxTokens", async () => {
    const perRow = o200k.encode(JSON.stringify(minimalJsonFor(jsonSchema))).length;
    const roomy = await estimateRun(records, { systemPrompt, jsonSchema, model: "gpt-4o-mini", maxTokens: 1024 });
    expect(roomy.completionTokens).toEqual({ low: perRow * 3, high: perRow * 4 * 3 });

    const tight = await estimateRun(records, { systemPrompt, jsonSchema, model: "gpt-4o-mini", maxTokens: perRow + 1 });
    expect(tight.completionTokens).toEqual({ low: perRow * 3, high: (perRow + 1) * 3 });
  });

  it("prices the range at the model's rates, low <= high", async () => {
    const { promptTokens, completionTokens, cost } = await estimateRun(records, { systemPrompt, jsonSchema, model: "gpt-4.1-mini", maxTokens: 1024 });
    const price = priceOf("gpt-4.1-mini")!;
    expect(cost).toBeDefined();
    expect(cost!.low).toBeCloseTo((promptTokens * price.input + completionTokens.low * price.output) / 1e6, 12);
    expect(cost!.high).toBeCloseTo((promptTokens * price.input + completionTokens.high * price.output) / 1e6, 12);
    expect(cost!.low).toBeLessThan(cost!.high);
  });

  it("has no cost and flags approximate counts for an unknown model", async () => {
    const estimate = await estimateRun(records, { systemPrompt, jsonSchema, model: "llama3.1:8b", maxTokens: 1024 });
    expect(estimate.cost).toBeUndefined();
    expect(estimate.exact).toBe(false);
    expect(estimate.promptTokens).toBeGreaterThan(0);
  });

  it("estimates an empty input as zero", async () => {
    const estimate = await estimateRun([], { systemPrompt, jsonSchema, model: "gpt-4o", maxTokens: 1024 });
    expect(estimate).toEqual({ rows: 0, promptTokens: 0, completionTokens: { low: 0, high: 0 }, cost: { low: 0, high: 0 }, exact: true });
  });
});

describe("formatDryRun", () => {
  it("shows the first row's exact messages under role headers, then the numbers and the cost range", async () => {
    const estimate = await estimateRun(records, { systemPrompt, jsonSchema, model: "gpt-4o-mini", maxTokens: 1024 });
    const report = formatDryRun(buildMessages(systemPrompt, records[0]!), estimate, "gpt-4o-mini");
    expect(report).toContain(`── system ──\n${systemPrompt}\n`);
    expect(report).toContain(`── user ──\n${JSON.stringify(records[0])}\n`);
    expect(report).toMatch(/Rows:\s+3\n/);
    expect(report).toContain(`Prompt tokens:     ${estimate.promptTokens.toLocaleString("en-US")}`);
    expect(report).toContain(`${estimate.completionTokens.low} – ${estimate.completionTokens.high}`);
    expect(report).toMatch(/Estimated cost:\s+\$0\.\d+ – \$0\.\d+/);
    expect(report).not.toContain("approximate");
  });

  it("says the price is unknown and the tokenizer approximate for an unknown model", async () => {
    const estimate = await estimateRun(records, { systemPrompt, jsonSchema, model: "llama3.1:8b", maxTokens: 1024 });
    const report = formatDryRun(buildMessages(systemPrompt, records[0]!), estimate, "llama3.1:8b");
    expect(report).toContain("price unknown for llama3.1:8b");
    expect(report).toContain("(approximate tokenizer)");
  });

  it("warns that reasoning models bill hidden tokens, and handles an empty input", async () => {
    const estimate = await estimateRun([], { systemPrompt, jsonSchema, model: "o4-mini", maxTokens: 1024 });
    const report = formatDryRun(undefined, estimate, "o4-mini");
    expect(report).toContain("The input has no rows.");
    expect(report).toMatch(/reasoning tokens/);
  });

  it("names the `mode` option in its notes; the CLI's renderer makes it the flag, and leaves the row's data alone", async () => {
    const model = "local:./model.gguf";
    const records = [{ text: "please keep `mode` as typed" }];
    const estimate = await estimateRun(records, { systemPrompt, jsonSchema, model, maxTokens: 1024 });
    const messages = buildMessages(systemPrompt, records[0]!);
    const replyFormat = { mode: "json_object" } as const;
    expect(formatDryRun(messages, estimate, model, replyFormat)).toMatch(/Mode: +grammar .*; `mode` does not apply\)/);
    const cli = formatDryRun(messages, estimate, model, replyFormat, renderForCli);
    expect(cli).toMatch(/Mode: +grammar .*; --mode does not apply\)/);
    expect(cli).toContain("please keep `mode` as typed");
  });
});

describe("the dry run of a batch run", () => {
  it("prices the run at Batch prices, half the standard tier's, and says so", async () => {
    const options = { systemPrompt, jsonSchema, model: "gpt-4o-mini", maxTokens: 1024 };
    const standard = await estimateRun(records, options);
    const batch = await estimateRun(records, { ...options, batch: true });
    expect(batch.cost!.low).toBeCloseTo(standard.cost!.low / 2, 12);
    expect(batch.cost!.high).toBeCloseTo(standard.cost!.high / 2, 12);
    expect(formatDryRun(undefined, batch, "gpt-4o-mini")).toContain("(batch: Batch API prices, half the standard tier; no caching discounts)");
  });
});
