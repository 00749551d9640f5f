import type { ChatEngine, ReplyFormat } from "../engine/types.js";
import { ExtractError } from "../errors/extract-error.js";
import { runFingerprint } from "./journal.js";
import { checkSchemaOption, normalizeOptions, type ExtractOptions, type Settings } from "../config/options.js";
import { buildExampleMessages, buildSystemPrompt, type ChatMessage } from "../core/prompt.js";
import { toPromptJsonSchema, type JsonSchema, type ObjectSchema } from "../schema/json-schema.js";
import { loadSchema } from "../schema/load.js";
import { addedExamples, selectExampleColumns } from "../schema/examples.js";
import { schemaName, toStrictJsonSchema } from "../schema/strict-schema.js";
import { promptTokenCounter } from "../models/tokens.js";

/** What is the same for every row of a run and needs no network: built once per run. */
export interface PromptContext<S extends ObjectSchema = ObjectSchema> {
  schema: S;
  /** The schema as the model sees it (also decides the output columns). */
  jsonSchema: JsonSchema;
  /** The system message, byte-identical for every row. */
  systemPrompt: string;
  /**
   * The few-shot examples as the messages between the system message and each row (the same
   * objects for every row): pass them to `buildMessages`. [] without examples.
   */
  exampleMessages: readonly ChatMessage[];
  /** How the JSON is asked for (the `mode`), with the strict schema where the mode needs one. */
  replyFormat: ReplyFormat;
  settings: Settings;
  /**
   * Hash of what decides an answer besides the row (system prompt, examples, model, mode,
   * temperature): rows match stored results only under the same one. Budgets are not in it.
   */
  fingerprint: string;
  /**
   * The fingerprint as journals of version 0.1.0 hashed it, budgets included (`maxAttempts`,
   * `maxTokens`, `maxTokensCap`): such journals stay usable on resume when no setting changed.
   */
  legacyFingerprint: string;
  /**
   * With `maxInputTokens`: the prompt tokens of a first attempt's messages (system message and
   * examples counted once per run). Undefined without it, so runs that set no limit never load a tokenizer.
   */
  countInputTokens?: (messages: readonly ChatMessage[]) => number;
}

/** A {@link PromptContext} plus the engine that answers. */
export interface RunContext<S extends ObjectSchema = ObjectSchema> extends PromptContext<S> {
  engine: ChatEngine;
  /** Frees what the run's own engine holds (the embedded model); an engine passed in is left alone. */
  close: () => Promise<void>;
}

/**
 * Options, schema loading, JSON Schema and system prompt, checked and built once. Every
 * configuration error except a missing API key surfaces here; nothing touches the network.
 */
export async function preparePrompt(options: Omit<ExtractOptions, "onProgress">): Promise<PromptContext> {
  const settings = normalizeOptions(options);
  checkSchemaOption(options.schema);
  const withExamples = settings.examples !== false;
  const loaded =
    typeof options.schema === "string" ? await loadSchema(options.schema, { schemasDir: settings.schemasDir, examples: withExamples }) : undefined;
  const schema = loaded?.schema ?? (options.schema as ObjectSchema);
  const examples = withExamples ? [...(loaded?.examples ?? []), ...(await addedExamples(settings.examples, schema))] : [];
  const exampleMessages = buildExampleMessages(selectExampleColumns(examples, settings.columns));
  const jsonSchema = withSchemaFile(loaded?.file, () => toPromptJsonSchema(schema));
  const systemPrompt = buildSystemPrompt(jsonSchema, [loaded?.instructions, settings.instructions]);
  // The embedded engine decodes under a grammar made from the schema whatever the mode: no
  // request fields to shape, and no strict form to demand of the schema.
  const replyFormat = isEmbeddedModel(settings.model)
    ? ({ mode: "json_object" } as const)
    : withSchemaFile(loaded?.file, () => replyFormatOf(settings.mode, jsonSchema, schemaName(loaded?.file)));
  const { model, maxAttempts, maxTokens, maxTokensCap, temperature, mode } = settings;
  // A resume never mixes modes. json_object, the mode every run had before there were others,
  // leaves the hash as it was, so that journals written then stay usable.
  const modePart = mode === "json_object" ? {} : { mode };
  // Likewise a run without examples hashes as runs did before there were any.
  const examplesPart = exampleMessages.length ? { examples: exampleMessages.map((message) => message.content) } : {};
  // Budgets change no answer already given, so raising one (as a SCHEMA_MISMATCH or
  // OUTPUT_TRUNCATED message advises) must not make a resume pay again for every finished row.
  const fingerprint = runFingerprint({ systemPrompt, model, temperature, ...modePart, ...examplesPart });
  const legacyFingerprint = runFingerprint({ systemPrompt, model, maxAttempts, maxTokens, maxTokensCap, temperature, ...modePart, ...examplesPart });
  return {
    schema,
    jsonSchema,
    systemPrompt,
    exampleMessages,
    replyFormat,
    settings,
    fingerprint,
    legacyFingerprint,
    countInputTokens: inputTokenCounter(systemPrompt, exampleMessages, settings),
  };
}

