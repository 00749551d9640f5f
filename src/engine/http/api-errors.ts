import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from "openai/error";
import { ExtractError, redactSecrets } from "../../errors/extract-error.js";
import type { ExtractMode } from "../types.js";

// What an OpenAI API error means for the run: the SDK's error classes (after its own retries)
// mapped to our codes, with a next step, and keys scrubbed from whatever the server echoed.

/** What a message about a failed call may name: where it went, with what, and the secrets to scrub. */
export interface ErrorContext {
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
function refusesMode(error: APIError, mode: ExtractMode): boolean {
  if (error.status !== 400 && error.status !== 422) return false;
  const fields = MODE_FIELDS[mode];
  if (typeof error.param === "string" && error.param) return fields.some((field) => error.param!.startsWith(field));
  const message = error.message.toLowerCase();
  return fields.some((field) => message.includes(field));
}

/** Maps an SDK error (after its retries) to an ExtractError with a code and a next step. */
export function fromApiError(error: unknown, context: ErrorContext): ExtractError {
  if (error instanceof ExtractError) return error;
  const { model, baseURL, maxRetries } = context;
  const clean = (text: string) => redactSecrets(text, context.secrets);
  const make = (code: ConstructorParameters<typeof ExtractError>[0], message: string) =>
    new ExtractError(code, clean(message), { cause: error });
  const serverSays = error instanceof Error ? clean(error.message) : String(error);
  const retries = `${maxRetries} ${maxRetries === 1 ? "retry" : "retries"}`;

  if (error instanceof APIUserAbortError) return make("ABORTED", "The request was aborted.");
  if (error instanceof APIConnectionTimeoutError) {
    return make("TIMEOUT", `No answer from ${baseURL} within the timeout, after ${retries}. Raise \`timeout\` or lower \`concurrency\`.`);
  }
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return make("CONNECTION_FAILED", `Could not reach ${baseURL}${cause} (after ${retries}). Check \`baseURL\` and that the server is up.`);
  }
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    const key = context.azureDeployment !== undefined ? "AZURE_OPENAI_API_KEY / `apiKey` and AZURE_OPENAI_ENDPOINT" : "OPENAI_API_KEY / `apiKey`";
    return make("AUTH_FAILED", `${baseURL} refused the credentials (${serverSays}). Check ${key}.`);
  }
  if (error instanceof NotFoundError) {
    if (context.azureDeployment !== undefined) {
      return make(
        "MODEL_NOT_FOUND",
        `No deployment "${context.azureDeployment}" at ${baseURL} (${serverSays}). Set AZURE_OPENAI_DEPLOYMENT (or \`model\`, without it) to the deployment's name.`,
      );
    }
    return make("MODEL_NOT_FOUND", `Model "${model}" was not found at ${baseURL} (${serverSays}). Check \`model\` / EXTRACT_MODEL.`);
  }
  if (error instanceof RateLimitError && error.code === "insufficient_quota") {
    // A 429 that waiting does not cure: the account is out of credit.
    return make("QUOTA_EXCEEDED", `${baseURL} says the account's quota is used up (${serverSays}). Check the plan and billing details.`);
  }
  if (error instanceof RateLimitError) {
    return make("RATE_LIMITED", `Still rate limited after ${retries} (${serverSays}). Set \`rpm\` / \`tpm\` below the account's limits, or wait for the quota to reset.`);
  }
  if (error instanceof BadRequestError && error.code === "context_length_exceeded") {
    return make("INPUT_TOO_LARGE", `The row does not fit the model's context window (${serverSays}). Send fewer \`columns\`.`);
  }
  const mode = context.mode ?? "json_object";
  if (error instanceof APIError && refusesMode(error, mode)) {
    return make("MODE_UNSUPPORTED", `${baseURL} refused \`mode\` ${mode} (${serverSays}). ${MODE_ADVICE[mode]}`);
  }
  if (error instanceof APIError) {
    return make("MODEL_ERROR", `${baseURL} answered with an error (${serverSays}).`);
  }
  return make("MODEL_ERROR", `The model call failed: ${serverSays}.`);
}
