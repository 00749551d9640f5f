import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { Jiti } from "jiti";
import { z } from "zod";
import { ExtractError } from "../errors/extract-error.js";
import { schemasDirOf } from "../config/options.js";
import { assertObjectSchema, isZodObject, type ObjectSchema } from "./json-schema.js";
import { checkExamples, readExamplesFile, siblingExamplesFile, type ExampleSource, type FewShotExample } from "./examples.js";

/** A schema ready to use: the zod object plus what the schema file says about itself. */
export interface LoadedSchema {
  /** The zod object that every reply is validated against. */
  schema: ObjectSchema;
  /** The schema file's named export `instructions`, if any. */
  instructions?: string;
  /**
   * Few-shot examples: the schema file's named export `examples`, then the lines of
   * `<schema>.examples.jsonl` beside it; each checked against the schema. [] when there are none.
   */
  examples: FewShotExample[];
  /** Absolute path of the file it came from. */
  file: string;
}

/** Options of {@link loadSchema}. */
export interface LoadSchemaOptions {
  /** Where relative paths and `./schemas` are resolved from. @default process.cwd() */
  cwd?: string;
  /** Folder searched for schema names. @default $EXTRACT_SCHEMAS_DIR, else `<cwd>/schemas` */
  schemasDir?: string;
  /** Read (and check) the schema's few-shot examples; false leaves them out unread. @default true */
  examples?: boolean;
}

/** File endings a schema may have, in the order a bare name is tried. */
export const SCHEMA_EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".json"] as const;

/*
 * jiti loads .ts/.mts schema files on demand. Chosen over tsx because it is a plain library call
 * (no process-wide loader hooks that would change how the rest of the program resolves modules),
 * has no dependencies, runs on Node 20 (which cannot strip types natively), and reports syntax
 * errors as `file:line:column`, which we pass on. It transpiles only: type errors in a schema
 * file are not checked at load time (`tsc` in the user's project does that).
 * `interopDefault: false` matters: jiti's default interop would see the zod object's own
 * `.default()` method and hand back that bound function instead of the schema.
 *
 * jiti is loaded on the first schema module, through `require`: its ESM entry imports a 190 kB
 * CommonJS bundle, which Node then scans for export names (cjs-module-lexer, 30-60 ms of every
 * start on this project's 2-core machine); `require` runs the same bundle without the scan.
 *
 * A schema file outside any project with zod (`/data/schemas/ticket.ts`, or a project that never
 * installed it) still imports "zod": such files get llm-extract's own copy. The alias maps the
 * package folder, so "zod/v4", "zod/v4/core" and "zod/mini" follow it. A project with its own zod
 * keeps it: its schemas then are made by that copy, which toPromptJsonSchema handles.
 */
const loaders: { project?: Jiti; ownZod?: Jiti } = {};

/** The jiti that loads `file`: with llm-extract's own zod when the file's folder has none. */
function schemaLoaderFor(file: string): Jiti {
  const require = createRequire(import.meta.url);
  const { createJiti } = require("jiti") as typeof import("jiti");
  const options = { moduleCache: false, fsCache: transpiledCache(), interopDefault: false };
  if (zodReachableFrom(file)) return (loaders.project ??= createJiti(import.meta.url, options));
  const ownZodFolder = path.dirname(require.resolve("zod/package.json"));
  return (loaders.ownZod ??= createJiti(import.meta.url, { ...options, alias: { zod: ownZodFolder } }));
}

/**
 * Where jiti keeps transpiled schema files: transpiling costs a few hundred milliseconds of every
 * run (it loads a compiler first), reading the result back almost nothing. jiti names an entry by
 * the file's path and checks, on every read, that it was made from the same source text by the
 * same jiti version, so an edited file is transpiled again. The folder is the user's own, not the
 * shared temporary one, where another account could plant an entry; jiti goes without a cache
 * when it cannot write there.
 */
function transpiledCache(): string {
  return path.join(os.homedir(), ".cache", "llm-extract", "jiti");
}

