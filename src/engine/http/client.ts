import OpenAI, { AzureOpenAI } from "openai";
import { apiKeyOf, type AzureConnection, type OpenAIEngineOptions } from "./openai.js";

/**
 * Azure OpenAI's API version when none is given: the latest generally available one for
 * inference, which has `response_format` json_schema and tools.
 */
const AZURE_API_VERSION = "2024-10-21";

/**
 * The SDK client for a connection (also the Batch API module's, which must reach the same server
 * with the same key): Azure's with `azure`, else one for `baseURL` (any OpenAI-compatible server,
 * also Azure's v1 API, `https://<resource>.openai.azure.com/openai/v1/`) or OpenAI's API. Which one
 * the options and the environment ask for is decided by `normalizeOptions()`.
 *
 * @throws ExtractError `MISSING_API_KEY` (see {@link apiKeyOf}).
 */
export function createClient(options: Omit<OpenAIEngineOptions, "concurrency">): OpenAI {
  const apiKey = apiKeyOf(options);
  if (options.azure) return createAzureClient(options, options.azure, apiKey);
  return new OpenAI({ apiKey, baseURL: options.baseURL, timeout: options.timeout, maxRetries: options.maxRetries });
}

/**
 * The SDK's `AzureOpenAI` client, which sends the key as an `api-key` header, adds `api-version`
 * to every URL and routes `/openai/deployments/<deployment>/chat/completions`. The deployment is
 * `azure.deployment`, else the model name (the SDK takes it from the request); the model name
 * still decides the tokenizer and prices.
 */
function createAzureClient(options: Omit<OpenAIEngineOptions, "concurrency">, azure: AzureConnection, apiKey: string): OpenAI {
  return new AzureOpenAI({
    endpoint: azure.endpoint,
    // null, not undefined: the SDK would otherwise take OPENAI_BASE_URL, and refuse it next to an endpoint.
    baseURL: null,
    apiKey,
    apiVersion: azure.apiVersion ?? AZURE_API_VERSION,
    deployment: azure.deployment,
    timeout: options.timeout,
    maxRetries: options.maxRetries,
  });
}
