/**
 * A loopback HTTP server speaking OpenAI's Files and Batches API as the `openai` SDK calls it
 * (`client.files.*`, `client.batches.*`), for tests of the batch runner. Batches move through
 * their states on a timer (`stepMs`), answer each request line with a real `chat.completion`
 * decided by the test's `answer` function, and inject seeded faults: content faults, per-request
 * 500s and 429s, expiry with partial results, the enqueued token limit, and the brief 403 on a
 * just-written output file. Azure OpenAI's form of the paths is served too (`/openai/files`,
 * `/openai/batches` with `api-version`, and the v1 form `/openai/v1/...`).
 *
 * Nothing here depends on timing to be right: states only move forward, and a client polls until
 * a terminal state. `hold()` freezes every batch where it is, so a test can act while one is live.
 *
 * @example
 * const api = await startBatchApi({ answer: (body) => ({ name: "Ada" }), stepMs: 5 });
 * const client = new OpenAI({ baseURL: api.url, apiKey: "test" });
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { minimalJsonFor } from "../../src/schema/minimal-value.js";
import { drawBatchFault, type AnswerFunction, type BatchFaultKind } from "./batch-answer.js";
import { BatchJob } from "./batch-job.js";
import { createBatchRoutes, type StoredFile } from "./batch-routes.js";
import { sendError } from "./chat-server.js";

export { cutOff, failRequest, type AnswerFunction, type BatchAnswer, type BatchOutputLine } from "./batch-answer.js";

/** Options of {@link startBatchApi}. */
export interface BatchApiOptions {
  /**
   * The reply to one request: a JSON record (the message content, or the function call's
   * arguments in tools mode), raw text, or `cutOff(value)` / `failRequest(status)`. It sees the
   * request's body, so a test can answer a re-ask (messages ending with the correction) apart.
   * @default the smallest value of the body's json_schema or tool schema; `{}` in json_object mode
   */
  answer?: AnswerFunction;
  /** Ms between two steps of every live batch (a batch takes about 6 steps). @default 50 */
  stepMs?: number;
  /** Seed of the faults and of the output files' order. @default 1 */
  seed?: number;
  /** Probability per request of each fault; they must sum to at most 1. */
  faults?: Partial<Record<BatchFaultKind, number>>;
  /** Faults injected per fault key at most, so every row can end right after re-asks. @default 2 */
  maxFaultsPerRow?: number;
  /**
   * What a request's faults are decided by: the k-th request with the same key draws the same
   * fault for the same seed, whatever the order. @default the custom_id
   */
  faultKey?: (body: Record<string, any>, customId: string) => string;
  /** Every batch ends `expired` once this many of its requests are answered (partial output kept). */
  expire?: { afterLines: number };
  /** Enqueued tokens allowed per model: a batch that would pass it fails with `token_limit_exceeded`. */
  enqueuedTokenLimit?: number;
  /** GETs of each output or error file's content answered 403 before it is readable. @default 0 */
  forbiddenReads?: number;
  /** Most requests per input file. @default 50_000 */
  maxRequests?: number;
}

/** What the server saw; read it after a run. */
export interface BatchApiStats {
  filesUploaded: number;
  filesDeleted: number;
  batchesCreated: number;
  /** Requests accepted for execution per custom_id (a batch that failed validation counts none). */
  linesPerCustomId: Map<string, number>;
  /** Content GETs answered 403 by the `forbiddenReads` quirk. */
  forbiddenAnswers: number;
  /** Every HTTP request, in arrival order. */
  requests: { method: string; path: string; query: Record<string, string> }[];
}

