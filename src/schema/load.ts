import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { createJiti } from "jiti";
import { z } from "zod";
import { ExtractError } from "../errors.js";
import { isZodObject, isZodSchema, type ObjectSchema } from "./json-schema.js";

/** A schema ready to use: the zod object plus what the schema file says about itself. */
export interface LoadedSchema {
  /** The zod object that every reply is validated against. */
  schema: ObjectSchema;
  /** The schema file's named export `instructions`, if any. */
  instructions?: string;
  /** Absolute path of the file it came from. */
  file: string;
}

/** Options of {@link loadSchema}. */
export interface LoadSchemaOptions {
  /** Where relative paths and `./schemas` are resolved from. @default process.cwd() */
  cwd?: string;
  /** Folder searched for schema names. @default $EXTRACT_SCHEMAS_DIR, else `<cwd>/schemas` */
  schemasDir?: string;
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
 */
const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false, interopDefault: false });

/**
 * Finds and loads a schema by name (`ticket` -> `<schemasDir>/ticket.ts`) or by path to a
 * .ts/.mts/.js/.mjs module (default export: a zod object; optional named export
 * `instructions`) or to a .json JSON Schema.
 *
 * @throws ExtractError `SCHEMA_NOT_FOUND` (listing the schemas that exist), `SCHEMA_LOAD_FAILED`
 * (syntax error or exception while importing, with file and line), `SCHEMA_INVALID` (no default
 * export, or not a zod object).
 */
export async function loadSchema(ref: string, options: LoadSchemaOptions = {}): Promise<LoadedSchema> {
  const cwd = options.cwd ?? process.cwd();
  const schemasDir = path.resolve(cwd, options.schemasDir ?? process.env.EXTRACT_SCHEMAS_DIR ?? "schemas");
  const file = await resolveSchemaFile(ref, cwd, schemasDir);
  return file.endsWith(".json") ? loadJsonSchemaFile(file) : loadModuleFile(file);
}

function looksLikePath(ref: string): boolean {
  return ref.includes("/") || ref.includes("\\") || SCHEMA_EXTENSIONS.some((ext) => ref.endsWith(ext));
}

async function resolveSchemaFile(ref: string, cwd: string, schemasDir: string): Promise<string> {
  if (looksLikePath(ref)) {
    const file = path.resolve(cwd, ref);
    if (await isFile(file)) return file;
    throw new ExtractError("SCHEMA_NOT_FOUND", `Schema file ${file} does not exist. Check the path given as --schema.`, {
      file,
    });
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

async function loadModuleFile(file: string): Promise<LoadedSchema> {
  let module: Record<string, unknown>;
  try {
    module = (await jiti.import(file)) as Record<string, unknown>;
  } catch (error) {
    const { line, column } = locateError(error, file);
    const where = line ? `${file}:${line}${column ? `:${column}` : ""}` : file;
    throw new ExtractError(
      "SCHEMA_LOAD_FAILED",
      `Schema file ${where} failed to load: ${firstLine(error)}. Fix the file, then run again.`,
      { file, line, column, cause: error },
    );
  }
  const schema = module.default;
  if (schema === undefined) {
    throw new ExtractError(
      "SCHEMA_INVALID",
      `Schema file ${file} has no default export. Add \`export default z.object({ ... })\`.`,
      { file },
    );
  }
  if (!isZodObject(schema)) {
    const got = isZodSchema(schema) ? `a zod ${schema._zod.def.type} schema` : `a ${typeof schema}`;
    throw new ExtractError(
      "SCHEMA_INVALID",
      `The default export of ${file} is ${got}, not a zod object. Export \`z.object({ ... })\` (zod v4): ` +
        "each reply must be one JSON object.",
      { file },
    );
  }
  const instructions = module.instructions;
  if (instructions !== undefined && typeof instructions !== "string") {
    throw new ExtractError("SCHEMA_INVALID", `The \`instructions\` export of ${file} must be a string.`, { file });
  }
  return { schema, instructions, file };
}

async function loadJsonSchemaFile(file: string): Promise<LoadedSchema> {
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
  return { schema, file };
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
