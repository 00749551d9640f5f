import type { ChatEngine } from "./engine/types.js";
import { ExtractError } from "./errors.js";
import { runFingerprint } from "./journal.js";
import { normalizeOptions, type ExtractOptions, type Settings } from "./options.js";
import { buildSystemPrompt, type ChatMessage } from "./prompt.js";
import { toPromptJsonSchema, type JsonSchema, type ObjectSchema } from "./schema/json-schema.js";
import { loadSchema } from "./schema/load.js";
import { countMessageTokens, REPLY_PRIMING_TOKENS } from "./tokens.js";

/** What is the same for every row of a run and needs no network: built once per run. */
export interface PromptContext<S extends ObjectSchema = ObjectSchema> {
  schema: S;
  /** The schema as the model sees it (also decides the output columns). */
  jsonSchema: JsonSchema;
  /** The system message, byte-identical for every row. */
  systemPrompt: string;
  settings: Settings;
  /** Hash of the prompt and model settings: rows match stored results only under the same one. */
  fingerprint: string;
  /**
   * With `maxInputTokens`: the prompt tokens of a first attempt's messages (system message counted
   * once per run). Undefined without it, so runs that set no limit never load a tokenizer.
   */
  countInputTokens?: (messages: readonly ChatMessage[]) => number;
}

/** A {@link PromptContext} plus the engine that answers. */
export interface RunContext<S extends ObjectSchema = ObjectSchema> extends PromptContext<S> {
  engine: ChatEngine;
}

/**
 * Options, schema loading, JSON Schema and system prompt, checked and built once. Every
 * configuration error except a missing API key surfaces here; nothing touches the network.
 */
export async function preparePrompt(options: Omit<ExtractOptions, "onProgress">): Promise<PromptContext> {
  const settings = normalizeOptions(options);
  if (options.schema === undefined) {
    throw new ExtractError("INVALID_OPTION", "Expected `schema` to be a zod object or a schema name, got undefined.", { path: "schema" });
  }
  const loaded = typeof options.schema === "string" ? await loadSchema(options.schema, { schemasDir: options.schemasDir }) : undefined;
  const schema = loaded?.schema ?? (options.schema as ObjectSchema);
  const jsonSchema = withSchemaFile(loaded?.file, () => toPromptJsonSchema(schema));
  const systemPrompt = buildSystemPrompt(jsonSchema, [loaded?.instructions, settings.instructions]);
  const { model, maxAttempts, maxTokens, maxTokensCap, temperature } = settings;
  const fingerprint = runFingerprint({ systemPrompt, model, maxAttempts, maxTokens, maxTokensCap, temperature });
  return { schema, jsonSchema, systemPrompt, settings, fingerprint, countInputTokens: inputTokenCounter(systemPrompt, settings) };
}

/** Runs `convert`, adding the schema file (when there is one) to a `SCHEMA_INVALID` it throws. */
function withSchemaFile<T>(file: string | undefined, convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    if (file && error instanceof ExtractError && error.code === "SCHEMA_INVALID" && !error.file) {
      throw new ExtractError(error.code, `${file}: ${error.message}`, { file, path: error.path, cause: error.cause });
    }
    throw error;
  }
}

function inputTokenCounter(systemPrompt: string, settings: Settings): PromptContext["countInputTokens"] {
  if (settings.maxInputTokens === undefined) return undefined;
  const { model } = settings;
  const fixed = REPLY_PRIMING_TOKENS + countMessageTokens({ role: "system", content: systemPrompt }, model);
  return (messages) => messages.reduce((total, message, i) => (i === 0 ? total : total + countMessageTokens(message, model)), fixed);
}

/** {@link preparePrompt} plus the engine (`engine`, else `client`, else an OpenAI client from the options). */
export async function prepareRun(options: Omit<ExtractOptions, "onProgress">): Promise<RunContext> {
  const prompt = await preparePrompt(options);
  const { settings } = prompt;
  // Loaded on demand: the SDK is most of the start-up time, and dry runs and custom engines never need it.
  const engine =
    options.engine ??
    (await import("./engine/openai.js")).createOpenAIEngine({
      model: settings.model,
      client: options.client,
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeout: settings.timeout,
      maxRetries: settings.maxRetries,
      concurrency: settings.concurrency,
      rpm: settings.rpm,
      tpm: settings.tpm,
    });
  return { ...prompt, engine };
}
