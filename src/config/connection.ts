import type { OpenAIEngineOptions } from "../engine/http/openai.js";
import type { ExtractOptions } from "./options.js";
import { environmentSecrets, type Environment } from "./env.js";

/** What the HTTP engine is told about where to connect: the options and the environment, resolved. */
export type Connection = Required<Pick<OpenAIEngineOptions, "secrets">> & Pick<OpenAIEngineOptions, "baseURL" | "apiKey" | "azure">;

/**
 * Decides where requests go, by precedence: explicit options (`baseURL`, `apiKey`) first, then
 * Azure's variables, then OpenAI's. An explicit `baseURL` always means an OpenAI-compatible server
 * (also Azure's v1 API, `https://<resource>.openai.azure.com/openai/v1/`). Otherwise
 * $AZURE_OPENAI_ENDPOINT selects Azure OpenAI, with $AZURE_OPENAI_API_KEY; else $OPENAI_BASE_URL and
 * $OPENAI_API_KEY apply, as in the SDK. A missing key is the engine's to report: a run given its
 * own `client` or `engine` needs none.
 */
export function resolveConnection(options: Pick<ExtractOptions, "baseURL" | "apiKey">, env: Environment): Connection {
  const secrets = environmentSecrets(env);
  if (options.baseURL === undefined && env.azureEndpoint) {
    const azure = { endpoint: env.azureEndpoint, apiVersion: env.azureApiVersion, deployment: env.azureDeployment };
    return { azure, apiKey: options.apiKey ?? env.azureApiKey, secrets };
  }
  return { baseURL: options.baseURL ?? env.openaiBaseURL, apiKey: options.apiKey ?? env.openaiApiKey, secrets };
}
