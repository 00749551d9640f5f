import type OpenAI from "openai";
import { ExtractError } from "../../errors/extract-error.js";
import { fromApiError } from "./api-errors.js";
import { Pacer, type PacingStats } from "./pacing.js";
import { CALL_GUARD, FirstContact, unreachableServer, type CallGuard } from "./first-contact.js";
import { createFastChat, fastChatServes, retryRulesOf, type FastChat } from "./fast-chat.js";
import { estimateCost, isAzure, PACING_COST, withPacing, type FetchOptions } from "./paced-fetch.js";
import { onOwnNetwork } from "./own-network.js";
import { sdkChatHeaders } from "./sdk-headers.js";
import { chatRequestBody, replyOf, tokenLimitFieldFor, type TokenLimitField } from "./chat-body.js";
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
 * OpenAI's API, where the SDK sends requests when no base URL is set. `baseURL` arrives resolved
 * (`resolveConnection()` has read $OPENAI_BASE_URL), so undefined means this.
 */
const OPENAI_API = "https://api.openai.com/v1";

/**
 * A {@link ChatEngine} over the official `openai` SDK, for OpenAI and any server speaking the
 * Chat Completions API. Transport retries follow the SDK's rules: exponential backoff with jitter
 * that honours `retry-after` / `retry-after-ms` and `x-should-retry`. Requests go over keep-alive connections on
 * the fast path (fast-chat.ts), which reuses those rules, or through the SDK itself for a
 * user-supplied `client` and Azure. Every HTTP attempt, retries included, goes through one
 * {@link Pacer} (pacing.ts; on the SDK path as its `fetch`, paced-fetch.ts).
 *
 * The SDK itself is loaded when first needed: on the SDK path at the first call, on the fast path
 * at the first failed attempt (for its retry rules) or redirect. A run whose calls all succeed on
 * the fast path never loads it.
 *
 * Until the server has answered once, a connection that cannot be opened (refused, no such host)
 * is tried once more, then ends the run: `complete()` throws `CONNECTION_FAILED` marked `fatal`
 * (see src/engine/first-contact.ts). After the first answer, it fails only its row.
 *
 * @throws ExtractError `MISSING_API_KEY` when neither a key nor a base URL is configured.
 */
export function createOpenAIEngine(options: OpenAIEngineOptions): OpenAIEngine {
  // A server on the user's own machine or network gets the whole window at once: the pacer's
  // opening probe learns a hosted API's limits before a burst, and costs 1.5 round trips of idle
  // slots (4% of a 12-second run at 300 ms). Caps of the user's own keep it: they mean limits.
  const ownServer = !options.client && options.baseURL !== undefined && onOwnNetwork(options.baseURL);
  const probe = !ownServer || options.rpm !== undefined || options.tpm !== undefined;
  const pacer = new Pacer({ concurrency: options.concurrency, rpm: options.rpm, tpm: options.tpm, probe });
  const contact = new FirstContact();
  const { model } = options;
  // Checked now, not at the first call: a run without a key should not read its input first.
  const apiKey = options.client ? undefined : apiKeyOf(options);

  /** The SDK client of the run: the user's, or one built from the options (loading the SDK). */
  let sdkClient: Promise<OpenAI> | undefined;
  const clientOf = () => (sdkClient ??= options.client ? Promise.resolve(options.client) : import("./client.js").then(({ createClient }) => createClient(options)));
  /** The SDK path: the client, paced, and what messages say about where it sends requests. */
  let sdkPath: Promise<SdkPath> | undefined;
  const sdkPathOf = () =>
    (sdkPath ??= clientOf().then((client) => ({
      client: withPacing(client, pacer, contact),
      server: serverOf(client, options, apiKey),
    })));

  // The fast path (fast-chat.ts) for a plain OpenAI-compatible server this engine reaches with
  // its own settings; a user's own client (its fetch, headers, auth) and Azure's (its routing and
  // Entra tokens) keep the SDK path, where client CPU is rarely what binds.
  const fastURL = options.baseURL ?? OPENAI_API;
  let fast: { chat: FastChat; server: Server } | undefined;
  if (apiKey !== undefined && !options.azure && fastChatServes(fastURL)) {
    const target = {
      baseURL: fastURL,
      headers: sdkChatHeaders({ apiKey }),
      timeout: options.timeout,
      connections: options.concurrency,
      maxRetries: options.maxRetries,
      retryRules: async () => retryRulesOf(await clientOf()),
    };
    fast = { chat: createFastChat(target, pacer, contact), server: serverAt(fastURL, options.maxRetries, [apiKey, ...(options.secrets ?? [])]) };
  }

  /** What a failed call throws: the end of the run when the server was never reachable, else the row's error. */
  const failure = (error: unknown, server: Server, guard: CallGuard, signal: AbortSignal | undefined, mode: ReplyFormat["mode"]) => {
    const unreachable = signal?.aborted ? undefined : contact.runEndingCause(error, guard);
    if (unreachable) return unreachableServer(server.baseURL, unreachable, error, server.secrets);
    return fromApiError(error, { model, ...server, mode });
  };

  return {
    model,
    pacing: pacer.stats,
    // As many rows ready as in flight: an answer frees a slot, and the next request is already built.
    waitingCalls: options.concurrency,
    async complete(request: CompletionRequest): Promise<CompletionReply> {
      const replyFormat: ReplyFormat = request.replyFormat ?? { mode: "json_object" };
      const cost = estimateCost(request.messages, request.maxTokens, replyFormat);
      if (fast) {
        const { server } = fast;
        const body = chatRequestBody(model, request, server.tokenLimitField);
        // The fast path's own retry loop reads the guard; it has no per-call signal to abort.
        const guard = contact.guard(() => undefined);
        let completion: OpenAI.Chat.Completions.ChatCompletion | undefined;
        try {
          completion = await fast.chat({ body, cost, signal: request.signal, guard });
        } catch (error) {
          throw failure(error, server, guard, request.signal, replyFormat.mode);
        }
        if (completion) return replyOf(completion, replyFormat, server.baseURL);
        // A redirect (`fetch` follows it), or an SDK without the retry rules the fast path reads:
        // this call and the rest of the run take the SDK path.
        fast = undefined;
      }
      const { client, server } = await sdkPathOf();
      const body = chatRequestBody(model, request, server.tokenLimitField);
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      const call = linkedSignal(request.signal);
      const guard = contact.guard(call.abort);
      try {
        completion = await client.chat.completions.create(body, {
          signal: call.signal,
          fetchOptions: { [PACING_COST]: cost, [CALL_GUARD]: guard } as FetchOptions,
        });
      } catch (error) {
        throw failure(error, server, guard, request.signal, replyFormat.mode);
      } finally {
        call.release();
      }
      return replyOf(completion, replyFormat, server.baseURL);
    },
  };
}

