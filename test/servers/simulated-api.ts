/**
 * A {@link Handler} for the loopback chat server that behaves like the real OpenAI API under
 * load: it enforces per-minute request and token limits the way OpenAI does (with its
 * `x-ratelimit-*` headers), and injects transport faults (429, 500, dropped connections, slow
 * answers) and model faults (prose, wrong shape, cut-off JSON, values written loosely).
 *
 * Fault decisions are deterministic per row: the k-th admitted request of a row gets the same
 * answer for the same seed, whatever the client's concurrency or the order rows arrive in. That
 * holds because a client sends the requests of one row strictly one after another (re-asks and
 * transport retries of a row never overlap), while different rows interleave freely.
 *
 * @example
 * const api = createSimulatedApi({ reply: (row) => ({ name: row.name }), faults: { serverError: 0.1 } });
 * server.handle(api.handler);
 */
import { createHash } from "node:crypto";
import { rowContentOf, type ErrorStep, type Handler, type RecordedRequest, type Step } from "./chat-server.js";

/** Every fault kind, in the order their probability bands are laid out on [0, 1). */
export const FAULT_KINDS = ["rateLimit", "serverError", "drop", "slow", "invalidJson", "wrongShape", "truncated", "looseValues"] as const;

/**
 * A fault the simulator can inject. Transport faults (rateLimit, serverError, drop, slow) are
 * retried by the SDK; model faults (invalidJson, wrongShape, truncated) make the client re-ask;
 * looseValues (the right values written loosely: `"123 USD"`, `"yes"`, one object for a list of
 * one) makes it re-ask only when it does not coerce.
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

const MODEL_FAULTS: ReadonlySet<FaultKind> = new Set(["invalidJson", "wrongShape", "truncated", "looseValues"]);

/** Options of {@link createSimulatedApi}. */
export interface SimulatedApiOptions {
  /** The correct JSON value for a row (row = the JSON of its user message, see `rowContentOf`). */
  reply: (row: Record<string, unknown>) => unknown;
  /** Seed of the fault decisions. @default 1 */
  seed?: number;
  /** Probability per request of each fault kind; at most one fault per request, so they must sum to at most 1. */
  faults?: Partial<Record<FaultKind, number>>;
  /** Delay of a "slow" fault in ms; tests set it above the client's timeout. @default 2000 */
  slowMs?: number;
  /**
   * Model faults (invalidJson, wrongShape, truncated, looseValues) injected per row at most.
   * @default 2 (the client's maxAttempts 3 minus 1, so every row can still succeed)
   */
  maxModelFaultsPerRow?: number;
  /**
   * Transport faults (rateLimit, serverError, drop, slow) in a row at most before a
   * non-transport answer. @default 3 (fewer than the client's 4 SDK retries)
   */
  maxTransportFaultsInARow?: number;
  /**
   * Enforced limits, like OpenAI's: token buckets refilling continuously at limit/60 per second,
   * holding at most limit × burstSeconds / 60 (OpenAI enforces per-minute limits over shorter
   * slices, so a burst of a whole minute's quota is refused). `burstSeconds` defaults to 1.
   */
  limits?: { rpm?: number; tpm?: number; burstSeconds?: number };
  /** Extra latency of every answer in ms. @default 0 */
  latencyMs?: number;
  /** Clock in ms for the limiter and the stats' times; inject one to test buckets without sleeping. @default performance.now */
  now?: () => number;
}

/** What the simulator saw and did; read it after a run. */
export interface SimulatedApiStats {
  /** Chat requests seen (all, including refused ones). */
  requests: number;
  /** 429s from limit enforcement (injected rateLimit faults are counted in `injected`). */
  rateLimited: number;
  /** Faults injected, by kind. */
  injected: Record<FaultKind, number>;
  /** 200 answers with the correct reply (slow ones included: they were sent). */
  correctReplies: number;
  /** Correct non-slow replies per row key; a value above 1 means the row was processed twice. */
  servedPerRow: Map<string, number>;
  /** Clock time of the first request. */
  firstRequestAt?: number;
  /**
   * Clock time the latest answer was due to go out (decision time plus its delay). Slow faults
   * are left out: the client abandons them, and its retry's answer is what ends the row.
   */
  lastAnswerAt?: number;
  /** Totals that passed the limiter (token cost as the limiter estimates it; counted with or without limits). */
  admitted: { requests: number; tokens: number };
}

