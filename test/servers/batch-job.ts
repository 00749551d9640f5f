/**
 * One batch of the Batch API simulator and its life: validating -> in_progress -> finalizing ->
 * completed, or failed (bad input, enqueued token limit), expired (after a set number of
 * answered lines), cancelling -> cancelled. Each {@link BatchJob.advance} is one step; states
 * only move forward. Requests are answered in a seeded shuffled order, a share of them per step
 * (so `request_counts` move while the batch runs), and the output file lists them in that order.
 */
import { answerRequest, type AnswerFunction, type BatchFaultKind, type BatchOutputLine } from "./batch-answer.js";
import { readBatchInput, type BatchLineError, type BatchRequestLine } from "./batch-input.js";
import { messageTexts } from "./chat-server.js";
import { ORGANIZATION, uniform } from "./simulated-api.js";

/** A Batch object's `status`. */
export type BatchStatus = "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";

/** States a batch leaves on its own; the others are terminal. */
const LIVE: ReadonlySet<BatchStatus> = new Set(["validating", "in_progress", "finalizing", "cancelling"]);

/** Steps an in-progress batch takes to answer all its requests. */
const ANSWER_STEPS = 3;
const DAY_SECONDS = 86_400;

/** What a batch needs from the server it runs in. */
export interface BatchJobContext {
  seed: number;
  answer: AnswerFunction;
  /** Most requests a file may hold. */
  maxRequests: number;
  /** A batch ends `expired` once this many of its requests are answered. */
  expireAfterLines: number | undefined;
  enqueuedTokenLimit: number | undefined;
  /** Tokens enqueued by the other validated, unfinished batches of `model`. */
  enqueuedTokens(model: string): number;
  /** Called once per request when its batch passes validation; returns the request's fault. */
  accept(request: BatchRequestLine): BatchFaultKind | undefined;
  /** Stores a file the batch produced; returns its id. */
  writeFile(filename: string, lines: BatchOutputLine[]): string;
  /** A fresh number for a request line's ids. */
  nextLineNumber(): number;
}

/** A request accepted for execution with its fault, decided at acceptance. */
interface Accepted extends BatchRequestLine {
  fault: BatchFaultKind | undefined;
}

const now = () => Math.floor(Date.now() / 1000);

/** One batch; the server keeps them, advances them and serializes them with {@link BatchJob.toJSON}. */
export class BatchJob {
  status: BatchStatus = "validating";
  /** Estimated prompt tokens of its requests (ceil(characters / 4) per request). */
  tokens = 0;
  model: string | null = null;
  private readonly times: Partial<Record<`${BatchStatus}_at` | "expires_at", number>> = {};
  private readonly createdAt = now();
  private errors: BatchLineError[] = [];
  private pending: Accepted[] = [];
  private total = 0;
  private readonly done: BatchOutputLine[] = [];
  private usage = { input_tokens: 0, output_tokens: 0 };
  private outputFileId: string | null = null;
  private errorFileId: string | null = null;

  constructor(
    readonly id: string,
    readonly inputFileId: string,
    readonly endpoint: string,
    readonly metadata: Record<string, string> | null,
    private readonly input: string,
  ) {}

  /** Whether the batch will still change on its own. */
  get live(): boolean {
    return LIVE.has(this.status);
  }

  /** Takes the batch one step along its life; a terminal batch stays as it is. */
  advance(context: BatchJobContext): void {
    switch (this.status) {
      case "validating":
        return this.validate(context);
      case "in_progress":
        return this.answerSome(context);
      case "finalizing":
        return this.finish("completed", context);
      case "cancelling":
        return this.finish("cancelled", context);
    }
  }

  /** Starts cancelling; false when the batch is past that (the API then answers 400). */
  cancel(): boolean {
    if (this.status !== "validating" && this.status !== "in_progress") return false;
    this.enter("cancelling");
    return true;
  }

