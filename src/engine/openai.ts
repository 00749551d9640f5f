import OpenAI from "openai";
import { ExtractError, redactSecrets } from "../errors.js";
import { Pacer, type PacingStats } from "../pacing.js";
import type { ChatMessage } from "../prompt.js";
import type { ChatEngine, CompletionReply, CompletionRequest } from "./types.js";

/** Options of {@link createOpenAIEngine}. */
export interface OpenAIEngineOptions {
  model: string;
  /** A ready `OpenAI` (or `AzureOpenAI`) client; when given, the connection options below are ignored. */
  client?: OpenAI;
  /** @default $OPENAI_API_KEY; a placeholder when only a base URL is set (local servers need none) */
  apiKey?: string;
  /** @default $OPENAI_BASE_URL, else OpenAI's API */
  baseURL?: string;
  /** Milliseconds to wait for one HTTP answer. */
  timeout: number;
  /** Transport retries of one call (429, 408, 409, 5xx, connection errors), by the SDK itself. */
  maxRetries: number;
  /** The most requests in flight (the pacer's window never opens wider). */
  concurrency: number;
  /** Requests per minute to stay under. */
  rpm?: number;
  /** Tokens per minute to stay under. */
  tpm?: number;
}

/** The HTTP engine, which always reports its pacing. */
export interface OpenAIEngine extends ChatEngine {
  readonly pacing: PacingStats;
}

/** Sent when a base URL is set but no key: servers such as Ollama or vLLM ignore it, the SDK needs one. */
const PLACEHOLDER_KEY = "no-key";

/**
 * A {@link ChatEngine} over the official `openai` SDK, for OpenAI and any server speaking the
 * Chat Completions API. Transport retries are the SDK's: exponential backoff with jitter that
 * honours `retry-after` / `retry-after-ms`; they are configured here, not re-implemented.
 * Every HTTP attempt, retries included, goes through one {@link Pacer} (see src/pacing.ts),
 * which the SDK calls as its `fetch`.
 *
 * @throws ExtractError `MISSING_API_KEY` when neither a key nor a base URL is configured.
 */
export function createOpenAIEngine(options: OpenAIEngineOptions): OpenAIEngine {
  const pacer = new Pacer({ concurrency: options.concurrency, rpm: options.rpm, tpm: options.tpm });
  const client = withPacing(options.client ?? createClient(options), pacer);
  const { model } = options;
  // OpenAI's own API has replaced max_tokens by max_completion_tokens (reasoning models reject the
  // old name); most self-hosted servers still only read max_tokens.
  const tokenLimitField = isOpenAIHost(client.baseURL) ? "max_completion_tokens" : "max_tokens";
  const secrets = [client.apiKey];

  return {
    model,
    pacing: pacer.stats,
    async complete(request: CompletionRequest): Promise<CompletionReply> {
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      const call = linkedSignal(request.signal);
      try {
        completion = await client.chat.completions.create(
          {
            model,
            messages: request.messages,
            response_format: { type: "json_object" },
            [tokenLimitField]: request.maxTokens,
            ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
          },
          { signal: call.signal, fetchOptions: { [PACING_COST]: estimateCost(request.messages, request.maxTokens) } as FetchOptions },
        );
      } catch (error) {
        throw toExtractError(error, { model, baseURL: client.baseURL, maxRetries: client.maxRetries, secrets });
      } finally {
        call.release();
      }
      const choice = completion.choices[0];
      if (!choice) {
        throw new ExtractError("MODEL_ERROR", `The server at ${client.baseURL} answered with no choices.`);
      }
      return {
        content: choice.message.content,
        refusal: choice.message.refusal ?? null,
        finishReason: choice.finish_reason,
        usage: {
          prompt_tokens: completion.usage?.prompt_tokens ?? 0,
          completion_tokens: completion.usage?.completion_tokens ?? 0,
        },
      };
    },
  };
}

type FetchOptions = NonNullable<OpenAI.RequestOptions["fetchOptions"]>;
type Fetch = NonNullable<ConstructorParameters<typeof OpenAI>[0]>["fetch"] & {};

/**
 * Carries a request's token cost from `complete()` to the pacer inside `fetch`: the SDK copies
 * per-request `fetchOptions` into the `RequestInit` it hands to `fetch`, symbol keys included.
 */
const PACING_COST = Symbol("llm-extract.pacingCost");

/**
 * What a request counts against a tokens-per-minute limit, the way OpenAI estimates it when the
 * request arrives: the prompt, at about four characters per token, plus the whole output budget.
 */
function estimateCost(messages: readonly ChatMessage[], maxTokens: number): number {
  let characters = 0;
  for (const message of messages) characters += message.content.length;
  return Math.ceil(characters / 4) + maxTokens;
}

/**
 * The SDK's own timeout would run while a request waits for its turn at the pacer, so it is
 * switched off (set to the largest timer Node allows) and the paced fetch times the request itself,
 * from the moment it goes out.
 */
const UNTIMED = 2_147_483_647;

/** A copy of `client` whose every HTTP attempt is paced, and timed by `fetchWithin` with the client's timeout. */
function withPacing(client: OpenAI, pacer: Pacer): OpenAI {
  const timeout = client.timeout;
  // `fetch` is private in the SDK's types; a client given by the user may carry its own.
  const baseFetch: Fetch = (client as unknown as { fetch?: Fetch }).fetch ?? globalThis.fetch;
  const paced: Fetch = (url, init) => {
    const cost = (init as Record<symbol, unknown> | undefined)?.[PACING_COST];
    const signal = init?.signal ?? undefined;
    return pacer.run(typeof cost === "number" ? cost : 0, signal, () => fetchWithin(baseFetch, url, init, timeout));
  };
  return client.withOptions({ fetch: paced, timeout: UNTIMED });
}