/** A handler for `server.handle()` and the stats it keeps. */
export interface SimulatedApi {
  handler: Handler;
  stats: SimulatedApiStats;
}

/** Organization named in rate-limit messages, as the real API names the caller's. */
export const ORGANIZATION = "org-simulated";
/** The prose an "invalidJson" fault answers with. */
export const INVALID_JSON_REPLY = "Sorry, I can't help with that right now.";

/**
 * Creates a simulated, rate-limited, flaky OpenAI API. Each chat request must carry the row's
 * JSON in a user message (after any few-shot examples); the handler throws otherwise, which
 * the chat server answers with a 500 naming the problem.
 *
 * Per request: it is counted; the limiter admits it or answers 429 (not a fault, and the row's
 * fault sequence does not advance); an admitted request gets the fault drawn for
 * (seed, row, n), where n counts the row's admitted requests, unless a cap suppresses it.
 *
 * @throws Error when fault probabilities are negative or sum above 1, or a limit is not positive.
 */
export function createSimulatedApi(options: SimulatedApiOptions): SimulatedApi {
  const seed = options.seed ?? 1;
  const faults = options.faults ?? {};
  const slowMs = options.slowMs ?? 2000;
  const maxModelFaults = options.maxModelFaultsPerRow ?? 2;
  const maxTransportRun = options.maxTransportFaultsInARow ?? 3;
  const latencyMs = options.latencyMs ?? 0;
  const now = options.now ?? (() => performance.now());
  checkProbabilities(faults);
  const limiter = new Limiter(options.limits ?? {}, now());

  const stats: SimulatedApiStats = {
    requests: 0,
    rateLimited: 0,
    injected: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    correctReplies: 0,
    servedPerRow: new Map(),
    admitted: { requests: 0, tokens: 0 },
  };
  const rows = new Map<string, { admitted: number; modelFaults: number; transportRun: number }>();

  /** Adds the configured latency (plus `extraMs`) and records when the answer goes out. */
  function answer(step: Step, at: number, extraMs = 0, countsAsAnswer = true): Step {
    const delayMs = latencyMs + extraMs;
    if (countsAsAnswer) stats.lastAnswerAt = Math.max(stats.lastAnswerAt ?? -Infinity, at + delayMs);
    return delayMs > 0 ? { ...step, delayMs } : step;
  }

  const handler: Handler = (req: RecordedRequest) => {
    const rowKey = rowKeyOf(req.body);
    const at = now();
    stats.requests++;
    stats.firstRequestAt ??= at;
    const tokens = tokenCost(req.body);
    const refusal = limiter.admit(tokens, at, String(req.body.model));
    if (refusal) {
      stats.rateLimited++;
      return answer(refusal, at);
    }
    stats.admitted.requests++;
    stats.admitted.tokens += tokens;

    const row = rows.get(rowKey) ?? { admitted: 0, modelFaults: 0, transportRun: 0 };
    rows.set(rowKey, row);
    const drawn = drawFaultOf(FAULT_KINDS, faults, `${seed}:${rowKey}:${row.admitted++}`);
    const isModel = drawn !== undefined && MODEL_FAULTS.has(drawn);
    const capped = isModel ? row.modelFaults >= maxModelFaults : row.transportRun >= maxTransportRun;
    const fault = capped ? undefined : drawn;
    if (fault === undefined || isModel) row.transportRun = 0;
    else row.transportRun++;
    if (isModel && fault !== undefined) row.modelFaults++;
    if (fault !== undefined) stats.injected[fault]++;

    const headers = limiter.headers();
    // Computed only when an answer needs it: a 500 or a drop does not depend on the row.
    const correctValue = () => options.reply(JSON.parse(rowKey) as Record<string, unknown>);
    const correct = () => JSON.stringify(correctValue());
    switch (fault) {
      case undefined:
        stats.correctReplies++;
        stats.servedPerRow.set(rowKey, (stats.servedPerRow.get(rowKey) ?? 0) + 1);
        return answer({ reply: correct(), headers }, at);
      case "rateLimit":
        return answer(
          {
            status: 429,
            error: {
              message: "Rate limit reached for requests (injected fault). Please try again in 20ms.",
              type: "requests",
              code: "rate_limit_exceeded",
            },
            // The SDK prefers retry-after-ms; retry-after is there for clients that only read it.
            headers: { ...headers, "retry-after-ms": "20", "retry-after": "1" },
          },
          at,
        );
      case "serverError":
        return answer({ status: 500, headers }, at);
      case "drop":
        return answer({ drop: true }, at);
      case "slow":
        stats.correctReplies++;
        return answer({ reply: correct(), headers }, at, slowMs, false);
      case "invalidJson":
        return answer({ reply: INVALID_JSON_REPLY, headers }, at);
      case "wrongShape":
        return answer({ reply: JSON.stringify(wrongShape(correctValue())), headers }, at);
      case "looseValues":
        return answer({ reply: JSON.stringify(looseValues(correctValue())), headers }, at);
      case "truncated": {
        const text = correct();
        return answer({ reply: text.slice(0, Math.floor(text.length / 2)), finishReason: "length", headers }, at);
      }
    }
  };

  return { handler, stats };
}

