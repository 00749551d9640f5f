import OpenAI, { AzureOpenAI } from "openai";
import { ExtractError, redactSecrets } from "../../errors/extract-error.js";
import { Pacer, type PacingStats } from "./pacing.js";
import { CALL_GUARD, FirstContact, unreachableServer } from "./first-contact.js";
import { estimateCost, isAzure, PACING_COST, withPacing, type FetchOptions } from "./paced-fetch.js";
import type { ChatEngine, CompletionReply, CompletionRequest, ExtractMode, ReplyFormat } from "../types.js";

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
 * Chat Completions API. Transport retries are the SDK's: exponential backoff with jitter that
 * honours `retry-after` / `retry-after-ms`; they are configured here, not re-implemented.
 * Every HTTP attempt, retries included, goes through one {@link Pacer} (see src/pacing.ts and
 * src/engine/paced-fetch.ts), which the SDK calls as its `fetch`.
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
  const client = withPacing(options.client ?? createClient(options), pacer, contact);
  const { model } = options;
  // OpenAI's own API has replaced max_tokens by max_completion_tokens (reasoning models reject the
  // old name); most self-hosted servers still only read max_tokens.
  const tokenLimitField = isOpenAIHost(client.baseURL) ? "max_completion_tokens" : "max_tokens";
  // Azure keys are 32 hex digits or 84 base64-like characters, which no `sk-` pattern catches:
  // every key that may be in use is scrubbed literally.
  const secrets = [client.apiKey, options.apiKey, ...(options.secrets ?? [])];
  const azureDeployment = isAzure(client) ? (client.deploymentName ?? model) : undefined;

  return {
    model,
    pacing: pacer.stats,
    async complete(request: CompletionRequest): Promise<CompletionReply> {
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      const replyFormat = request.replyFormat ?? JSON_OBJECT;
      const call = linkedSignal(request.signal);
      const guard = contact.guard(call.abort);
      try {
        completion = await client.chat.completions.create(
          {
            model,
            messages: request.messages,
            ...modeFields(replyFormat),
            [tokenLimitField]: request.maxTokens,
            ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
          },
          {
            signal: call.signal,
            fetchOptions: { [PACING_COST]: estimateCost(request.messages, request.maxTokens, replyFormat), [CALL_GUARD]: guard } as FetchOptions,
          },
        );
      } catch (error) {
        const unreachable = request.signal?.aborted ? undefined : contact.runEndingCause(error, guard);
        if (unreachable) throw unreachableServer(client.baseURL, unreachable, error, secrets);
        throw toExtractError(error, { model, baseURL: client.baseURL, maxRetries: client.maxRetries, secrets, mode: replyFormat.mode, azureDeployment });
      } finally {
        call.release();
      }
      const choice = completion.choices[0];
      if (!choice) {
        throw new ExtractError("MODEL_ERROR", `The server at ${client.baseURL} answered with no choices.`);
      }
      // In tools mode the JSON is the function call's arguments. A server that ignored the forced
      // tool_choice and answered in text gets its text judged instead (and re-asked if it is not JSON).
      const toolCall = replyFormat.mode === "tools" ? choice.message.tool_calls?.find((call) => call.type === "function") : undefined;
      return {
        content: toolCall ? toolCall.function.arguments : choice.message.content,
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

const JSON_OBJECT: ReplyFormat = { mode: "json_object" };

/** The request fields that ask for JSON the way `format.mode` says. */
function modeFields(format: ReplyFormat): Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming> {
  switch (format.mode) {
    case "json_object":
      return { response_format: { type: "json_object" } };
    case "json_schema":
      return { response_format: { type: "json_schema", json_schema: { name: format.name, strict: true, schema: format.schema } } };
    case "tools":
      return {
        tools: [
          { type: "function", function: { name: format.name, parameters: format.schema, ...(format.strict ? { strict: true } : {}) } },
        ],
        tool_choice: { type: "function", function: { name: format.name } },
      };
  }
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
 * The client: Azure's with `azure`, else one for `baseURL` (any OpenAI-compatible server, also
 * Azure's v1 API, `https://<resource>.openai.azure.com/openai/v1/`) or OpenAI's API. Which one the
 * options and the environment ask for is decided by `normalizeOptions()`.
 */
function createClient(options: OpenAIEngineOptions): OpenAI {
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
function createAzureClient(options: OpenAIEngineOptions, azure: AzureConnection): OpenAI {
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
  /** The mode the refused request was shaped by. @default "json_object" */
  mode?: ExtractMode;
  /** With an AzureOpenAI client: the deployment requests go to (advice then names Azure's variables). */
  azureDeployment?: string;
}

/** The request fields each mode adds, which a server may refuse. */
const MODE_FIELDS: Record<ExtractMode, readonly string[]> = {
  json_object: ["response_format"],
  json_schema: ["response_format"],
  tools: ["tools", "tool_choice"],
};

/** What to try when a server refuses a mode. */
const MODE_ADVICE: Record<ExtractMode, string> = {
  json_object:
    "Use `mode` json_schema (some servers, such as LM Studio, accept only that), or `mode` tools for servers without response_format.",
  json_schema:
    "Use `mode` json_object, the most widely supported, or `mode` tools for servers without response_format. " +
    "If the message is about the schema itself, simplify the field it names.",
  tools: "Use `mode` json_object, the most widely supported (or `mode` json_schema).",
};

/**
 * True when a 400/422 is about the mode's own request fields: the error's `param` names one of
 * them, or, when it names no param, its message does.
 */
function refusesMode(error: InstanceType<typeof OpenAI.APIError>, mode: ExtractMode): boolean {
  if (error.status !== 400 && error.status !== 422) return false;
  const fields = MODE_FIELDS[mode];
  if (typeof error.param === "string" && error.param) return fields.some((field) => error.param!.startsWith(field));
  const message = error.message.toLowerCase();
  return fields.some((field) => message.includes(field));
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
    return make("TIMEOUT", `No answer from ${baseURL} within the timeout, after ${retries}. Raise \`timeout\` or lower \`concurrency\`.`);
  }
  if (error instanceof OpenAI.APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return make("CONNECTION_FAILED", `Could not reach ${baseURL}${cause} (after ${retries}). Check \`baseURL\` and that the server is up.`);
  }
  if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
    const key = context.azureDeployment !== undefined ? "AZURE_OPENAI_API_KEY / `apiKey` and AZURE_OPENAI_ENDPOINT" : "OPENAI_API_KEY / `apiKey`";
    return make("AUTH_FAILED", `${baseURL} refused the credentials (${serverSays}). Check ${key}.`);
  }
  if (error instanceof OpenAI.NotFoundError) {
    if (context.azureDeployment !== undefined) {
      return make(
        "MODEL_NOT_FOUND",
        `No deployment "${context.azureDeployment}" at ${baseURL} (${serverSays}). Set AZURE_OPENAI_DEPLOYMENT (or \`model\`, without it) to the deployment's name.`,
      );
    }
    return make("MODEL_NOT_FOUND", `Model "${model}" was not found at ${baseURL} (${serverSays}). Check \`model\` / EXTRACT_MODEL.`);
  }
  if (error instanceof OpenAI.RateLimitError && error.code === "insufficient_quota") {
    // A 429 that waiting does not cure: the account is out of credit.
    return make("QUOTA_EXCEEDED", `${baseURL} says the account's quota is used up (${serverSays}). Check the plan and billing details.`);
  }
  if (error instanceof OpenAI.RateLimitError) {
    return make("RATE_LIMITED", `Still rate limited after ${retries} (${serverSays}). Set \`rpm\` / \`tpm\` below the account's limits, or wait for the quota to reset.`);
  }
  if (error instanceof OpenAI.BadRequestError && error.code === "context_length_exceeded") {
    return make("INPUT_TOO_LARGE", `The row does not fit the model's context window (${serverSays}). Send fewer \`columns\`.`);
  }
  const mode = context.mode ?? "json_object";
  if (error instanceof OpenAI.APIError && refusesMode(error, mode)) {
    return make("MODE_UNSUPPORTED", `${baseURL} refused \`mode\` ${mode} (${serverSays}). ${MODE_ADVICE[mode]}`);
  }
  if (error instanceof OpenAI.APIError) {
    return make("MODEL_ERROR", `${baseURL} answered with an error (${serverSays}).`);
  }
  return make("MODEL_ERROR", `The model call failed: ${serverSays}.`);
}