/** A running simulator; see {@link startBatchApi}. */
export interface BatchApi {
  /** Base URL for `new OpenAI({ baseURL })`, e.g. "http://127.0.0.1:54321/v1". */
  url: string;
  /** The origin, for `new AzureOpenAI({ endpoint })`. */
  origin: string;
  stats: BatchApiStats;
  /** Every batch as the API would return it, in creation order. */
  batches(): ReturnType<BatchJob["toJSON"]>[];
  /** Ids of the batches still moving (validating, in_progress, finalizing, cancelling). */
  liveBatches(): string[];
  /** The text of a stored file (deleted ones included), or undefined. */
  fileText(fileId: string): string | undefined;
  /** Freezes every batch in its state until {@link BatchApi.release}. */
  hold(): void;
  release(): void;
  /** Takes every live batch one step, held or not: with `hold()`, a test drives the states itself. */
  step(): void;
  /** Stops the clock, stops listening, and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts the simulator on 127.0.0.1 (an ephemeral port).
 * @throws Error when fault probabilities are negative or sum above 1.
 */
export async function startBatchApi(options: BatchApiOptions = {}): Promise<BatchApi> {
  const faults = options.faults ?? {};
  const probabilities = Object.values(faults);
  if (probabilities.some((p) => !(p >= 0)) || probabilities.reduce((sum, p) => sum + p, 0) > 1 + 1e-9) {
    throw new Error("batch-api: fault probabilities must be numbers >= 0 summing to at most 1");
  }
  const seed = options.seed ?? 1;
  const maxFaults = options.maxFaultsPerRow ?? 2;
  const files = new Map<string, StoredFile>();
  const jobs = new Map<string, BatchJob>();
  const faultState = new Map<string, { seen: number; faults: number }>();
  const stats: BatchApiStats = {
    filesUploaded: 0,
    filesDeleted: 0,
    batchesCreated: 0,
    linesPerCustomId: new Map(),
    forbiddenAnswers: 0,
    requests: [],
  };
  let lineNumber = 0;
  let held = false;

  const context = {
    seed,
    answer: options.answer ?? defaultAnswer,
    maxRequests: options.maxRequests ?? 50_000,
    expireAfterLines: options.expire?.afterLines,
    enqueuedTokenLimit: options.enqueuedTokenLimit,
    enqueuedTokens: (model: string) =>
      [...jobs.values()].filter((job) => job.live && job.model === model).reduce((sum, job) => sum + job.tokens, 0),
    accept({ customId, body }: { customId: string; body: Record<string, any> }): BatchFaultKind | undefined {
      stats.linesPerCustomId.set(customId, (stats.linesPerCustomId.get(customId) ?? 0) + 1);
      const key = options.faultKey ? options.faultKey(body, customId) : customId;
      const state = faultState.get(key) ?? { seen: 0, faults: 0 };
      faultState.set(key, state);
      const fault = drawBatchFault(faults, `${seed}:${key}:${state.seen++}`);
      if (fault === undefined || state.faults >= maxFaults) return undefined;
      state.faults++;
      return fault;
    },
    writeFile: (filename: string, lines: object[]) =>
      routes.storeFile(filename, "batch_output", lines.map((line) => `${JSON.stringify(line)}\n`).join(""), options.forbiddenReads ?? 0),
    nextLineNumber: () => ++lineNumber,
  };
  const routes = createBatchRoutes({ files, jobs, stats });

  const server = http.createServer((req, res) => {
    routes.respond(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendError(res, 500, {}, { message: `batch-api: ${err instanceof Error ? err.message : String(err)}` });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const step = () => {
    for (const job of jobs.values()) job.advance(context);
  };
  const timer = setInterval(() => held || step(), options.stepMs ?? 50);
  timer.unref();

  return {
    url: `http://127.0.0.1:${port}/v1`,
    origin: `http://127.0.0.1:${port}`,
    stats,
    batches: () => [...jobs.values()].map((job) => job.toJSON()),
    liveBatches: () => [...jobs.values()].filter((job) => job.live).map((job) => job.id),
    fileText: (fileId) => files.get(fileId)?.text,
    hold() {
      held = true;
    },
    release() {
      held = false;
    },
    step,
    close() {
      clearInterval(timer);
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The SDK keeps connections alive; without this, close() waits for their idle timeout.
        server.closeAllConnections();
      });
    },
  };
}

/** A fixed valid answer: the smallest value of the schema the body asks for, `{}` without one. */
function defaultAnswer(body: Record<string, any>): object {
  const schema = body.response_format?.json_schema?.schema ?? body.tools?.[0]?.function?.parameters;
  return schema ? (minimalJsonFor(schema) as object) : {};
}
