import type { RowResult } from "../../core/row-result.js";
import { retryRow, stepRow, type RowState } from "../../core/step.js";
import type { Batch, BatchApi } from "../../engine/http/batches.js";
import { ExtractError } from "../../errors/extract-error.js";
import type { PromptContext } from "../context.js";
import { collectAnswers, type ResultFile } from "./collect.js";
import type { JobFile, PartRecord } from "./job-file.js";
import { plannedRow, type JobRow } from "./row-states.js";

/** A part whose batch may still be running: its rows by custom_id, with the state each was sent in. */
export interface LivePart {
  record: PartRecord;
  states: Map<string, { row: JobRow; state: RowState }>;
  /** Its estimated enqueued tokens. */
  tokens: number;
}

/** What a terminal batch left: finished rows, rows that need another call, and a token limit learnt. */
export interface PartOutcome {
  done: { row: JobRow; result: RowResult }[];
  again: { row: JobRow; state: RowState }[];
  /** Set when the provider refused the batch for its enqueued-token limit: what to stay under. */
  tokenLimit?: number;
}

/** What {@link collectPart} works with. */
export interface CollectPartOptions {
  api: BatchApi;
  job: JobFile;
  context: PromptContext;
  keepFiles: boolean;
  /** True when other batches of the job are live (a refused part then waits for them). */
  othersLive: boolean;
  signal?: AbortSignal;
}

/**
 * Collects a batch in a terminal state. `completed`, `expired` and `cancelled`: both result
 * files are read, each submitted row gets its answer (missing ones a retry), and each answer
 * goes through the attempt step. `failed` for the enqueued-token limit: the part is rejected and
 * its rows wait to be sent again in smaller files. `failed` otherwise (the provider refused the
 * file): each row fails with the provider's line errors. The outcome is in the job file (and
 * the files deleted, unless `keepFiles`) before this returns.
 */
export async function collectPart(part: LivePart, batch: Batch, options: CollectPartOptions): Promise<PartOutcome> {
  const { api, job, context } = options;
  const outcome: PartOutcome = { done: [], again: [] };
  const lineErrors = batch.errors?.data ?? [];
  if (batch.status === "failed" && lineErrors.some((error) => error.code === "token_limit_exceeded")) {
    const said = lineErrors.map((error) => /Limit: ([\d,]+)/.exec(error.message ?? "")?.[1]).find(Boolean);
    const limit = said ? Number(said.replaceAll(",", "")) : Infinity;
    // Below what was refused, so that a part refused with nothing else live is cut smaller each time.
    outcome.tokenLimit = Math.max(1, Math.min(limit, options.othersLive ? limit : Math.floor(part.tokens / 2)));
    if (!options.othersLive && part.states.size === 1) {
      const error = new ExtractError("MODEL_ERROR", `The provider refused the batch ${batch.id}: ${lineErrors[0]?.message ?? "enqueued token limit"}`);
      failAll(outcome, part, error, context);
    } else {
      job.append({ e: "rejected", part: part.record.part });
      for (const entry of part.states.values()) outcome.again.push(entry);
      await removeFiles(api, [batch.input_file_id], options.keepFiles);
      return outcome;
    }
  } else if (batch.status === "failed") {
    const where = lineErrors.map((error) => `${error.line ? `line ${error.line} of ${batch.input_file_id}: ` : ""}${error.message ?? error.code}`);
    const error = new ExtractError("MODEL_ERROR", `The batch ${batch.id} failed${where.length ? `: ${where.slice(0, 3).join("; ")}` : ""}.`, {
      file: batch.input_file_id,
      line: lineErrors[0]?.line ?? undefined,
    });
    failAll(outcome, part, error, context);
  } else {
    const files: ResultFile[] = [];
    for (const id of [batch.output_file_id, batch.error_file_id]) {
      if (id) files.push({ name: id, text: await api.content(id, options.signal) });
    }
    const answers = collectAnswers(files, part.states.keys(), { replyFormat: context.replyFormat, errors: api.errors });
    for (const [id, { row, state }] of part.states) {
      const answer = answers.get(id)!;
      const step = "reply" in answer ? stepRow(state, answer.reply, context.schema) : answer.retry ? retryRow(state, answer.error) : stepRow(state, answer.error, context.schema);
      if (step.done) outcome.done.push({ row, result: step.result });
      else outcome.again.push({ row, state: step.state });
    }
  }
  job.append({ e: "collected", part: part.record.part, next: outcome.again.map(({ row, state }) => plannedRow(row, state)) });
  await removeFiles(api, [batch.input_file_id, batch.output_file_id, batch.error_file_id], options.keepFiles);
  return outcome;
}

/** Fails every row of a part that the provider refused as a whole: the step ends a row on an error. */
function failAll(outcome: PartOutcome, part: LivePart, error: ExtractError, context: PromptContext): void {
  for (const { row, state } of part.states.values()) {
    const step = stepRow(state, error, context.schema);
    if (step.done) outcome.done.push({ row, result: step.result });
  }
}

async function removeFiles(api: BatchApi, ids: readonly (string | null | undefined)[], keep: boolean): Promise<void> {
  if (keep) return;
  for (const id of ids) if (id) await api.remove(id).catch(() => undefined); // a file left behind costs nothing but storage
}