/**
 * `fetch`, aborted after `ms` unless the headers have arrived. The error mentions "timed out",
 * which is how the SDK tells a timeout (retried, then `APIConnectionTimeoutError`) from other
 * connection errors.
 */
async function fetchWithin(baseFetch: Fetch, url: Parameters<Fetch>[0], init: Parameters<Fetch>[1], ms: number): Promise<Response> {
  const controller = new AbortController();
  const parent = init?.signal ?? undefined;
  const abort = () => controller.abort(parent?.reason);
  if (parent?.aborted) abort();
  else parent?.addEventListener("abort", abort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ms);
  try {
    return await baseFetch(url, { ...init, signal: controller.signal });
  } catch (error) {
    if (timedOut && !parent?.aborted) throw new Error(`Request timed out after ${ms} ms`, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener("abort", abort);
  }
}

/**
 * A signal of its own for one call, aborted with the run's signal. The SDK adds an abort
 * listener to the signal it is given and never removes it; handed the run's signal, a long run
 * piles up one listener per call (memory grows, and every add scans the list: quadratic time).
 */
function linkedSignal(parent: AbortSignal | undefined): { signal?: AbortSignal; release: () => void } {
  if (!parent) return { release: () => undefined };
  const controller = new AbortController();
  const abort = () => controller.abort(parent.reason);
  if (parent.aborted) abort();
  else parent.addEventListener("abort", abort, { once: true });
  return { signal: controller.signal, release: () => parent.removeEventListener("abort", abort) };
}

function createClient(options: OpenAIEngineOptions): OpenAI {
  const baseURL = options.baseURL ?? (process.env.OPENAI_BASE_URL || undefined);
  let apiKey = options.apiKey ?? (process.env.OPENAI_API_KEY || undefined);
  if (!apiKey) {
    if (!baseURL) {
      throw new ExtractError(
        "MISSING_API_KEY",
        "No API key: set OPENAI_API_KEY (or pass apiKey / --api-key), or point OPENAI_BASE_URL / --base-url at a server that needs none.",
      );
    }
    apiKey = PLACEHOLDER_KEY;
  }
  return new OpenAI({ apiKey, baseURL, timeout: options.timeout, maxRetries: options.maxRetries });
}

function isOpenAIHost(baseURL: string): boolean {
  try {
    return new URL(baseURL).hostname === "api.openai.com";
  } catch {
    return false;
  }
}

interface ErrorContext {
  model: string;
  baseURL: string;
  maxRetries: number;
  secrets: readonly (string | null | undefined)[];
}

/** Maps an SDK error (after its retries) to an ExtractError with a code and a next step. */
export function toExtractError(error: unknown, context: ErrorContext): ExtractError {
  if (error instanceof ExtractError) return error;
  const { model, baseURL, maxRetries } = context;
  const clean = (text: string) => redactSecrets(text, context.secrets);
  const make = (code: ConstructorParameters<typeof ExtractError>[0], message: string) =>
    new ExtractError(code, clean(message), { cause: error });
  const serverSays = error instanceof Error ? clean(error.message) : String(error);
  const retries = `${maxRetries} ${maxRetries === 1 ? "retry" : "retries"}`;

  if (error instanceof OpenAI.APIUserAbortError) return make("ABORTED", "The request was aborted.");
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return make("TIMEOUT", `No answer from ${baseURL} within the timeout, after ${retries}. Raise --timeout or lower --concurrency.`);
  }
  if (error instanceof OpenAI.APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return make("CONNECTION_FAILED", `Could not reach ${baseURL}${cause} (after ${retries}). Check --base-url and that the server is up.`);
  }
  if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
    return make("AUTH_FAILED", `${baseURL} refused the credentials (${serverSays}). Check OPENAI_API_KEY / --api-key.`);
  }
  if (error instanceof OpenAI.NotFoundError) {
    return make("MODEL_NOT_FOUND", `Model "${model}" was not found at ${baseURL} (${serverSays}). Check --model / EXTRACT_MODEL.`);
  }
  if (error instanceof OpenAI.RateLimitError && error.code === "insufficient_quota") {
    // A 429 that waiting does not cure: the account is out of credit.
    return make("QUOTA_EXCEEDED", `${baseURL} says the account's quota is used up (${serverSays}). Check the plan and billing details.`);
  }
  if (error instanceof OpenAI.RateLimitError) {
    return make("RATE_LIMITED", `Still rate limited after ${retries} (${serverSays}). Set --rpm / --tpm below the account's limits, or wait for the quota to reset.`);
  }
  if (error instanceof OpenAI.BadRequestError && error.code === "context_length_exceeded") {
    return make("INPUT_TOO_LARGE", `The row does not fit the model's context window (${serverSays}). Send fewer --columns.`);
  }
  if (error instanceof OpenAI.APIError) {
    return make("MODEL_ERROR", `${baseURL} answered with an error (${serverSays}).`);
  }
  return make("MODEL_ERROR", `The model call failed: ${serverSays}.`);
}