/** Where a path's calls go: what their bodies and messages say about it, and the keys messages scrub. */
interface Server {
  baseURL: string;
  tokenLimitField: TokenLimitField;
  maxRetries: number;
  secrets: readonly (string | null | undefined)[];
  /** With an AzureOpenAI client: the deployment requests go to. */
  azureDeployment?: string;
}

/** The SDK path's client, paced, and its {@link Server}. */
interface SdkPath {
  client: OpenAI;
  server: Server;
}

function serverOf(client: OpenAI, options: OpenAIEngineOptions, apiKey: string | undefined): Server {
  // Azure keys are 32 hex digits or 84 base64-like characters, which no `sk-` pattern catches:
  // every key that may be in use is scrubbed literally.
  const secrets = [client.apiKey, apiKey, options.apiKey, ...(options.secrets ?? [])];
  const azureDeployment = isAzure(client) ? (client.deploymentName ?? options.model) : undefined;
  return { ...serverAt(client.baseURL, client.maxRetries, secrets), azureDeployment };
}

function serverAt(baseURL: string, maxRetries: number, secrets: Server["secrets"]): Server {
  return { baseURL, tokenLimitField: tokenLimitFieldFor(baseURL), maxRetries, secrets };
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
 * The key the run's own client sends: the given one, else a placeholder when a base URL is set
 * (local servers need none, the SDK needs one).
 *
 * @throws ExtractError `MISSING_API_KEY` when there is neither, or Azure's endpoint without its key.
 */
export function apiKeyOf(options: Pick<OpenAIEngineOptions, "apiKey" | "baseURL" | "azure">): string {
  if (options.apiKey) return options.apiKey;
  if (options.azure) {
    throw new ExtractError(
      "MISSING_API_KEY",
      "AZURE_OPENAI_ENDPOINT is set, so requests go to Azure OpenAI, but there is no key: set AZURE_OPENAI_API_KEY (or `apiKey`). " +
        "For Microsoft Entra ID, pass an AzureOpenAI client with azureADTokenProvider as the `client` option.",
    );
  }
  if (!options.baseURL) {
    throw new ExtractError(
      "MISSING_API_KEY",
      "No API key: set OPENAI_API_KEY (or `apiKey`), or point OPENAI_BASE_URL (or `baseURL`) at a server that needs none. " +
        "For Azure OpenAI, set AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY.",
    );
  }
  return PLACEHOLDER_KEY;
}