/**
 * The fewest chat requests a perfect client needs for `rows` rows: one per row plus one per
 * injected fault (a transport fault costs a retry, a model fault a re-ask), except loose values
 * for a client that coerces them (llm-extract's default). Refusals by the enforced limits come on top.
 */
export function minimumRequests(stats: SimulatedApiStats, rows: number, client: { coerce: boolean } = { coerce: true }): number {
  const costly = FAULT_KINDS.filter((kind) => kind !== "looseValues" || !client.coerce);
  return rows + costly.reduce((sum, kind) => sum + stats.injected[kind], 0);
}

/**
 * A duration in OpenAI's `x-ratelimit-reset-*` style (Go's duration format, whole
 * milliseconds): "0s", "20ms", "1s", "1.5s", "6m0s", "1h2m3s". Rounded up, so a client waiting
 * that long never comes back early; negative durations are "0s".
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  // Seconds with up to three decimals, trailing zeros dropped: 1500 → "1.5", 12000 → "12".
  const fraction = millis % 1000 === 0 ? "" : `.${String(millis % 1000).padStart(3, "0").replace(/0+$/, "")}`;
  const seconds = `${Math.floor(millis / 1000)}${fraction}`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** The row's key: the user message that holds the row's JSON in every attempt of that row. */
function rowKeyOf(body: any): string {
  const content = rowContentOf(body);
  if (content === undefined) throw new Error("simulated-api: no user message holds the row's JSON object");
  return content;
}

function checkProbabilities(faults: Partial<Record<FaultKind, number>>): void {
  const values = Object.values(faults);
  if (values.some((p) => !(p >= 0))) throw new Error("simulated-api: fault probabilities must be numbers >= 0");
  // The tolerance lets 0.1 + 0.2 + 0.7 (1.0000000000000002 in floating point) through.
  if (values.reduce((sum, p) => sum + p, 0) > 1 + 1e-9) {
    throw new Error("simulated-api: fault probabilities must sum to at most 1 (one fault per request at most)");
  }
}

/**
 * Picks one of `kinds` by cumulative probability bands over one uniform draw for `key`;
 * undefined = no fault. Shared with the Batch API simulator's per-line faults.
 */