/**
 * The mode's request shape, built once per run. The schema also stays in the system prompt in
 * every mode: servers that constrain decoding to a schema (vLLM, llama.cpp, Ollama) do not show
 * it to the model, and its field descriptions are what tell the model what to write.
 * `tools` sends the strict schema when the schema allows one, else the plain one without `strict`.
 */
function replyFormatOf(mode: Settings["mode"], jsonSchema: JsonSchema, name: string): ReplyFormat {
  if (mode === "json_object") return { mode };
  if (mode === "json_schema") return { mode, name, schema: toStrictJsonSchema(jsonSchema) };
  try {
    return { mode, name, schema: toStrictJsonSchema(jsonSchema), strict: true };
  } catch (error) {
    if (error instanceof ExtractError && error.code === "SCHEMA_INVALID") return { mode, name, schema: jsonSchema, strict: false };
    throw error;
  }
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

function inputTokenCounter(systemPrompt: string, exampleMessages: readonly ChatMessage[], settings: Settings): PromptContext["countInputTokens"] {
  if (settings.maxInputTokens === undefined) return undefined;
  return promptTokenCounter(systemPrompt, settings.model, exampleMessages);
}

/**
 * {@link preparePrompt} plus the engine: `engine`, else the embedded engine for a `local:` or
 * `hf:` model, else an OpenAI client from the options (`client`, else `baseURL` / `apiKey`).
 */
export async function prepareRun(options: Omit<ExtractOptions, "onProgress">): Promise<RunContext> {
  const prompt = await preparePrompt(options);
  const { settings } = prompt;
  if (!options.engine && isEmbeddedModel(settings.model)) {
    // Loaded on demand, like the SDK below: node-llama-cpp is an optional peer dependency.
    const engine = await (await import("../engine/llama/llama.js")).createLlamaEngine({
      model: settings.model,
      jsonSchema: prompt.jsonSchema,
      concurrency: settings.concurrency,
      signal: options.signal,
      downloadEndpoint: settings.modelDownloadEndpoint,
    });
    return { ...prompt, engine, close: () => engine.close() };
  }
  // Loaded on demand: the SDK is most of the start-up time, and dry runs and custom engines never need it.
  const engine =
    options.engine ??
    (await import("../engine/http/openai.js")).createOpenAIEngine({
      model: settings.model,
      client: options.client,
      ...settings.connection,
      timeout: settings.timeout,
      maxRetries: settings.maxRetries,
      concurrency: settings.concurrency,
      rpm: settings.rpm,
      tpm: settings.tpm,
    });
  return { ...prompt, engine, close: async () => undefined };
}

/** True for models run in this process by node-llama-cpp: `local:./model.gguf`, or an `hf:` URI. */
export function isEmbeddedModel(model: string): boolean {
  return /^(local|hf):/.test(model);
}