  private validate(context: BatchJobContext): void {
    const input = readBatchInput(this.input, this.endpoint, context.maxRequests);
    if (!input.ok) return this.fail(input.errors);
    const tokens = input.requests.reduce((sum, request) => sum + Math.ceil(messageTexts(request.body).join("").length / 4), 0);
    const limit = context.enqueuedTokenLimit;
    if (limit !== undefined && tokens + context.enqueuedTokens(input.model) > limit) {
      return this.fail([
        {
          code: "token_limit_exceeded",
          message:
            `Enqueued token limit reached for ${input.model} in organization ${ORGANIZATION}. Limit: ${limit} enqueued tokens. ` +
            `Please try again once some in_progress batches have been completed.`,
          param: null,
          line: null,
        },
      ]);
    }
    this.model = input.model;
    this.tokens = tokens;
    this.total = input.requests.length;
    const accepted = input.requests.map((request) => ({ ...request, fault: context.accept(request) }));
    this.pending = shuffled(accepted, `${context.seed}:${this.id}`);
    this.times.expires_at = this.createdAt + DAY_SECONDS;
    this.enter("in_progress");
  }

  private answerSome(context: BatchJobContext): void {
    const expireAt = context.expireAfterLines;
    let count = Math.ceil(this.total / ANSWER_STEPS);
    if (expireAt !== undefined) count = Math.min(count, Math.max(0, expireAt - this.done.length));
    for (const request of this.pending.splice(0, count)) {
      const line = answerRequest(request.customId, request.body, request.fault, context.answer, context.nextLineNumber());
      const usage = (line.response?.body as { usage?: { prompt_tokens: number; completion_tokens: number } } | undefined)?.usage;
      this.usage.input_tokens += usage?.prompt_tokens ?? 0;
      this.usage.output_tokens += usage?.completion_tokens ?? 0;
      this.done.push(line);
    }
    if (this.pending.length === 0) this.enter("finalizing");
    else if (expireAt !== undefined && this.done.length >= expireAt) this.finish("expired", context);
  }

  /** Ends the batch in `status`, writing its output and error files (requests never run go to the error file). */
  private finish(status: "completed" | "expired" | "cancelled", context: BatchJobContext): void {
    const unrun = this.pending.map((request) => ({
      id: `batch_req_${context.nextLineNumber()}`,
      custom_id: request.customId,
      response: null,
      error:
        status === "expired"
          ? { code: "batch_expired", message: "This request could not be executed before the completion window expired." }
          : { code: "batch_cancelled", message: "This request was not executed because the batch was cancelled." },
    }));
    this.pending = [];
    const outputs = this.done.filter((line) => line.response?.status_code === 200);
    const errors = [...this.done.filter((line) => line.response?.status_code !== 200), ...unrun];
    if (outputs.length > 0) this.outputFileId = context.writeFile(`${this.id}_output.jsonl`, outputs);
    if (errors.length > 0) this.errorFileId = context.writeFile(`${this.id}_error.jsonl`, errors);
    this.enter(status);
  }

  private fail(errors: BatchLineError[]): void {
    this.errors = errors;
    this.enter("failed");
  }

  private enter(status: BatchStatus): void {
    this.status = status;
    this.times[`${status}_at`] = now();
  }

  /** The Batch object as the API returns it: unset fields are null, as the real API sends them. */
  toJSON() {
    const answered = this.done.length;
    const failed = this.done.filter((line) => line.response?.status_code !== 200).length;
    const time = (key: keyof BatchJob["times"]) => this.times[key] ?? null;
    return {
      id: this.id,
      object: "batch",
      endpoint: this.endpoint,
      model: this.model,
      errors: this.errors.length > 0 ? { object: "list", data: this.errors } : null,
      input_file_id: this.inputFileId,
      completion_window: "24h",
      status: this.status,
      output_file_id: this.outputFileId,
      error_file_id: this.errorFileId,
      created_at: this.createdAt,
      in_progress_at: time("in_progress_at"),
      expires_at: time("expires_at"),
      finalizing_at: time("finalizing_at"),
      completed_at: time("completed_at"),
      failed_at: time("failed_at"),
      expired_at: time("expired_at"),
      cancelling_at: time("cancelling_at"),
      cancelled_at: time("cancelled_at"),
      // Requests that were run: one that expired or was cancelled unrun counts in neither.
      request_counts: { total: this.total, completed: answered - failed, failed },
      usage: {
        ...this.usage,
        total_tokens: this.usage.input_tokens + this.usage.output_tokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens_details: { reasoning_tokens: 0 },
      },
      metadata: this.metadata,
    };
  }
}

/** A copy of `items` in a seeded random order (Fisher-Yates over {@link uniform} draws). */
function shuffled<T>(items: T[], key: string): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(uniform(`${key}:${i}`) * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
