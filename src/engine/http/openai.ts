import OpenAI, { AzureOpenAI } from "openai";
import { ExtractError } from "../../errors/extract-error.js";
import { fromApiError } from "./api-errors.js";
import { Pacer, type PacingStats } from "./pacing.js";
import { CALL_GUARD, FirstContact, unreachableServer, type CallGuard } from "./first-contact.js";
import { createFastChat, fastChatServes } from "./fast-chat.js";
import { estimateCost, isAzure, PACING_COST, withPacing, type FetchOptions } from "./paced-fetch.js";
import { chatRequestBody, replyOf, tokenLimitFieldFor } from "./chat-body.js";
import type { ChatEngine, CompletionReply, CompletionRequest, ReplyFormat } from "../types.js";

/** Options of {@link createOpenAIEngine}. */
export interface OpenAIEngineOptions {
  model: string;
  /** A ready `OpenAI` (or `AzureOpenAI`) client; when given, the connection options below are ignored. */
  client?: OpenAI;
  /** The key (also Azure's, with `azure`). @default a placeholder when only a base URL is set (local servers need none) */
  apiKey?: string;
  /** An OpenAI-compatible server. @default OpenAI's API */
  baseURL?: string;
  /** Azure OpenAI through the SDK's `AzureOpenAI` client instead of `baseURL` (see {@link createAzureClient}). */
  azure?: AzureConnection;
  /** More keys to scrub from every message: those the environment holds, even when not in use. */
  secrets?: readonly string[];
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

/** Where an Azure OpenAI resource is and how to reach it. */
export interface AzureConnection {
  /** `https://<resource>.openai.azure.com/` */
  endpoint: string;
  /** @default {@link AZURE_API_VERSION} */
  apiVersion?: string;
  /** @default the model name (the SDK takes it from the request) */
  deployment?: string;
}

/** The HTTP engine, which always reports its pacing. */
export interface OpenAIEngine extends ChatEngine {
  readonly pacing: PacingStats;
}

/** Sent when a base URL is set but no key: servers such as Ollama or vLLM ignore it, the SDK needs one. */
const PLACEHOLDER_KEY = "no-key";

/**
 * A {@link ChatEngine} over the official `openai` SDK, for OpenAI and any server speaking the
 * Chat Completions API. Transport retries follow the SDK's rules: exponential backoff with jitter
 * that honours `retry-after` / `retry-after-ms` and `x-should-retry`. Requests go over undici on
 * the fast path (fast-chat.ts), which reuses those rules, or through the SDK itself for a
 * user-supplied `client` and Azure. Every HTTP attempt, retries included, goes through one
 * {@link Pacer} (pacing.ts; on the SDK path as its `fetch`, paced-fetch.ts).
 *
 * Until the server has answered once, a connection that cannot be opened (refused, no such host)
 * is tried once more, then ends the run: `complete()` throws `CONNECTION_FAILED` marked `fatal`
 * (see src/engine/first-contact.ts). After the first answer, it fails only its row.
 *
 * @throws ExtractError `MISSING_API_KEY` when neither a key nor a base URL is configured.
 */
export function createOpenAIEngine(options: OpenAIEngineOptions): OpenAIEngine {
  const pacer = new Pacer({ concurrency: options.concurrency, rpm: options.rpm, tpm: options.tpm });
  const contact = new FirstContact();
  const ownClient = options.client ?? createClient(options);
  const client = withPacing(ownClient, pacer, contact);
  // The fast path (fast-chat.ts) for the clients this engine builds itself for a plain
  // OpenAI-compatible server; a user's own client (its fetch, headers, auth) and Azure's (its
  // routing and Entra tokens) keep the SDK path, where client CPU is rarely what binds.
  let fast = !options.client && !isAzure(ownClient) && fastChatServes(ownClient) ? createFastChat(ownClient, pacer, contact) : undefined;
  const { model } = options;
  const tokenLimitField = tokenLimitFieldFor(client.baseURL);
  // Azure keys are 32 hex digits or 84 base64-like characters, which no `sk-` pattern catches:
  // every key that may be in use is scrubbed literally.
  const secrets = [client.apiKey, options.apiKey, ...(options.secrets ?? [])];
  const azureDeployment = isAzure(client) ? (client.deploymentName ?? model) : undefined;

  /** What a failed call throws: the end of the run when the server was never reachable, else the row's error. */
  const failure = (error: unknown, guard: CallGuard, signal: AbortSignal | undefined, mode: ReplyFormat["mode"]) => {
    const unreachable = signal?.aborted ? undefined : contact.runEndingCause(error, guard);
    if (unreachable) return unreachableServer(client.baseURL, unreachable, error, secrets);
    return fromApiError(error, { model, baseURL: client.baseURL, maxRetries: client.maxRetries, secrets, mode, azureDeployment });
  };

  return {
    model,
    pacing: pacer.stats,
    async complete(request: CompletionRequest): Promise<CompletionReply> {
      const replyFormat: ReplyFormat = request.replyFormat ?? { mode: "json_object" };
      const body = chatRequestBody(model, request, tokenLimitField);
      const cost = estimateCost(request.messages, request.maxTokens, replyFormat);
      if (fast) {
        // The fast path's own retry loop reads the guard; it has no per-call signal to abort.
        const guard = contact.guard(() => undefined);
        let completion: OpenAI.Chat.Completions.ChatCompletion | undefined;
        try {
          completion = await fast({ body, cost, signal: request.signal, guard });
        } catch (error) {
          throw failure(error, guard, request.signal, replyFormat.mode);
        }
        if (completion) return replyOf(completion, replyFormat, client.baseURL);
        // A redirect: `fetch` follows it, so this call and the rest of the run take the SDK path.
        fast = undefined;
      }
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      const call = linkedSignal(request.signal);
      const guard = contact.guard(call.abort);
      try {
        completion = await client.chat.completions.create(body, {
          signal: call.signal,
          fetchOptions: { [PACING_COST]: cost, [CALL_GUARD]: guard } as FetchOptions,
        });
      } catch (error) {
        throw failure(error, guard, request.signal, replyFormat.mode);
      } finally {
        call.release();
      }
      return replyOf(completion, replyFormat, client.baseURL);
    },
  };
}

/**
 * A signal of its own for one call, aborted with the run's signal, or by `abort` (to stop the
 * SDK's retries). The SDK adds an abort listener to the signal it is given and never removes it;
 * handed the run's signal, a long run piles up one listener per call (memory grows, and every
 * add scans the list: quadratic time).
 */
function linkedSignal(parent: AbortSignal | undefined): { signal: AbortSignal; abort: (reason: Error) => void; release: () => void } {
  const controller = new AbortController();
  const abort = (reason: Error) => controller.abort(reason);
  if (!parent) return { signal: controller.signal, abort, release: () => undefined };
  const follow = () => controller.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener("abort", follow, { once: true });
  return { signal: controller.signal, abort, release: () => parent.removeEventListener("abort", follow) };
}


/**
 * Azure OpenAI's API version when none is given: the latest generally available one for
 * inference, which has `response_format` json_schema and tools.
 */
const AZURE_API_VERSION = "2024-10-21";

/**
 * The client (exported for the Batch API module, which must reach the same server with the same
 * key): Azure's with `azure`, else one for `baseURL` (any OpenAI-compatible server, also
 * Azure's v1 API, `https://<resource>.openai.azure.com/openai/v1/`) or OpenAI's API. Which one the
 * options and the environment ask for is decided by `normalizeOptions()`.
 */
export function createClient(options: Omit<OpenAIEngineOptions, "concurrency">): OpenAI {
  if (options.azure) return createAzureClient(options, options.azure);
  let { apiKey } = options;
  const { baseURL } = options;
  if (!apiKey) {
    if (!baseURL) {
      throw new ExtractError(
        "MISSING_API_KEY",
        "No API key: set OPENAI_API_KEY (or `apiKey`), or point OPENAI_BASE_URL (or `baseURL`) at a server that needs none. " +
          "For Azure OpenAI, set AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY.",
      );
    }
    apiKey = PLACEHOLDER_KEY;
  }
  return new OpenAI({ apiKey, baseURL, timeout: options.timeout, maxRetries: options.maxRetries });
}

/**
 * The SDK's `AzureOpenAI` client, which sends the key as an `api-key` header, adds `api-version`
 * to every URL and routes `/openai/deployments/<deployment>/chat/completions`. The deployment is
 * `azure.deployment`, else the model name (the SDK takes it from the request); the model name
 * still decides the tokenizer and prices.
 */
function createAzureClient(options: Omit<OpenAIEngineOptions, "concurrency">, azure: AzureConnection): OpenAI {
  if (!options.apiKey) {
    throw new ExtractError(
      "MISSING_API_KEY",
      "AZURE_OPENAI_ENDPOINT is set, so requests go to Azure OpenAI, but there is no key: set AZURE_OPENAI_API_KEY (or `apiKey`). " +
        "For Microsoft Entra ID, pass an AzureOpenAI client with azureADTokenProvider as the `client` option.",
    );
  }
  return new AzureOpenAI({
    endpoint: azure.endpoint,
    // null, not undefined: the SDK would otherwise take OPENAI_BASE_URL, and refuse it next to an endpoint.
    baseURL: null,
    apiKey: options.apiKey,
    apiVersion: azure.apiVersion ?? AZURE_API_VERSION,
    deployment: azure.deployment,
    timeout: options.timeout,
    maxRetries: options.maxRetries,
  });
}
