import type { default as OpenAI, AzureOpenAI } from "openai";
import type { Pacer } from "./pacing.js";
import { CALL_GUARD, type CallGuard, type FirstContact } from "./first-contact.js";
import type { ChatMessage, ReplyFormat } from "../types.js";
import { estimateAdmissionTokens } from "../../models/tokens.js";

// The glue between the openai SDK and the run's Pacer: the SDK calls `fetch` for every HTTP
// attempt, retries included, so a paced `fetch` is the one place that sees them all.

export type FetchOptions = NonNullable<OpenAI.RequestOptions["fetchOptions"]>;
type Fetch = NonNullable<ConstructorParameters<typeof OpenAI>[0]>["fetch"] & {};

/**
 * Carries a request's token cost from `complete()` to the pacer inside `fetch`: the SDK copies
 * per-request `fetchOptions` into the `RequestInit` it hands to `fetch`, symbol keys included.
 */
export const PACING_COST = Symbol("llm-extract.pacingCost");

/**
 * What a request counts against a tokens-per-minute limit ({@link estimateAdmissionTokens}): its
 * prompt is the messages and, in `json_schema` / `tools` mode, the schema sent with them.
 */
export function estimateCost(messages: readonly ChatMessage[], maxTokens: number, format: ReplyFormat): number {
  let characters = format.mode === "json_object" ? 0 : schemaCharacters(format.schema);
  for (const message of messages) characters += message.content.length;
  return estimateAdmissionTokens(characters, maxTokens);
}

/** The length of a schema as sent, measured once per run (the schema object is the run's own). */
const schemaLengths = new WeakMap<object, number>();
function schemaCharacters(schema: object): number {
  let length = schemaLengths.get(schema);
  if (length === undefined) schemaLengths.set(schema, (length = JSON.stringify(schema).length));
  return length;
}

/**
 * The SDK's own timeout would run while a request waits for its turn at the pacer, so it is
 * switched off (set to the largest timer Node allows) and the paced fetch times the request itself,
 * from the moment it goes out.
 */
const UNTIMED = 2_147_483_647;

/**
 * A copy of `client` whose every HTTP attempt is paced, timed by `fetchWithin` with the client's
 * timeout, and watched by `contact` (answers, and connections that cannot be opened before any).
 */
export function withPacing(client: OpenAI, pacer: Pacer, contact: FirstContact): OpenAI {
  const timeout = client.timeout;
  // `fetch` is private in the SDK's types; a client given by the user may carry its own.
  const baseFetch: Fetch = (client as unknown as { fetch?: Fetch }).fetch ?? globalThis.fetch;
  const paced: Fetch = (url, init) => {
    const cost = (init as Record<symbol, unknown> | undefined)?.[PACING_COST];
    const guard = (init as Record<symbol, unknown> | undefined)?.[CALL_GUARD] as CallGuard | undefined;
    const signal = init?.signal ?? undefined;
    return contact.track(guard, () => pacer.run(typeof cost === "number" ? cost : 0, signal, () => fetchWithin(baseFetch, url, init, timeout)));
  };
  // `withOptions` builds a new client from the old one's options, which for AzureOpenAI leave out
  // the API version and deployment: without them it would read OPENAI_API_VERSION or throw.
  const azure: Partial<ConstructorParameters<typeof OpenAI>[0]> = isAzure(client)
    ? ({ apiVersion: client.apiVersion, deployment: client.deploymentName } as object)
    : {};
  return client.withOptions({ ...azure, fetch: paced, timeout: UNTIMED });
}

/** True for an `AzureOpenAI` client (checked by shape: a user's client may come from another copy of the SDK). */
export function isAzure(client: OpenAI): client is AzureOpenAI {
  return typeof (client as { apiVersion?: unknown }).apiVersion === "string";
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
