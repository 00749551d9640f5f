import type { ResumeInfo } from "../run/journal.js";
import type { RunTotals } from "../config/options.js";
import type { BatchProgressEvent } from "../config/batch-options.js";
import { estimateCost, formatUsd } from "../models/pricing.js";
import { formatNumber } from "../io/number-text.js";

/** What a progress line shows: the totals, the time spent and, when known, how far into the input. */
export interface ProgressSnapshot extends RunTotals {
  elapsedMs: number;
  /** Bytes of the input consumed so far; with `totalBytes`, gives the percentage and the ETA. */
  bytesRead?: number;
  totalBytes?: number;
}

const SEPARATOR = " · ";
const integer = (n: number) => formatNumber(n);
const oneDecimal = (n: number) => formatNumber(n, 1);

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${integer(n)} ${n === 1 ? singular : plural}`;
}

/** "950", "12.3k", "1.2M": token totals only need to show their order of magnitude at a glance. */
function compactNumber(n: number): string {
  if (n < 1000) return integer(n);
  if (n < 1_000_000) return `${oneDecimal(n / 1000)}k`;
  return `${oneDecimal(n / 1_000_000)}M`;
}

/** "45s", "2m 10s", "1h 5m": an ETA needs no more precision than that. */
function formatRemaining(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** "12.3 s" for short runs, then the ETA style ("2m 10s"). */
function formatElapsed(ms: number): string {
  return ms < 60_000 ? `${oneDecimal(ms / 1000)} s` : formatRemaining(ms);
}

function formatRate(rowsPerSecond: number): string {
  return rowsPerSecond < 100 ? oneDecimal(rowsPerSecond) : integer(rowsPerSecond);
}

/**
 * One progress line, without a newline:
 * `1,200 rows (43%) · 1,190 ok · 10 failed · 35.2 rows/s · 1.2M tokens · ETA 2m 10s`.
 * The percentage and ETA appear only when `totalBytes` is known and `bytesRead > 0`; the ETA
 * extrapolates the time spent per byte, since the row count of a CSV is unknown until its end.
 * Reused rows are mentioned only when there are some.
 */
export function formatProgress(snapshot: ProgressSnapshot): string {
  const { rowsDone, rowsOk, rowsFailed, rowsReused, usage, elapsedMs, bytesRead, totalBytes } = snapshot;
  const fraction = totalBytes && bytesRead ? Math.min(1, bytesRead / totalBytes) : undefined;

  let head = count(rowsDone, "row");
  if (fraction !== undefined) head += ` (${Math.floor(fraction * 100)}%)`;
  const parts = [head, `${integer(rowsOk)} ok`, `${integer(rowsFailed)} failed`];
  if (rowsReused > 0) parts.push(`${integer(rowsReused)} reused`);
  if (elapsedMs > 0) parts.push(`${formatRate(rowsDone / (elapsedMs / 1000))} rows/s`);
  parts.push(`${compactNumber(usage.prompt_tokens + usage.completion_tokens)} tokens`);
  if (fraction !== undefined && fraction < 1 && elapsedMs > 0) {
    parts.push(`ETA ${formatRemaining((elapsedMs * (1 - fraction)) / fraction)}`);
  }
  return parts.join(SEPARATOR);
}

/**
 * A batch run's progress line, while it waits:
 * `round 2 · 1,950 of 2,000 rows done · batch_ab12 in_progress 30/50 · batch_cd34 validating 0/0`.
 */
export function formatBatchProgress(event: BatchProgressEvent): string {
  const parts = [`round ${event.round}`, `${integer(event.rowsDone)} of ${count(event.rowsTotal, "row")} done`];
  for (const batch of event.batches) {
    parts.push(`${batch.id} ${batch.status} ${integer(batch.completed)}/${integer(batch.total)}${batch.failed ? ` (${integer(batch.failed)} failed)` : ""}`);
  }
  return parts.join(SEPARATOR);
}

/**
 * The end-of-run summary line:
 * `16 rows: 15 ok, 1 failed (3 reused) · 18 model calls · 2 values coerced · 12,345 prompt + 2,345 completion tokens · ~$0.0032 (gpt-4o-mini) · 12.3 s`.
 * Coerced values appear only when there are some; the cost, an estimate at standard-tier list
 * prices, only when the model's price is known.
 */
export function formatSummary(
  totals: RunTotals & {
    elapsedMs: number;
    model: string;
    transport?: { requests: number; rateLimited: number };
    batch?: { batchesCreated: number; rounds: number; offline?: unknown };
  },
): string {
  const { rowsDone, rowsOk, rowsFailed, rowsReused, modelCalls, valuesCoerced, usage, elapsedMs, model, transport, batch } = totals;
  let head = `${count(rowsDone, "row")}: ${integer(rowsOk)} ok, ${integer(rowsFailed)} failed`;
  if (rowsReused > 0) head += ` (${integer(rowsReused)} reused)`;
  const parts = [
    head,
    count(modelCalls, "model call") + (batch ? batchNote(batch) : transportNote(modelCalls, transport)),
    ...(valuesCoerced > 0 ? [`${count(valuesCoerced, "value")} coerced`] : []),
    `${integer(usage.prompt_tokens)} prompt + ${integer(usage.completion_tokens)} completion tokens`,
  ];
  const cost = estimateCost(model, usage, batch ? "batch" : "standard");
  if (cost !== undefined) parts.push(`~${formatUsd(cost)} (${model}${batch ? ", batch" : ""})`);
  parts.push(formatElapsed(elapsedMs));
  return parts.join(SEPARATOR);
}

/** " (1,012 HTTP requests, 9 answered 429)" when retries or 429s happened; nothing otherwise. */
function transportNote(modelCalls: number, transport: { requests: number; rateLimited: number } | undefined): string {
  if (!transport || (transport.requests === modelCalls && transport.rateLimited === 0)) return "";
  return ` (${count(transport.requests, "HTTP request")}, ${integer(transport.rateLimited)} answered 429)`;
}

/**
 * The line a resumed run starts with, from what the journal holds (the input is streamed, so how
 * many of its rows are still there is only known at the end: the summary's "reused" count):
 * `Resuming from out.csv.journal: 300 of its 300 rows can be reused (done with this schema, prompt and model).`
 * Rows done with other settings, failed rows and rows of an earlier version's journal are told apart.
 */
export function formatResume(info: ResumeInfo): string {
  if (!info.found) return `Resuming: there is no journal at ${info.journal} yet, so every row is sent.`;
  const { rows, reusable, failed, earlierVersion } = info;
  let line = `Resuming from ${info.journal}: ${integer(reusable)} of its ${count(rows, "row")} can be reused`;
  line += reusable > 0 ? " (done with this schema, prompt and model)." : ".";
  if (failed > 0) {
    line += ` ${count(failed, "failed row")} ${failed === 1 ? "is" : "are"} tried again if the failure may pass (a transport error, or attempts or output tokens raised since).`;
  }
  const other = rows - reusable - failed - earlierVersion;
  if (other > 0) line += ` ${integer(other)} ${other === 1 ? "was" : "were"} done with another schema, prompt, examples, model, mode or temperature and ${other === 1 ? "is" : "are"} sent again.`;
  if (earlierVersion > 0) line += ` ${integer(earlierVersion)} ${earlierVersion === 1 ? "was" : "were"} written by an earlier version: reused only if no setting changed.`;
  return line;
}

/** Fastest redraw: ~10 per second is smooth to the eye and cheap for terminals and logs. */
const MIN_REDRAW_INTERVAL_MS = 100;
/** Return to column 0, then erase the whole line. */
const CLEAR_LINE = "\r\u001b[2K";

/**
 * A progress line redrawn in place on a terminal. Meant for stderr when it is a TTY: pass
 * `enabled: stream.isTTY === true`, because in a pipe or a log file the redraws would pile up.
 *
 * @example
 * const progress = new ProgressLine(process.stderr, { enabled: process.stderr.isTTY === true });
 * // for each row: progress.update({ ...totals, elapsedMs, bytesRead, totalBytes });
 * progress.finish();
 * console.error(formatSummary({ ...totals, elapsedMs, model }));
 */
export class ProgressLine {
  readonly #stream: NodeJS.WritableStream;
  readonly #enabled: boolean;
  readonly #now: () => number;
  #lastDrawAt: number | undefined;

  /**
   * @param options.enabled Draw at all; when false, every method does nothing.
   * @param options.now A monotonic clock in milliseconds, for throttling; `performance.now` by default.
   */
  constructor(stream: NodeJS.WritableStream, options: { enabled: boolean; now?: () => number }) {
    this.#stream = stream;
    this.#enabled = options.enabled;
    this.#now = options.now ?? (() => performance.now());
  }

  /** False when every method does nothing: a caller need not even gather what it would draw. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Redraws the line, unless the last redraw was less than 100 ms ago (then the snapshot is not even formatted: this runs for every row). */
  update(snapshot: ProgressSnapshot): void {
    if (this.#due()) this.#draw(formatProgress(snapshot));
  }

  /** Redraws the line with `line` (a batch run's status, say), unless the last redraw was less than 100 ms ago. */
  show(line: string): void {
    if (this.#due()) this.#draw(line);
  }

  /** True, and counted as a redraw, when the line is drawn at all and the last redraw was long enough ago. */
  #due(): boolean {
    if (!this.#enabled) return false;
    const now = this.#now();
    if (this.#lastDrawAt !== undefined && now - this.#lastDrawAt < MIN_REDRAW_INTERVAL_MS) return false;
    this.#lastDrawAt = now;
    return true;
  }

  #draw(line: string): void {
    this.#stream.write(CLEAR_LINE + this.#fitToWidth(line));
  }

  /** Clears the line, so the summary or the next output starts on a clean line. */
  finish(): void {
    if (!this.#enabled || this.#lastDrawAt === undefined) return;
    this.#stream.write(CLEAR_LINE);
    this.#lastDrawAt = undefined;
  }

  // A line longer than the terminal wraps, and "\r" then only returns to the start of its last
  // part: every redraw would leave a stale line behind.
  #fitToWidth(line: string): string {
    const columns = (this.#stream as { columns?: number }).columns;
    return columns && line.length >= columns ? `${line.slice(0, Math.max(0, columns - 2))}…` : line;
  }
}

/**
 * How a batch run's calls were sent: `in 2 batches, 3 rounds`; an offline job (request files for
 * vLLM's run-batch) creates no batch here, so it gives its rounds only.
 */
function batchNote(batch: { batchesCreated: number; rounds: number; offline?: unknown }): string {
  const rounds = count(batch.rounds, "round");
  return batch.offline ? ` in ${rounds} of request files` : ` in ${count(batch.batchesCreated, "batch", "batches")}, ${rounds}`;
}
