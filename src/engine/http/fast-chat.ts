import { setImmediate as laterTurn, setTimeout as sleep } from "node:timers/promises";
import type OpenAI from "openai";
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai/error";
import type { Pacer } from "./pacing.js";
import type { CallGuard, FirstContact } from "./first-contact.js";
import type { HeaderReader } from "./rate-limit-headers.js";
import { retryAfterMs } from "./rate-limit-headers.js";
import { KeepAlivePoster, TIMEOUT, type Answer } from "./keep-alive-post.js";
import { chatBodyJson } from "./chat-body.js";

// The fast path: Chat Completions over a keep-alive connection pool (keep-alive-post.ts) instead
// of the SDK's request machinery. Measured on 2 cores against a loopback server that answers at
// once (issue 14), the SDK costs 800-900 µs of client CPU per request and Node's `fetch` alone
// about 670; a plain keep-alive POST about a fifth of the SDK. What a call means does not change:
// the body is chatRequestBody()'s, the headers are the ones the SDK sends (sdk-headers.ts), every
// attempt goes through the run's Pacer and FirstContact, failures are the SDK's own error classes
// (so fromApiError stays the one mapping), and retries follow the SDK's rules by calling the SDK's
// own `shouldRetry` and `calculateDefaultRetryTimeoutMillis` on a client of the same settings.
// That client, and with it the SDK, is loaded at the first answer that is not a success: a run
// whose requests all succeed never loads the SDK, whose 150 modules would be most of its start.
//
// Why not a retrying agent (undici's RetryAgent and the like): it retries out of the pacer's
// sight (a retried 429 would skip the shared gate and the stats), reads `retry-after` in seconds
// only (no `retry-after-ms`, no `x-should-retry`, no 408/409), and when its retries run out throws
// an error without the error body that fromApiError reads (`insufficient_quota`).

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
  /** Connections to keep: the most requests the pacer lets out at once. */
  connections: number;
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
 * True when the fast path can stand in for the SDK at `baseURL`: plain http(s), with no query or
 * fragment (which the SDK would join the path into). The caller keeps the SDK path for
 * user-supplied clients and Azure. (Ports the Fetch standard blocks, such as 6000, which the SDK
 * path's `fetch` refuses, work here.)
 */
export function fastChatServes(baseURL: string): boolean {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && url.search === "" && url.hash === "";
}

/** The path the SDK posts Chat Completions to under `baseURL`: the base's path with `/chat/completions` after it. */
export function chatCompletionsPath(baseURL: string): string {
  return `${new URL(baseURL).pathname.replace(/\/$/, "")}/chat/completions`;
}

/** The SDK's "timed out" connection errors. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(Object.values(TIMEOUT));

/**
 * The fast path to `target` (see {@link fastChatServes}): keep-alive connections to its server,
 * timed like the SDK path (the timeout from the moment a request goes out until its headers
 * arrive; the body within undici's default, as `fetch`), retried like the SDK.
 */
export function createFastChat(target: FastChatTarget, pacer: Pacer, contact: FirstContact): FastChat {
  const { maxRetries, timeout, headers } = target;
  const path = chatCompletionsPath(target.baseURL);
  const poster = new KeepAlivePoster(new URL(target.baseURL), { connections: target.connections, timeout });
  let rules: Promise<SdkRetryRules | undefined> | undefined;
  const retryRules = () => (rules ??= target.retryRules());

  return async ({ body, cost, signal, guard }) => {
    const json = chatBodyJson(body);
    for (let retriesRemaining = maxRetries; ; retriesRemaining--) {
      if (signal?.aborted) throw new APIUserAbortError();
      const retryCount = maxRetries - retriesRemaining;
      const attemptHeaders = retryCount === 0 ? headers : { ...headers, "x-stainless-retry-count": String(retryCount) };
      // The body is read before the pacer's slot is released: a connection is busy until then,
      // and a slot freed earlier would open a second connection per slot.
      const attempt = () => pacer.run(cost, signal, () => poster.post(path, attemptHeaders, json, signal));
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
      if (status >= 200 && status < 300) {
        // The answer freed a pacer slot, and the row waiting for it (ChatEngine.waitingCalls)
        // has had its request handed to Node, which writes it once this turn's promise jobs are
        // done. What this row does next (parse, validate, journal, output) waits for a later turn,
        // so that write goes out first: the server is not kept waiting for a row's bookkeeping.
        // (Resolving each answer in a turn of its own, with I/O polled between, measured slower
        // at C = 256: one poll per row.)
        await laterTurn();
        return JSON.parse(text) as OpenAI.Chat.Completions.ChatCompletion;
      }
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

function toHeaders(raw: Answer["raw"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const each of typeof value === "string" ? [value] : value) headers.append(name, each);
  }
  return headers;
}
