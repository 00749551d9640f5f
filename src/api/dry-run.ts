import type { ReplyFormat } from "../engine/types.js";
import { buildMessages, type ChatMessage, type InputRecord } from "../core/prompt.js";
import { formatNumber } from "../io/number-text.js";
import { estimateCost, formatUsd } from "../models/pricing.js";
import { isEmbeddedModel } from "../run/context.js";
import { countTokens, isExactTokenizer, promptTokenCounter } from "../models/tokens.js";
import { modelInfo } from "../models/catalogue.js";
import { minimalJsonFor } from "../schema/minimal-value.js";

/** What a run would cost, estimated without calling the model. */
export interface DryRunEstimate {
  rows: number;
  /** Prompt tokens for one attempt per row (system message, examples, user message, framing), summed over all rows. */
  promptTokens: number;
  /**
   * Completion tokens of the run. `low`: every row answered with the shortest JSON that fits the
   * schema (every leaf null, empty or zero). `high`: four times that per row, capped at `maxTokens`.
   */
  completionTokens: { low: number; high: number };
  /** USD at standard-tier list prices (Batch prices with `batch`), prompt plus low / high completion; undefined when the price is unknown. */
  cost?: { low: number; high: number };
  /** False when token counts are approximated (a model whose tokenizer is unknown). */
  exact: boolean;
  /** True when `cost` is at Batch API prices. */
  batch?: boolean;
}

/** Options of {@link estimateRun}, named as in `extract()`. */
export interface DryRunOptions {
  /** The run's system prompt, from `buildSystemPrompt`. */
  systemPrompt: string;
  /** The run's few-shot example messages, from `buildExampleMessages`. @default [] */
  exampleMessages?: readonly ChatMessage[];
  /** The JSON Schema the model is asked to follow, from `toPromptJsonSchema`. */
  jsonSchema: Record<string, unknown>;
  model: string;
  /** Output budget of a first attempt, which bounds the high completion estimate per row. */
  maxTokens: number;
  /** Price the run at Batch API prices. @default false */
  batch?: boolean;
}

/** A generous reply is this many times the shortest one: real values are longer than null. */
const HIGH_COMPLETION_FACTOR = 4;

/**
 * Estimates the tokens and cost of a run with no network call: builds each row's messages as the
 * run would (`buildMessages`) and counts them. Records are consumed one at a time, so memory stays
 * flat however long the input. Re-asks are not included: they depend on the model's replies.
 *
 * @example
 * const estimate = await estimateRun(readCsvRecords("tickets.csv"), { systemPrompt, jsonSchema, model: "gpt-4o-mini", maxTokens: 1024 });
 */
export async function estimateRun(
  records: AsyncIterable<InputRecord> | Iterable<InputRecord>,
  options: DryRunOptions,
): Promise<DryRunEstimate> {
  const { systemPrompt, exampleMessages = [], jsonSchema, model, maxTokens } = options;
  const tier = options.batch ? "batch" : "standard";
  const countPrompt = promptTokenCounter(systemPrompt, model, exampleMessages);

  let rows = 0;
  let promptTokens = 0;
  for await (const record of records) {
    rows += 1;
    promptTokens += countPrompt(buildMessages(systemPrompt, record, exampleMessages));
  }

  const lowPerRow = countTokens(JSON.stringify(minimalJsonFor(jsonSchema)), model);
  const highPerRow = Math.max(lowPerRow, Math.min(lowPerRow * HIGH_COMPLETION_FACTOR, maxTokens));
  const completionTokens = { low: lowPerRow * rows, high: highPerRow * rows };

  const low = estimateCost(model, { prompt_tokens: promptTokens, completion_tokens: completionTokens.low }, tier);
  const high = estimateCost(model, { prompt_tokens: promptTokens, completion_tokens: completionTokens.high }, tier);
  const estimate: DryRunEstimate = { rows, promptTokens, completionTokens, exact: isExactTokenizer(model), ...(options.batch ? { batch: true } : {}) };
  if (low !== undefined && high !== undefined) estimate.cost = { low, high };
  return estimate;
}

const integer = (n: number) => formatNumber(n);

/**
 * The dry-run report: the exact messages of the first row under role headers, then the
 * estimate (rows, prompt tokens, completion range, cost range or "price unknown for <model>").
 * Approximate token counts are flagged "(approximate tokenizer)". With `replyFormat`, a line says
 * how the JSON is asked for and, in `json_schema` / `tools` mode, what the schema sent with each
 * request adds. The report's own notes name options in backticks (`mode`); `renderNote` lets the
 * CLI name its flags instead. It is not applied to the messages, which are the row's data.
 */
export function formatDryRun(
  firstMessages: readonly ChatMessage[] | undefined,
  estimate: DryRunEstimate,
  model: string,
  replyFormat?: ReplyFormat,
  renderNote: (note: string) => string = (note) => note,
): string {
  const lines: string[] = [];
  if (firstMessages && firstMessages.length > 0) {
    lines.push("Messages for the first row:", "");
    for (const message of firstMessages) lines.push(`── ${message.role}${message.example ? " (example)" : ""} ──`, message.content, "");
  } else {
    lines.push("The input has no rows.", "");
  }

  const approximate = estimate.exact ? "" : " (approximate tokenizer)";
  const { low, high } = estimate.completionTokens;
  lines.push(`Model:             ${model}`);
  if (replyFormat) lines.push(`Mode:              ${renderNote(describeReplyFormat(replyFormat, model))}`);
  lines.push(
    `Rows:              ${integer(estimate.rows)}`,
    `Prompt tokens:     ${integer(estimate.promptTokens)}${approximate} (one attempt per row; re-asks add more)`,
    `Completion tokens: ${integer(low)} – ${integer(high)}${approximate}`,
    estimate.cost
      ? `Estimated cost:    ${formatUsd(estimate.cost.low)} – ${formatUsd(estimate.cost.high)} ${estimate.batch ? "(batch: Batch API prices, half the standard tier; no caching discounts)" : "(standard tier, no caching or Batch discounts)"}`
      : `Estimated cost:    price unknown for ${model}`,
  );
  // Reasoning models bill their hidden reasoning as completion tokens, which no count can predict.
  if (modelInfo(model).reasoning) {
    lines.push(`Note: ${model} also bills hidden reasoning tokens as completion tokens; they are not in this estimate.`);
  }
  return lines.join("\n");
}

/** One line on the mode: the request fields it adds, and the schema's size where it sends one. */
function describeReplyFormat(format: ReplyFormat, model: string): string {
  if (isEmbeddedModel(model)) return "grammar (the embedded engine decodes under a grammar made from the schema; `mode` does not apply)";
  if (format.mode === "json_object") return "json_object (response_format json_object; the schema is in the system message)";
  const tokens = integer(countTokens(JSON.stringify(format.schema), model));
  const sent =
    format.mode === "json_schema"
      ? `response_format json_schema "${format.name}", strict`
      : `tools: function "${format.name}"${format.strict ? ", strict" : ", not strict (the schema has no strict form)"}, forced by tool_choice`;
  return `${format.mode} (${sent}); the schema also goes with every request: about ${tokens} more prompt tokens each, not in the counts below`;
}
