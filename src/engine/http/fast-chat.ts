import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import type OpenAI from "openai";
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai/error";
import type { Dispatcher, Pool } from "undici";
import type { Pacer } from "./pacing.js";
import type { CallGuard, FirstContact } from "./first-contact.js";
import type { HeaderReader } from "./rate-limit-headers.js";
import { retryAfterMs } from "./rate-limit-headers.js";

// The fast path: Chat Completions over an undici `Pool` instead of the SDK's request machinery.
// Measured on 2 cores against a loopback server that answers at once (issue 14), the SDK costs
// 800-900 µs of client CPU per request and Node's `fetch` alone about 670; undici's
// `Pool.request` costs 115-145. What a call means does not change: the body is
// chatRequestBody()'s, the headers are the ones the SDK sends (sdk-headers.ts), every attempt
// goes through the run's Pacer and FirstContact, failures are the SDK's own error classes (so
// fromApiError stays the one mapping), and retries follow the SDK's rules by calling the SDK's
// own `shouldRetry` and `calculateDefaultRetryTimeoutMillis` on a client of the same settings.
// That client, and with it the SDK, is loaded at the first answer that is not a success: a run
// whose requests all succeed never loads the SDK, whose 150 modules would be most of its start.
//
// Why not undici's RetryAgent: it retries inside the dispatcher, out of the pacer's sight (a
// retried 429 would skip the shared gate and the stats); it reads `retry-after` in seconds only
// (no `retry-after-ms`, no `x-should-retry`, no 408/409); and when its retries run out it throws
// a RequestRetryError without the error body that fromApiError reads (`insufficient_quota`).

/** One Chat Completions call on the fast path: the body as sent, its pacing cost, the caller's signal and first-contact guard. */
export interface FastChatCall {
  body: OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
  cost: number;
  signal: AbortSignal | undefined;
  guard: CallGuard;
}

/**
 * Sends a call; resolves to the completion, or to `undefined` when the server answered with
 * something the fast path leaves to the SDK (a redirect, which `fetch` follows), or when the SDK
 * has no retry rules where the fast path reads them.
 * @throws the SDK's `APIError` subclasses, as `client.chat.completions.create` would.
 */
export type FastChat = (call: FastChatCall) => Promise<OpenAI.Chat.Completions.ChatCompletion | undefined>;

/** The SDK client's retry rules: private in its types, public at run time; checked before use. */
export interface SdkRetryRules {
  shouldRetry(response: { status: number; headers: HeaderReader }): Promise<boolean>;
  calculateDefaultRetryTimeoutMillis(retriesRemaining: number, maxRetries: number): number;
}

/** `client` as its retry rules, or undefined when the SDK has them elsewhere (a release could move them). */
export function retryRulesOf(client: OpenAI): SdkRetryRules | undefined {
  const rules = client as unknown as Partial<SdkRetryRules>;
  return typeof rules.shouldRetry === "function" && typeof rules.calculateDefaultRetryTimeoutMillis === "function" ? (client as unknown as SdkRetryRules) : undefined;
}

/** Where the fast path sends its calls, and how: what `createClient()` would give the SDK. */
export interface FastChatTarget {
  /** The API's base URL (`http://127.0.0.1:8000/v1`); see {@link fastChatServes}. */
  baseURL: string;
  /** The request headers (sdk-headers.ts). */
  headers: Record<string, string>;
  /** Milliseconds from sending a request to its response headers. */
  timeout: number;
  /** Retries of one call, as the SDK counts them. */
  maxRetries: number;
  /**
   * The SDK's retry rules, for a client of the same settings: loaded at the first failed attempt.
   * Undefined when the SDK has none where they are read: the call, and the run's next ones, are
   * then left to the SDK path.
   */
  retryRules(): Promise<SdkRetryRules | undefined>;
}

/**
 * True when the fast path can stand in for the SDK at `baseURL`: plain http(s), no query or
 * fragment (which the SDK would join the path into), on a port `fetch` would connect to (it
 * refuses some, with its own message). The caller keeps the SDK path for user-supplied clients
 * and Azure.
 */
export function fastChatServes(baseURL: string): boolean {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && url.search === "" && url.hash === "" && !fetchBlockedPorts().has(url.port);
}

/** The path the SDK posts Chat Completions to under `baseURL`: the base's path with `/chat/completions` after it. */
export function chatCompletionsPath(baseURL: string): string {
  return `${new URL(baseURL).pathname.replace(/\/$/, "")}/chat/completions`;
}

/** The ports the Fetch standard blocks, from undici's own list (the one Node's `fetch` checks). */
function fetchBlockedPorts(): ReadonlySet<string> {
  try {
    const constants = createRequire(import.meta.url)("undici/lib/web/fetch/constants.js") as { badPortsSet?: ReadonlySet<string> };
    return constants.badPortsSet ?? new Set();
  } catch {
    return new Set();
  }
}

/**
 * An undici `Pool` with its `request` method. undici's index also loads `fetch`, WebSocket, the
 * caches and the mocks: about 0.2 s of CPU at every start on a busy 2-core machine, the largest
 * single item of a one-row run. The pool and its request API alone cost a third of that, so
 * they are loaded from their own files; the index is the fallback should a release move them.
 */
function newPool(origin: string, options: Pool.Options): Pool {
  const require = createRequire(import.meta.url);
  try {
    const PoolClass = require("undici/lib/dispatcher/pool.js") as typeof Pool;
    const request = require("undici/lib/api/api-request.js") as Pool["request"];
    const pool = new PoolClass(origin, options);
    if (typeof pool.request !== "function") pool.request = request.bind(pool) as Pool["request"];
    return pool;
  } catch {
    const undici = require("undici") as typeof import("undici");
    return new undici.Pool(origin, options);
  }
}

