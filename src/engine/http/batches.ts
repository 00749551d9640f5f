import OpenAI, { toFile } from "openai";
import { setTimeout as sleep } from "node:timers/promises";
import { fromApiError, type ErrorContext } from "./api-errors.js";
import { tokenLimitFieldFor, type TokenLimitField } from "./chat-body.js";
import { createClient } from "./client.js";
import type { OpenAIEngineOptions } from "./openai.js";
import { isAzure } from "./paced-fetch.js";

// Every call a batch job makes (files: upload, content, delete; batches: create, retrieve, list,
// cancel), over the same client construction as the synchronous engine, with the same error
// mapping. Transport retries are the SDK's.

/** A batch as the runner reads it: the SDK's `Batch`. */
export type Batch = OpenAI.Batches.Batch;

/** Batch statuses after which nothing more happens. */
export const TERMINAL_STATUSES: ReadonlySet<Batch["status"]> = new Set(["completed", "failed", "expired", "cancelled"]);

/** What the runner needs of a provider's Files + Batches API. */
export interface BatchApi {
  /** Each line's `url` and the batch's `endpoint`: `/v1/chat/completions`, or `/chat/completions` on Azure. */
  readonly url: string;
  /** Each line's body `model`: the model, or Azure's deployment. */
  readonly lineModel: string;
  readonly tokenLimitField: TokenLimitField;
  readonly azure: boolean;
  /**
   * True when the batches run outside this process (request files for vLLM's `run-batch`): a run
   * stops once its batches are written, instead of waiting, and a later run reads their results;
   * each round is one file, whatever its size.
   */
  readonly offline: boolean;
  /** How failed calls and per-request errors are mapped and scrubbed. */
  readonly errors: ErrorContext;
  upload(name: string, text: string): Promise<string>;
  create(inputFileId: string, metadata: Record<string, string>): Promise<Batch>;
  retrieve(batchId: string): Promise<Batch>;
  /** The newest batch whose metadata holds every entry of `metadata`, if any (looked up among the latest few hundred). */
  find(metadata: Record<string, string>): Promise<Batch | undefined>;
  cancel(batchId: string): Promise<Batch>;
  /** A result file's text. OpenAI may answer 403 for a few seconds after a batch completes: tried again meanwhile. */
  content(fileId: string, signal?: AbortSignal): Promise<string>;
  /** Deletes a file; a file already gone is no error. */
  remove(fileId: string): Promise<void>;
}

/** Options of {@link createBatchApi}: the engine's connection options. */
export type BatchApiOptions = Pick<OpenAIEngineOptions, "model" | "client" | "apiKey" | "baseURL" | "azure" | "secrets" | "timeout" | "maxRetries">;

/** Tries of a result file answered 403, and the wait between them. */
const CONTENT_TRIES = 5;
const CONTENT_RETRY_MS = 2_000;
/** Batches searched by {@link BatchApi.find}: far more than a job's parts created in the minutes before a crash. */
const FIND_LIMIT = 500;

/**
 * The Batch API of the configured server: OpenAI's, any server that speaks it, or Azure OpenAI's
 * global batch (whose lines name the deployment as their model, and whose client must not be
 * bound to a deployment, or the files and batches paths would be under it).
 * @throws ExtractError `MISSING_API_KEY` as the engine does.
 */
export function createBatchApi(options: BatchApiOptions, contentRetryMs = CONTENT_RETRY_MS): BatchApi {
  const client = options.client ?? createClient({ ...options, azure: options.azure && { ...options.azure, deployment: undefined } });
  const azure = isAzure(client);
  const lineModel = azure ? (client.deploymentName ?? options.azure?.deployment ?? options.model) : options.model;
  const errors: ErrorContext = {
    model: options.model,
    baseURL: client.baseURL,
    maxRetries: client.maxRetries,
    secrets: [client.apiKey, options.apiKey, ...(options.secrets ?? [])],
    azureDeployment: azure ? lineModel : undefined,
  };
  const url = azure ? "/chat/completions" : "/v1/chat/completions";
  const mapped = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw fromApiError(error, errors);
    }
  };

  return {
    url,
    lineModel,
    tokenLimitField: tokenLimitFieldFor(client.baseURL),
    azure,
    offline: false,
    errors,
    upload: (name, text) => mapped(async () => (await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "batch" })).id),
    create: (inputFileId, metadata) =>
      mapped(() => client.batches.create({ input_file_id: inputFileId, endpoint: url as "/v1/chat/completions", completion_window: "24h", metadata })),
    retrieve: (batchId) => mapped(() => client.batches.retrieve(batchId)),
    find: (metadata) =>
      mapped(async () => {
        let seen = 0;
        for await (const batch of client.batches.list({ limit: 100 })) {
          if (Object.entries(metadata).every(([key, value]) => batch.metadata?.[key] === value)) return batch;
          if (++seen >= FIND_LIMIT) break;
        }
        return undefined;
      }),
    cancel: (batchId) => mapped(() => client.batches.cancel(batchId)),
    content: (fileId, signal) =>
      mapped(async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await (await client.files.content(fileId, { signal })).text();
          } catch (error) {
            if (!(error instanceof OpenAI.PermissionDeniedError) || attempt >= CONTENT_TRIES) throw error;
            await sleep(contentRetryMs, undefined, { signal });
          }
        }
      }),
    remove: (fileId) =>
      mapped(async () => {
        await client.files.delete(fileId).catch((error: unknown) => {
          if (!(error instanceof OpenAI.NotFoundError)) throw error;
        });
      }),
  };
}