export function drawFaultOf<K extends string>(kinds: readonly K[], faults: Partial<Record<K, number>>, key: string): K | undefined {
  const u = uniform(key);
  let upper = 0;
  for (const kind of kinds) {
    upper += faults[kind] ?? 0;
    if (u < upper) return kind;
  }
  return undefined;
}

/** A uniform number in [0, 1) that is a pure function of `key` (48 bits of its SHA-256), unlike Math.random. */
export function uniform(key: string): number {
  return createHash("sha256").update(key).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** The reply with every top-level value replaced, so it parses as JSON but fails any schema; a non-object becomes one such value. */
export function wrongShape(value: unknown): unknown {
  const wrong = { __wrong__: true };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return wrong;
  return Object.fromEntries(Object.keys(value).map((key) => [key, wrong]));
}

/**
 * The reply with the right values written as a careless model writes them: each number as an
 * amount (`12` -> `"12 USD"`), each boolean as a word (`"yes"` / `"no"`), each list of one object
 * as that object. A client that coerces where the schema wants a number, a boolean or a list reads
 * them back exactly; one that does not must ask again.
 */
function looseValues(value: unknown): unknown {
  if (typeof value === "number") return `${value} USD`;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) {
    const items = value.map(looseValues);
    return items.length === 1 && typeof items[0] === "object" && items[0] !== null && !Array.isArray(items[0]) ? items[0] : items;
  }
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, looseValues(item)]));
  return value;
}

/**
 * What OpenAI charges a request against the token limit at admission: the prompt estimated at
 * 4 characters a token, plus the whole output budget (max_tokens), used or not.
 */
function tokenCost(body: any): number {
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  const chars = messages.reduce<number>((sum, message) => sum + contentText((message as any)?.content).length, 0);
  return Math.ceil(chars / 4) + (body.max_tokens ?? body.max_completion_tokens ?? 0);
}

/** Text of a message's content: a string, or the text parts of an array. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part?.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
}

/** Ms in a minute: limits are per minute, the clock is in ms. */
const MS_PER_MINUTE = 60_000;

/** A continuously refilling bucket of one per-minute limit. */
class TokenBucket {
  // Amounts are kept in 1/60000ths of a request or token, so the bucket refills by exactly
  // `limit` per ms: with a whole-ms clock the arithmetic stays on integers, and the wait a 429
  // advertises is exactly enough (floating-point drift would make it 1 ms short or long).
  private readonly scaledCapacity: number;
  private scaled: number;
  private updatedAt: number;

  constructor(
    readonly limit: number,
    burstSeconds: number,
    minCapacity: number,
    start: number,
  ) {
    this.scaledCapacity = Math.max(minCapacity * MS_PER_MINUTE, limit * burstSeconds * 1000);
    this.scaled = this.scaledCapacity; // both buckets start full, like a fresh API key
    this.updatedAt = start;
  }

  get capacity(): number {
    return this.scaledCapacity / MS_PER_MINUTE;
  }

  refill(at: number): void {
    // max(0, ...): a clock that steps back must not drain the bucket.
    this.scaled = Math.min(this.scaledCapacity, this.scaled + Math.max(0, at - this.updatedAt) * this.limit);
    this.updatedAt = Math.max(this.updatedAt, at);
  }

  /** Ms until the bucket holds `cost` (0 if it does now); only meaningful when cost <= capacity. */
  waitMs(cost: number): number {
    return Math.max(0, cost * MS_PER_MINUTE - this.scaled) / this.limit;
  }

  take(cost: number): void {
    this.scaled -= cost * MS_PER_MINUTE;
  }

  get remaining(): number {
    return Math.floor(this.scaled / MS_PER_MINUTE);
  }

  /** Consumed and not yet refilled, for the "Used" of refusal messages. */
  get used(): number {
    return Math.round((this.scaledCapacity - this.scaled) / MS_PER_MINUTE);
  }

