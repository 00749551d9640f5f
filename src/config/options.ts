import type OpenAI from "openai";
import { ExtractError } from "../errors/extract-error.js";
import type { ChatEngine, ExtractMode, Usage } from "../engine/types.js";
import type { ResumeInfo } from "../run/journal.js";
import type { FewShotExample } from "../schema/examples.js";
import { assertObjectSchema, type ObjectSchema } from "../schema/zod-object.js";
import { resolveConnection, type Connection } from "./connection.js";
import { readEnvironment, type Environment } from "./env.js";

/** A schema given inline (a zod object) or by reference (a name in the schemas folder, or a path). */
export type SchemaInput = ObjectSchema | string;

/** Running totals of a run, as reported after each row. */
export interface RunTotals {
  rowsDone: number;
  rowsOk: number;
  rowsFailed: number;
  /** Rows answered from the journal or from an identical earlier row, without a model call. */
  rowsReused: number;
  /** Model calls so far, re-asks included. */
  modelCalls: number;
  /** Values read as the schema's type instead of a re-ask (`coerced`), in the rows done so far. */
  valuesCoerced: number;
  /** Tokens spent by this run's model calls, failed attempts included (reused rows cost nothing). */
  usage: Usage;
}

/** Totals of a run that has not finished a row yet. */
export function emptyTotals(): RunTotals {
  return { rowsDone: 0, rowsOk: 0, rowsFailed: 0, rowsReused: 0, modelCalls: 0, valuesCoerced: 0, usage: { prompt_tokens: 0, completion_tokens: 0 } };
}

/** What `onProgress` gets each time a row finishes. */
export interface ProgressEvent extends RunTotals {
  /** Index of the row that just finished. */
  index: number;
}

/** Options of `extract()`, `extractOne()` and the CLI (which maps its flags onto these names). */
export interface ExtractOptions<S extends SchemaInput = SchemaInput> {
  /** A zod object schema, or the name (`ticket`) or path of a schema file. */
  schema: S;
  /** Extra instructions for the model, appended after the schema file's own `instructions`. */
  instructions?: string;
  /**
   * Few-shot examples, sent before every row as user/assistant message pairs. `true` sends the
   * schema file's own (its `examples` export and `<schema>.examples.jsonl` beside it); a path to a
   * JSON Lines file (one `{"input": {...}, "output": {...}}` per line) or a list of
   * `{ input, output }` adds these after them; `false` sends none. Each output is checked against
   * the schema before any call. @default true
   */
  examples?: boolean | string | readonly FewShotExample[];
  /** @default $EXTRACT_MODEL, else "gpt-4o-mini" */
  model?: string;
  /** A ready `OpenAI` client (e.g. `AzureOpenAI`, or one with custom fetch); overrides `baseURL`/`apiKey`. */
  client?: OpenAI;
  /** Any {@link ChatEngine}; overrides `client`. */
  engine?: ChatEngine;
  /** @default $OPENAI_BASE_URL, else OpenAI's API */
  baseURL?: string;
  /** @default $OPENAI_API_KEY */
  apiKey?: string;
  /**
   * Requests in flight at once. Over HTTP, as many more rows are read and wait with their requests
   * built, so an answer's slot is taken at once. @default 8
   */
  concurrency?: number;
  /** Model calls per row, re-asks included. @default 3 */
  maxAttempts?: number;
  /**
   * Before a re-ask, read loose values as the schema's type where they have one reading: an enum
   * member in other case or punctuation (`"High"`), a number with grouping, a currency or a percent
   * sign (`"$1,234.50"`, `"123 USD"`, `"12%"`), `"true"`/`"false"`/`"yes"`/`"no"` for a boolean, a
   * JSON text for an array or object, one object for an array of them. Results list the fields in
   * `coerced`. `false` sends every such reply back to the model. @default true
   */
  coerce?: boolean;
  /** Output token budget of a first attempt; doubled after each cut-off reply. @default 1024 */
  maxTokens?: number;
  /** The most the output budget may grow to after cut-off replies. @default 8192 */
  maxTokensCap?: number;
  /** Sampling temperature; left to the server's default when unset (some models accept no other). */
  temperature?: number;
  /**
   * How the JSON is asked for: `json_object` (JSON mode, the most widely supported), `json_schema`
   * (strict Structured Outputs: every field in every reply, so optional fields must be `.nullable()`
   * instead), or `tools` (a forced function call, for servers without `response_format`). Replies
   * are validated the same way in every mode. @default "json_object"
   */
  mode?: ExtractMode;
  /** Milliseconds to wait for one HTTP answer. @default 120000 */
  timeout?: number;
  /** Transport retries of one call (429, 5xx, dropped connections), honouring retry-after. @default 4 */
  maxRetries?: number;
  /**
   * Requests per minute to stay under. Limits the server advertises in `x-ratelimit-*` headers
   * are followed without this; set it to share a quota with other work, or for servers that
   * enforce limits without saying so.
   */
  rpm?: number;
  /**
   * Tokens per minute to stay under, counting each request as OpenAI does when it arrives: its
   * prompt (about 4 characters per token) plus its whole output budget (`maxTokens`).
   */
  tpm?: number;
  /**
   * Rows whose prompt (system and user message) would exceed this many tokens fail with
   * `INPUT_TOO_LARGE` without a call. Counted with the model's tokenizer. @default no check
   */
  maxInputTokens?: number;
  /** Record keys sent to the model. @default all */
  columns?: readonly string[];
  /**
   * Source grounding: find each extracted string and number in the row the model saw, giving
   * successful results `spans` (where each value is) and `ungrounded` (the fields whose value is
   * nowhere in it). `false` leaves both out, and the output as it was before grounding. @default true
   */
  grounding?: boolean;
  /** Folder of named schemas. @default $EXTRACT_SCHEMAS_DIR, else ./schemas */
  schemasDir?: string;
  /** Stops the run: in-flight calls are cancelled and the iteration throws `ABORTED`. */
  signal?: AbortSignal;
  /**
   * Stops the run gently: no new row is started, rows in flight finish and are yielded, then the
   * iteration ends without error (the CLI's first Ctrl-C). Their results are in the journal.
   */
  stopSignal?: AbortSignal;
  /**
   * Path of a journal: every finished row is appended to it (one JSON line), so that a crashed
   * or interrupted run can be resumed. Also lets identical rows anywhere in the input be sent once.
   */
  journal?: string;
  /**
   * Reuse the rows an earlier run recorded in `journal` instead of calling the model for them.
   * A row is reused only if its content, the schema and instructions, the model, the `mode` and
   * the `temperature` are all unchanged; the budgets (`maxAttempts`, `maxTokens`, `maxTokensCap`,
   * `timeout`, `maxRetries`) may change freely. Rows that failed on transport errors are tried
   * again, and so are rows that failed for want of a budget raised since (`INVALID_JSON` and
   * `SCHEMA_MISMATCH` after fewer attempts than `maxAttempts` now allows, `OUTPUT_TRUNCATED` at
   * a smaller output budget than `maxTokens` / `maxTokensCap` now allow). @default false
   */
  resume?: boolean;
  /** With `resume`: called once, before any row, with what the journal holds for this run. */
  onResume?: (info: ResumeInfo) => void;
  /** Called each time a row finishes, in completion order. */
  onProgress?: (event: ProgressEvent) => void;
}