/** True when `zod` resolves from the schema file's folder (its project, or any folder above). */
function zodReachableFrom(file: string): boolean {
  try {
    createRequire(file).resolve("zod");
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds and loads a schema by name (`ticket` -> `<schemasDir>/ticket.ts`) or by path to a
 * .ts/.mts/.js/.mjs module (default export: a zod object; optional named export
 * `instructions`) or to a .json JSON Schema. A path is taken from `cwd`, then from `schemasDir`.
 * A module may live anywhere: where its folder has no zod, its `import ... from "zod"` gets
 * llm-extract's own. Its few-shot examples are its named export `examples` (a list of
 * `{ input, output }`) and the lines of `<schema>.examples.jsonl` beside it (for a .json schema too).
 *
 * @throws ExtractError `SCHEMA_NOT_FOUND` (listing the schemas that exist), `SCHEMA_LOAD_FAILED`
 * (syntax error or exception while importing, with file and line), `SCHEMA_INVALID` (no default
 * export, not a zod object, or an example that does not fit: naming the example and the field).
 */
export async function loadSchema(ref: string, options: LoadSchemaOptions = {}): Promise<LoadedSchema> {
  const cwd = options.cwd ?? process.cwd();
  const schemasDir = path.resolve(cwd, schemasDirOf(options.schemasDir));
  const file = await resolveSchemaFile(ref, cwd, schemasDir);
  const { loaded, exported } = file.endsWith(".json") ? await loadJsonSchemaFile(file) : await loadModuleFile(file);
  if (options.examples === false) return loaded;
  const inFile = exported === undefined ? [] : checkExamples(exported, loaded.schema, exportSource(file));
  const beside = await readExamplesFile(siblingExamplesFile(file), true);
  const inSibling = beside ? checkExamples(beside.examples, loaded.schema, beside.source) : [];
  return { ...loaded, examples: [...inFile, ...inSibling] };
}

/** How the examples a schema module exports are named in messages. */
function exportSource(file: string): ExampleSource {
  return { file, list: `the examples export of ${file}`, name: (index: number) => `examples[${index}] of ${file}` };
}

/** A schema file's contents: the schema, and the examples it exports, not yet checked. */
interface SchemaFileContents {
  loaded: LoadedSchema;
  exported?: unknown;
}

function looksLikePath(ref: string): boolean {
  return ref.includes("/") || ref.includes("\\") || SCHEMA_EXTENSIONS.some((ext) => ref.endsWith(ext));
}

async function resolveSchemaFile(ref: string, cwd: string, schemasDir: string): Promise<string> {
  if (looksLikePath(ref)) {
    const file = path.resolve(cwd, ref);
    if (await isFile(file)) return file;
    // `ticket.ts` or `sub/ticket.ts` most likely means the one in the schemas folder.
    const inSchemasDir = path.resolve(schemasDir, ref);
    if (await isFile(inSchemasDir)) return inSchemasDir;
    const available = await listSchemas(schemasDir);
    const missing = path.isAbsolute(ref) ? `${file} does not exist` : `neither ${file} nor ${inSchemasDir} exists`;
    throw new ExtractError(
      "SCHEMA_NOT_FOUND",
      `Schema file not found: ${missing}. Check \`schema\`: a path is taken from the working directory, ` +
        `then from the schemas folder ${schemasDir}` +
        (available.length ? ` (its schemas: ${available.join(", ")}).` : "."),
      { file },
    );
  }
  for (const ext of SCHEMA_EXTENSIONS) {
    const file = path.join(schemasDir, ref + ext);
    if (await isFile(file)) return file;
  }
  const available = await listSchemas(schemasDir);
  const hint = available.length
    ? `Available schemas: ${available.join(", ")}.`
    : `That folder has no schemas: add ${path.join(schemasDir, `${ref}.ts`)} default-exporting a z.object(), or set EXTRACT_SCHEMAS_DIR.`;
  throw new ExtractError("SCHEMA_NOT_FOUND", `No schema named "${ref}" in ${schemasDir}. ${hint}`, {
    file: schemasDir,
  });
}

/** Names of the schema files in a folder (without extension), sorted; [] if it does not exist. */
export async function listSchemas(schemasDir: string): Promise<string[]> {
  const entries = await readdir(schemasDir).catch(() => [] as string[]);
  const names = entries
    .filter((entry) => SCHEMA_EXTENSIONS.some((ext) => entry.endsWith(ext)) && !entry.endsWith(".d.ts"))
    .map((entry) => entry.slice(0, entry.lastIndexOf(".")));
  return [...new Set(names)].sort();
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function loadModuleFile(file: string): Promise<SchemaFileContents> {
  let module: Record<string, unknown>;
  try {
    module = (await schemaLoaderFor(file).import(file)) as Record<string, unknown>;
  } catch (error) {
    const { line, column } = locateError(error, file);
    const where = line ? `${file}:${line}${column ? `:${column}` : ""}` : file;
    const advice = missingModuleAdvice(error, file) ?? "Fix the file, then run again.";
    throw new ExtractError("SCHEMA_LOAD_FAILED", `Schema file ${where} failed to load: ${firstLine(error)}. ${advice}`, {
      file,
      line,
      column,
      cause: error,
    });
  }
  const schema = module.default;
  if (schema === undefined) {
    throw new ExtractError(
      "SCHEMA_INVALID",
      `Schema file ${file} has no default export. Add \`export default z.object({ ... })\`.`,
      { file },
    );
  }
  assertObjectSchema(schema, `The default export of ${file}`, { file });
  const instructions = module.instructions;
  if (instructions !== undefined && typeof instructions !== "string") {
    throw new ExtractError("SCHEMA_INVALID", `The \`instructions\` export of ${file} must be a string.`, { file });
  }
  return { loaded: { schema, instructions, file, examples: [] }, exported: module.examples };
}

async function loadJsonSchemaFile(file: string): Promise<SchemaFileContents> {
  const text = await readFile(file, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const { line, column } = positionToLineColumn(text, error);
    throw new ExtractError(
      "SCHEMA_LOAD_FAILED",
      `Schema file ${file}${line ? `:${line}:${column}` : ""} is not valid JSON: ${firstLine(error)}.`,
      { file, line, column, cause: error },
    );
  }
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new ExtractError("SCHEMA_INVALID", `Schema file ${file} is not a usable JSON Schema: ${firstLine(error)}.`, {
      file,
      cause: error,
    });
  }
  if (!isZodObject(schema)) {
    throw new ExtractError("SCHEMA_INVALID", `Schema file ${file} must describe an object (\`"type": "object"\`).`, {
      file,
    });
  }
  return { loaded: { schema, file, examples: [] } };
}

/** What to do when the import failed because a module it imports is not there; undefined otherwise. */
function missingModuleAdvice(error: unknown, file: string): string | undefined {
  const specifier = /Cannot find (?:module|package) '([^']+)'/.exec(error instanceof Error ? error.message : "")?.[1];
  if (!specifier) return undefined;
  if (/^[./\\]|^[a-zA-Z]:/.test(specifier)) {
    return `It imports ${specifier}, which does not exist: fix that import path (relative to ${path.dirname(file)}).`;
  }
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const install = name === "zod" ? "zod@^4" : name;
  return (
    `It imports "${specifier}", which is not installed for the schema's folder ${path.dirname(file)}: ` +
    `install it in the schema's project (\`npm install ${install}\` where its package.json is), then run again.`
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split("\n")[0] ?? "").replace(/^ParseError:\s*/, "").trim() || "unknown error";
}

/** Pulls `file:line:column` out of a parse error message or the first stack frame in the file. */
function locateError(error: unknown, file: string): { line?: number; column?: number } {
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error);
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`).exec(text);
  if (!match) return {};
  return { line: Number(match[1]), column: match[2] ? Number(match[2]) : undefined };
}

/** Turns V8's "at position N" in a JSON.parse error into a 1-based line and column. */
function positionToLineColumn(text: string, error: unknown): { line?: number; column?: number } {
  const match = /position (\d+)/.exec(String((error as Error).message));
  if (!match) return {};
  const before = text.slice(0, Number(match[1]));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
