import { setTimeout as sleep } from "node:timers/promises";
import pLimit from "p-limit";
import type { RunTotals } from "../../config/options.js";
import type { BatchProgressEvent, BatchSettings } from "../../config/batch-options.js";
import { emptyTotals } from "../../config/options.js";
import type { InputRecord } from "../../core/prompt.js";
import type { RowResult } from "../../core/row-result.js";
import { attemptBudgetOf, startRow, type RowState } from "../../core/step.js";
import { TERMINAL_STATUSES, type Batch, type BatchApi } from "../../engine/http/batches.js";
import { ExtractError } from "../../errors/extract-error.js";
import { continueRow, firstCall } from "../attempts.js";
import type { RunContext } from "../context.js";
import { Journal, rowKey } from "../journal.js";
import { collectPart, type LivePart } from "./collect-part.js";
import { JobFile } from "./job-file.js";
import { MAX_FILE_BYTES, MAX_LINES, requestLine, splitIntoFiles, type BatchTarget } from "./request-lines.js";
import { plannedRow, rowStateOf, type JobRow } from "./row-states.js";

/** Options of {@link runBatch}. */
export interface BatchRunOptions {
  api: BatchApi;
  settings: BatchSettings;
  /** The journal finished rows go to (the job file is beside it). */
  journal: string;
  resume: boolean;
  /** Stops waiting: live batches keep running, and `resume` collects them later. */
  stopSignal?: AbortSignal;
  signal?: AbortSignal;
  onBatchProgress?: (event: BatchProgressEvent) => void;
}

/** What a batch run did. */
export interface BatchOutcome {
  /** Rows finished by this run's calls (not reused), their calls and tokens, every round summed. */
  finished: Pick<RunTotals, "rowsDone" | "modelCalls" | "usage">;
  /** True when stopped while batches were live: they keep running. */
  interrupted: boolean;
  /** The batches still live when the run stopped. */
  liveBatches: string[];
  /** The job file. */
  jobFile: string;
  batchesCreated: number;
  rounds: number;
}

/**
 * The batch runner: every row that the journal does not already hold goes through the Batch
 * API, round after round (first calls, then re-asks with the same feedback and budgets as the
 * synchronous path, driven by the same attempt step), until each is done; each finished row is
 * journaled under the same key and in the same form as the synchronous runner's, so that the
 * output is then written from the journal (and either path resumes the other). Every batch,
 * file and planned row is in the job file before the run waits on it (see job-file.ts).
 * `records` are the input's rows in order (an error for a row that cannot be sent).
 *
 * @throws ExtractError for what ends the run (credentials, a Files/Batches call failing after
 * the SDK's retries); the job file lets `resume` pick up from there.
 */