/** The SDK's "timed out" connection errors, as undici names them. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * The fast path to `target` (see {@link fastChatServes}): one keep-alive connection pool to its
 * server, timed like the SDK path (the timeout from the moment a request goes out until its
 * headers arrive; the body within undici's default, as `fetch`), retried like the SDK.
 */
export function createFastChat(target: FastChatTarget, pacer: Pacer, contact: FirstContact): FastChat {
  const { maxRetries, timeout, headers } = target;
  const url = new URL(target.baseURL);
  const path = chatCompletionsPath(target.baseURL);
  // undici's default body timeout (300 s) is the one Node's `fetch`, and so the SDK path, has.
  const pool = newPool(url.origin, { connect: { timeout }, headersTimeout: timeout });
  let rules: Promise<SdkRetryRules | undefined> | undefined;
  const retryRules = () => (rules ??= target.retryRules());

  return async ({ body, cost, signal, guard }) => {
    const json = JSON.stringify(body);
    for (let retriesRemaining = maxRetries; ; retriesRemaining--) {
      if (signal?.aborted) throw new APIUserAbortError();
      const retryCount = maxRetries - retriesRemaining;
      const options: Dispatcher.RequestOptions = {
        path,
        method: "POST",
        headers: retryCount === 0 ? headers : { ...headers, "x-stainless-retry-count": String(retryCount) },
        body: json,
        signal: signal && relayOf(signal),
      };
      // The body is read before the pacer's slot is released: a connection is busy until then,
      // and a slot freed earlier makes the pool open a second connection per slot.
      const attempt = () => pacer.run(cost, signal, async () => answerOf(await pool.request(options)));
      let answer: Answer;
      try {
        // After the first answer of the run, FirstContact has nothing left to watch.
        answer = await (contact.answered ? attempt() : contact.track(guard, attempt));
      } catch (error) {
        if (signal?.aborted) throw new APIUserAbortError();
        if (retriesRemaining > 0 && !guard.gaveUpOn) {
          const sdk = await retryRules();
          if (!sdk) return undefined;
          await pause(sdk.calculateDefaultRetryTimeoutMillis(retriesRemaining, maxRetries), signal);
          continue;
        }
        if (TIMEOUT_CODES.has((error as { code?: string }).code ?? "")) throw new APIConnectionTimeoutError();
        throw new APIConnectionError({ cause: error as Error });
      }
      const { status, text } = answer;
      if (status >= 200 && status < 300) return JSON.parse(text) as OpenAI.Chat.Completions.ChatCompletion;
      // A redirect, which `fetch` would follow: left to the SDK path.
      if (status >= 300 && status < 400) return undefined;
      if (retriesRemaining > 0) {
        const sdk = await retryRules();
        if (!sdk) return undefined;
        if (await sdk.shouldRetry(answer)) {
          await pause(retryAfterMs(answer.headers) ?? sdk.calculateDefaultRetryTimeoutMillis(retriesRemaining, maxRetries), signal);
          continue;
        }
      }
      const parsed = parseJson(text);
      throw APIError.generate(status, parsed, parsed === undefined ? text : undefined, toHeaders(answer.raw));
    }
  };
}

/**
 * undici adds an abort listener to the signal of every request and removes it afterwards. On the
 * one AbortSignal a whole run shares, with 64 or more requests in flight, each add scans the
 * others (an EventTarget refuses duplicates): about a tenth of the client's CPU in a profile.
 * undici also takes an EventEmitter with `aborted` as the signal (documented), whose listeners
 * are a plain array: one such relay per signal, which follows it.
 */
class AbortRelay extends EventEmitter {
  aborted = false;
  reason: unknown;
  constructor(signal: AbortSignal) {
    super();
    this.setMaxListeners(0);
    if (signal.aborted) {
      this.aborted = true;
      this.reason = signal.reason;
      return;
    }
    signal.addEventListener(
      "abort",
      () => {
        this.aborted = true;
        this.reason = signal.reason;
        this.emit("abort");
      },
      { once: true },
    );
  }
}

const relays = new WeakMap<AbortSignal, AbortRelay>();
function relayOf(signal: AbortSignal): AbortRelay {
  let relay = relays.get(signal);
  if (!relay) relays.set(signal, (relay = new AbortRelay(signal)));
  return relay;
}

/** An answer as the pacer and the SDK's `shouldRetry` read it (a status and `headers.get`), with its body. */
interface Answer {
  status: number;
  headers: HeaderReader;
  raw: Dispatcher.ResponseData["headers"];
  text: string;
}

async function answerOf(response: Dispatcher.ResponseData): Promise<Answer> {
  const raw = response.headers;
  const redirect = response.statusCode >= 300 && response.statusCode < 400;
  const text = redirect ? (await response.body.dump(), "") : await response.body.text();
  return {
    status: response.statusCode,
    headers: {
      get(name: string) {
        const value = raw[name];
        return value === undefined ? null : typeof value === "string" ? value : value.join(", ");
      },
    },
    raw,
    text,
  };
}

/** Waits between retries; unlike the SDK's sleep, a second Ctrl-C (the call's signal) cuts it short. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new APIUserAbortError();
  }
}

function parseJson(text: string): object | undefined {
  try {
    return JSON.parse(text) as object;
  } catch {
    return undefined;
  }
}

function toHeaders(raw: Dispatcher.ResponseData["headers"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const each of typeof value === "string" ? [value] : value) headers.append(name, each);
  }
  return headers;
}