/** Defaults of the options (those of `extractCsv()` too); the single place they are written down. */
export const DEFAULTS = {
  model: "gpt-4o-mini",
  concurrency: 8,
  maxAttempts: 3,
  maxTokens: 1024,
  maxTokensCap: 8192,
  timeout: 120_000,
  maxRetries: 4,
  mode: "json_object",
  /** Taken from the working directory. */
  schemasDir: "schemas",
  format: "csv",
  delimiter: ",",
  strict: false,
  formulaGuard: true,
  grounding: true,
  examples: true,
  coerce: true,
  batchFinish: "batch",
  batchPoll: 30_000,
} as const;

/** Options after defaults and checks: what the pipeline reads. */
export interface Settings {
  model: string;
  concurrency: number;
  maxAttempts: number;
  maxTokens: number;
  maxTokensCap: number;
  coerce: boolean;
  temperature?: number;
  timeout: number;
  maxRetries: number;
  mode: ExtractMode;
  rpm?: number;
  tpm?: number;
  maxInputTokens?: number;
  columns?: readonly string[];
  grounding: boolean;
  instructions?: string;
  /** See {@link ExtractOptions.examples}. */
  examples: boolean | string | readonly FewShotExample[];
  /** The folder of named schemas, as given (relative paths are taken from the working directory). */
  schemasDir: string;
  /** Where the HTTP engine connects, and the keys to scrub from its messages. */
  connection: Connection;
  /** Where `hf:` models are downloaded from; undefined for Hugging Face itself. */
  modelDownloadEndpoint?: string;
}

const MODES: readonly ExtractMode[] = ["json_object", "json_schema", "tools"];

type IntegerOption = "concurrency" | "maxAttempts" | "maxTokens" | "maxTokensCap" | "timeout" | "maxRetries";
type OptionalPositiveOption = "rpm" | "tpm" | "maxInputTokens";