export async function runBatch(context: RunContext, records: readonly (InputRecord | ExtractError)[], options: BatchRunOptions): Promise<BatchOutcome> {
  const { api, settings } = options;
  const { temperature } = context.settings;
  const budget = attemptBudgetOf(context.settings);
  const journal = await Journal.open(options.journal, { resume: options.resume, fingerprint: context.fingerprint });
  const job = JobFile.open(options.journal, { resume: options.resume });
  const target: BatchTarget = {
    url: api.url,
    model: api.lineModel,
    tokenLimitField: api.tokenLimitField,
    maxLines: api.offline ? Number.POSITIVE_INFINITY : api.azure ? MAX_LINES.azure : MAX_LINES.openai,
    maxBytes: api.offline ? Number.POSITIVE_INFINITY : MAX_FILE_BYTES,
  };
  const format = { replyFormat: context.replyFormat, temperature };
  const finished: BatchOutcome["finished"] = { rowsDone: 0, modelCalls: 0, usage: emptyTotals().usage };
  const rows = new Map<number, JobRow>();
  const waiting = new Map<number, RowState>();
  const live = new Map<string, LivePart>();
  let rowsDone = 0;
  /** The highest attempt sent in a batch: round 1 is the first calls, each later one a round of re-asks. */
  let rounds = 0;
  let batchesCreated = 0;
  /** Learnt from an enqueued-token refusal: what may be in live batches at once. */
  let tokenLimit: number | undefined;

  const finish = (row: JobRow, result: RowResult) => {
    journal.record(row.key, row.index, result);
    rowsDone++;
    finished.rowsDone++;
    finished.modelCalls += result.attempts;
    finished.usage.prompt_tokens += result.usage.prompt_tokens;
    finished.usage.completion_tokens += result.usage.completion_tokens;
  };

  // Distinct rows, each either done (journaled), in a live batch, waiting for a call, or new.
  const seen = new Set<string>();
  for (const [index, record] of records.entries()) {
    if (record instanceof ExtractError) continue; // written as failed by the output pass
    const key = rowKey(context.fingerprint, record);
    if (seen.has(key)) continue; // an identical row: it takes the first one's result
    seen.add(key);
    if (journal.lookup(key, budget)) {
      rowsDone++;
      continue;
    }
    const first = firstCall(context, record);
    if (!("request" in first)) {
      rows.set(index, { index, key, firstMessages: [] });
      finish(rows.get(index)!, first);
      continue;
    }
    rows.set(index, { index, key, firstMessages: first.firstMessages });
  }
  const rowsTotal = seen.size;
  const ownRow = (i: number, k: string) => {
    const row = rows.get(i);
    return row && row.key === k && row.firstMessages.length > 0 && !journal.lookup(k, budget) ? row : undefined;
  };
  const inLive = new Set<number>();
  for (const part of job.state.parts.values()) {
    if (part.closed) continue;
    const states = new Map<string, { row: JobRow; state: RowState }>();
    for (const planned of part.rows) {
      const row = ownRow(planned.i, planned.k);
      if (row) states.set(planned.id, { row, state: rowStateOf(row, planned, budget) });
      if (row) inLive.add(row.index);
    }
    const tokens = [...states.values()].reduce((sum, { state }) => sum + requestLine("", state.request, format, target).tokens, 0);
    live.set(part.part, { record: part, states, tokens });
  }
  for (const [index, row] of rows) {
    if (inLive.has(index) || row.firstMessages.length === 0 || !ownRow(index, row.key)) continue;
    const planned = job.state.waiting.get(index);
    waiting.set(index, planned && planned.k === row.key ? rowStateOf(row, planned, budget) : startRow(row.firstMessages, budget));
  }
  for (const part of job.state.parts.values()) for (const planned of part.rows) rounds = Math.max(rounds, planned.a);

  const metadataOf = (part: string) => ({ llm_extract_job: job.state.run, llm_extract_part: part });

  /** Uploads a part's file and creates its batch, from wherever the job file says it stands. */
  const launch = async (part: LivePart): Promise<void> => {
    const { record } = part;
    if (!record.file) {
      const text = [...part.states.values()].map(({ row, state }) => requestLine(plannedRow(row, state).id, state.request, format, target).text).join("");
      job.append({ e: "uploaded", part: record.part, file: await api.upload(`llm-extract-${job.state.run}-${record.part}.jsonl`, text) });
    }
    if (!record.batch && record.creating) {
      const found = await api.find(metadataOf(record.part));
      if (found) job.append({ e: "created", part: record.part, batch: found.id });
    }
    if (!record.batch) {
      job.append({ e: "creating", part: record.part });
      const batch = await api.create(record.file!, metadataOf(record.part));
      job.append({ e: "created", part: record.part, batch: batch.id });
      batchesCreated++;
    }
  };

  /** Plans the waiting rows into files (within a learnt token limit) and launches them. */
  const submit = async (): Promise<void> => {
    const lines = [...waiting].map(([index, state]) => ({ index, line: requestLine(plannedRow(rows.get(index)!, state).id, state.request, format, target) }));
    const byId = new Map(lines.map(({ index, line }) => [line.customId, index]));
    const files = splitIntoFiles(
      lines.map(({ line }) => line),
      { maxLines: target.maxLines, maxBytes: target.maxBytes, maxTokens: tokenLimit },
    );
    let enqueued = [...live.values()].reduce((sum, part) => sum + part.tokens, 0);
    for (const file of files) {
      if (tokenLimit !== undefined && live.size > 0 && enqueued + file.tokens > tokenLimit) break; // the rest waits for room
      const states = new Map<string, { row: JobRow; state: RowState }>();
      for (const line of file.lines) {
        const index = byId.get(line.customId)!;
        const state = waiting.get(index)!;
        states.set(line.customId, { row: rows.get(index)!, state });
        waiting.delete(index);
        rounds = Math.max(rounds, state.attempts);
      }
      const part = `p${job.state.parts.size + 1}`;
      job.append({ e: "part", part, rows: [...states.values()].map(({ row, state }) => plannedRow(row, state)) });
      const livePart: LivePart = { record: job.state.parts.get(part)!, states, tokens: file.tokens };
      live.set(part, livePart);
      enqueued += file.tokens;
      await launch(livePart);
    }
  };

  const finishSync = async (): Promise<void> => {
    const limit = pLimit(context.settings.concurrency);
    await Promise.all(
      [...waiting].map(([index, state]) =>
        limit(async () => {
          finish(rows.get(index)!, await continueRow(context, state, options.signal));
          waiting.delete(index);
        }),
      ),
    );
  };

  const stopped = () => options.stopSignal?.aborted === true || options.signal?.aborted === true;
  const wake = anySignal(options);
  try {
    for (const part of live.values()) if (!part.record.batch) await launch(part);
    for (;;) {
      if (stopped()) break;
      if (live.size === 0) {
        if (waiting.size === 0) break;
        if (settings.finish === "sync" && rounds > 0) {
          await finishSync();
          break;
        }
        await submit();
      }
      const statuses: Batch[] = [];
      for (const [id, part] of live) {
        const batch = await api.retrieve(part.record.batch!);
        statuses.push(batch);
        if (!TERMINAL_STATUSES.has(batch.status)) continue;
        const othersLive = live.size > 1;
        const outcome = await collectPart(part, batch, { api, job, context, keepFiles: settings.keepFiles, othersLive, signal: options.signal });
        live.delete(id);
        for (const { row, result } of outcome.done) finish(row, result);
        for (const { row, state } of outcome.again) waiting.set(row.index, state);
        if (outcome.tokenLimit !== undefined) tokenLimit = outcome.tokenLimit;
      }
      options.onBatchProgress?.({ round: rounds, rowsDone, rowsTotal, batches: statuses.map(progressOf) });
      if (live.size > 0 && api.offline) break; // their results come with a later run
      if (live.size > 0 && !stopped()) await sleep(settings.pollMs, undefined, { signal: wake }).catch(() => undefined);
    }
  } finally {
    journal.close();
    job.close();
  }
  const liveBatches = [...live.values()].map((part) => part.record.batch).filter((id): id is string => id !== undefined);
  return { finished, interrupted: live.size > 0 || waiting.size > 0, liveBatches, jobFile: job.file, batchesCreated, rounds };
}

function progressOf(batch: Batch): BatchProgressEvent["batches"][number] {
  const counts = batch.request_counts ?? { completed: 0, failed: 0, total: 0 };
  return { id: batch.id, status: batch.status, completed: counts.completed, failed: counts.failed, total: counts.total };
}

/** Wakes the wait between two polls on either signal (made once per run: see nodejs/node#55351). */
function anySignal(options: Pick<BatchRunOptions, "signal" | "stopSignal">): AbortSignal | undefined {
  const signals = [options.signal, options.stopSignal].filter((signal): signal is AbortSignal => signal !== undefined);
  return signals.length ? AbortSignal.any(signals) : undefined;
}