  /** Ms until the bucket is full again. */
  get resetMs(): number {
    return (this.scaledCapacity - this.scaled) / this.limit;
  }
}

interface LimitBucket {
  name: "requests" | "tokens";
  unit: "RPM" | "TPM";
  bucket: TokenBucket;
}

/** The requests and tokens buckets of the configured limits (none configured: admits everything, adds no headers). */
class Limiter {
  private readonly buckets: LimitBucket[] = [];

  constructor(limits: NonNullable<SimulatedApiOptions["limits"]>, start: number) {
    const burstSeconds = limits.burstSeconds ?? 1;
    for (const value of [limits.rpm, limits.tpm, burstSeconds]) {
      if (value !== undefined && !(value > 0)) throw new Error("simulated-api: limits must be positive numbers");
    }
    // A request must fit its bucket, or an rpm below 60 / burstSeconds would refuse everything.
    if (limits.rpm !== undefined) {
      this.buckets.push({ name: "requests", unit: "RPM", bucket: new TokenBucket(limits.rpm, burstSeconds, 1, start) });
    }
    if (limits.tpm !== undefined) {
      this.buckets.push({ name: "tokens", unit: "TPM", bucket: new TokenBucket(limits.tpm, burstSeconds, 0, start) });
    }
  }

  /**
   * Debits both buckets and returns undefined when both hold the request's cost; otherwise a
   * 429 naming the bucket with the longer wait. A request costing more tokens than the tokens
   * bucket can ever hold is refused as "Request too large" (as OpenAI refuses one above the
   * TPM limit), with a retry-after of the time until the bucket is full: the retry fails again,
   * so the client spends its retries quickly and reports the error.
   */
  admit(tokens: number, at: number, model: string): ErrorStep | undefined {
    const cost = { requests: 1, tokens };
    let worst: { entry: LimitBucket; waitMs: number; tooLarge: boolean } | undefined;
    for (const entry of this.buckets) {
      entry.bucket.refill(at);
      const tooLarge = cost[entry.name] > entry.bucket.capacity;
      const waitMs = tooLarge ? entry.bucket.resetMs : entry.bucket.waitMs(cost[entry.name]);
      if ((tooLarge || waitMs > 0) && (!worst || tooLarge || (!worst.tooLarge && waitMs > worst.waitMs))) {
        worst = { entry, waitMs, tooLarge };
      }
    }
    if (!worst) {
      for (const { name, bucket } of this.buckets) bucket.take(cost[name]);
      return undefined;
    }
    const { entry, waitMs, tooLarge } = worst;
    const { bucket } = entry;
    const scope = `for ${model} in organization ${ORGANIZATION} on ${entry.name} per min (${entry.unit})`;
    const message = tooLarge
      ? `Request too large ${scope}: Limit ${bucket.limit}, Requested ${cost[entry.name]}. ` +
        `The input or output tokens must be reduced in order to run successfully ` +
        `(the simulator admits at most ${Math.floor(bucket.capacity)} at once: see limits.burstSeconds).`
      : `Rate limit reached ${scope}: Limit ${bucket.limit}, Used ${bucket.used}, Requested ${cost[entry.name]}. ` +
        `Please try again in ${formatResetDuration(waitMs)}.`;
    return {
      status: 429,
      error: { message, type: entry.name, code: "rate_limit_exceeded" },
      headers: {
        ...this.headers(),
        "retry-after-ms": String(Math.ceil(waitMs)),
        "retry-after": String(Math.ceil(waitMs / 1000)),
      },
    };
  }

  /** OpenAI's x-ratelimit-* headers for each configured limit, at the buckets' current levels. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const { name, bucket } of this.buckets) {
      headers[`x-ratelimit-limit-${name}`] = String(bucket.limit);
      headers[`x-ratelimit-remaining-${name}`] = String(bucket.remaining);
      headers[`x-ratelimit-reset-${name}`] = formatResetDuration(bucket.resetMs);
    }
    return headers;
  }
}