/** Smallest accepted value of each integer option. */
const MINIMUM: Record<IntegerOption, number> = {
  concurrency: 1,
  maxAttempts: 1,
  maxTokens: 1,
  maxTokensCap: 1,
  timeout: 1,
  maxRetries: 0,
};

/**
 * Applies defaults (the environment's, then {@link DEFAULTS}) and rejects bad values at once,
 * naming the option and the value it got.
 * @param env What the environment says. @default readEnvironment()
 * @throws ExtractError `INVALID_OPTION`
 * @example
 * const settings = normalizeOptions({ concurrency: 4 });
 */
export function normalizeOptions(options: Omit<ExtractOptions, "schema">, env: Environment = readEnvironment()): Settings {
  const integer = (name: IntegerOption): number => {
    const value = options[name] ?? DEFAULTS[name];
    if (!Number.isInteger(value) || value < MINIMUM[name]) {
      throw invalidOption(name, `a whole number from ${MINIMUM[name]} and up`, value);
    }
    return value;
  };
  const optionalPositive = (name: OptionalPositiveOption): number | undefined => {
    const value = options[name];
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value > 0)) {
      throw invalidOption(name, "a number above 0", value);
    }
    return value;
  };
  const settings: Settings = {
    model: options.model ?? env.model ?? DEFAULTS.model,
    concurrency: integer("concurrency"),
    maxAttempts: integer("maxAttempts"),
    maxTokens: integer("maxTokens"),
    maxTokensCap: integer("maxTokensCap"),
    coerce: options.coerce ?? DEFAULTS.coerce,
    timeout: integer("timeout"),
    maxRetries: integer("maxRetries"),
    rpm: optionalPositive("rpm"),
    tpm: optionalPositive("tpm"),
    maxInputTokens: optionalPositive("maxInputTokens"),
    temperature: options.temperature,
    columns: options.columns,
    grounding: options.grounding ?? DEFAULTS.grounding,
    instructions: options.instructions,
    examples: options.examples ?? DEFAULTS.examples,
    mode: options.mode ?? DEFAULTS.mode,
    schemasDir: schemasDirOf(options.schemasDir, env),
    connection: resolveConnection(options, env),
    modelDownloadEndpoint: env.modelDownloadEndpoint,
  };
  if (typeof settings.model !== "string" || settings.model.trim() === "") throw invalidOption("model", "a model name", options.model);
  if (!MODES.includes(settings.mode)) throw invalidOption("mode", `one of ${MODES.join(", ")}`, options.mode);
  if (settings.temperature !== undefined && !(settings.temperature >= 0 && settings.temperature <= 2)) {
    throw invalidOption("temperature", "a number from 0 to 2", settings.temperature);
  }
  if (settings.columns !== undefined && (!Array.isArray(settings.columns) || settings.columns.length === 0)) {
    throw invalidOption("columns", "a non-empty list of column names", settings.columns);
  }
  if (typeof settings.grounding !== "boolean") throw invalidOption("grounding", "true or false", options.grounding);
  const { examples } = settings;
  if (!(typeof examples === "boolean" || (typeof examples === "string" && examples !== "") || Array.isArray(examples))) {
    throw invalidOption("examples", "true, false, the path of a JSON Lines file or a list of { input, output }", examples);
  }
  if (typeof settings.coerce !== "boolean") throw invalidOption("coerce", "true or false", options.coerce);
  // A cap below the first budget would shrink the budget after a cut-off reply.
  settings.maxTokensCap = Math.max(settings.maxTokensCap, settings.maxTokens);
  return settings;
}

/**
 * Throws unless `schema` was given as a zod object or a schema name (or path): the one option
 * `extract()` cannot do without.
 * @throws ExtractError `INVALID_OPTION` when it is missing, `SCHEMA_INVALID` when it is not a zod object
 */
export function checkSchemaOption(schema: unknown): asserts schema is SchemaInput {
  if (schema === undefined) throw invalidOption("schema", "a zod object or a schema name", undefined);
  if (typeof schema !== "string") assertObjectSchema(schema, "`schema`");
}

/** The folder of named schemas: `schemasDir`, else $EXTRACT_SCHEMAS_DIR, else `./schemas`. */
export function schemasDirOf(schemasDir: string | undefined, env: Environment = readEnvironment()): string {
  return schemasDir ?? env.schemasDir ?? DEFAULTS.schemasDir;
}

/** The `INVALID_OPTION` error for an option: "Expected `name` to be <expected>, got <value>." */
export function invalidOption(name: string, expected: string, value: unknown): ExtractError {
  return new ExtractError("INVALID_OPTION", `Expected \`${name}\` to be ${expected}, got ${JSON.stringify(value) ?? String(value)}.`, {
    path: name,
  });
}
