import { z } from "zod";
import { ExtractError, type ExtractErrorContext } from "../errors/extract-error.js";
import type { JsonSchema } from "./walk.js";

/** A zod object schema, the only top-level shape a JSON-object reply can satisfy. */
export type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export type { JsonSchema } from "./walk.js";

/**
 * True for a zod v4 object schema. Checked structurally rather than with `instanceof`, because a
 * schema file loaded from the user's project may import its own copy of zod.
 */
export function isZodObject(value: unknown): value is ObjectSchema {
  const def = (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def;
  return typeof def === "object" && def !== null && def.type === "object";
}

/** True for any zod v4 schema (see {@link isZodObject} for why this is structural). */
export function isZodSchema(value: unknown): value is z.ZodType {
  const zod = (value as { _zod?: { def?: unknown } } | null)?._zod;
  return typeof zod === "object" && zod !== null && typeof zod.def === "object";
}

/**
 * Throws `SCHEMA_INVALID` unless `value` is a zod 4 object schema, saying what it is instead.
 * One check for schema files and for schemas passed to the library, so both say the same.
 *
 * @param subject Who holds the value, as the message should name it: "`schema`", "The default
 * export of /app/ticket.ts".
 */
export function assertObjectSchema(value: unknown, subject: string, context: ExtractErrorContext = {}): asserts value is ObjectSchema {
  if (isZodObject(value)) return;
  if (isZod3Schema(value)) {
    throw new ExtractError(
      "SCHEMA_INVALID",
      `${subject}: this schema was made with zod 3; llm-extract needs zod 4 ` +
        '(import { z } from "zod" with zod 4, or "zod/v4" with zod 3.25).',
      context,
    );
  }
  throw new ExtractError(
    "SCHEMA_INVALID",
    `${subject} is ${describeValue(value)}, not a zod object. Use \`z.object({ ... })\` (zod v4): each reply must be one JSON object.`,
    context,
  );
}

/** zod 3 schemas (and zod 3.25's classic `zod` entry) carry `_def` and `safeParse`, but no `_zod`. */
function isZod3Schema(value: unknown): boolean {
  const schema = value as { _def?: unknown; _zod?: unknown; safeParse?: unknown } | null;
  if (typeof schema !== "object" || schema === null) return false;
  return schema._zod === undefined && typeof schema._def === "object" && typeof schema.safeParse === "function";
}

function describeValue(value: unknown): string {
  if (isZodSchema(value)) return `a zod ${value._zod.def.type} schema`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "a plain object";
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `a ${typeof value} (${String(value)})`;
}

/**
 * The metadata registry for `z.toJSONSchema()`, seeing the descriptions of schemas from any zod 4
 * copy. `.describe()` and `.meta()` store them in the registry of the zod copy that made the schema.
 * Recent zod shares that registry between copies through `globalThis`; older zod 4 releases
 * (4.1.0, zod 3.25's `zod/v4`) keep one per copy, so a schema made by the user's own zod would
 * lose every description. Each classic schema reads its own copy's registry through `.meta()`,
 * which is what this falls back to.
 */
class AnyCopyRegistry extends z.core.$ZodRegistry<z.core.GlobalMeta> {
  override get<S extends z.core.$ZodType>(schema: S): z.core.GlobalMeta | undefined {
    const own = z.globalRegistry.get(schema);
    if (own) return own;
    const meta = (schema as { meta?: unknown }).meta;
    const found: unknown = typeof meta === "function" ? meta.call(schema) : undefined;
    return typeof found === "object" && found !== null ? (found as z.core.GlobalMeta) : undefined;
  }
}

const metadata = new AnyCopyRegistry();

const SAFE_INT_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * Converts a zod object schema to the compact JSON Schema the model sees.
 *
 * Uses zod v4's own `z.toJSONSchema()` (the old `zod-to-json-schema` package is deprecated and
 * emits empty schemas for zod v4). It describes the schema's *input* side, because the model's
 * reply is what zod parses, and works for a schema made by any zod 4 copy (the user's own,
 * descriptions included). Noise that costs tokens on every request and tells the model nothing
 * is dropped: `$schema`, and the ±2^53 bounds zod puts on every `z.int()`.
 *
 * @throws ExtractError `SCHEMA_INVALID` naming the field that JSON Schema cannot express
 * (transforms, functions, dates...).
 */
export function toPromptJsonSchema(schema: ObjectSchema): JsonSchema {
  try {
    const json = z.toJSONSchema(schema, {
      io: "input",
      metadata,
      override: ({ jsonSchema }) => {
        for (const key of ["minimum", "maximum"] as const) {
          if (SAFE_INT_BOUNDS.has(jsonSchema[key] as number)) delete jsonSchema[key];
        }
      },
    }) as JsonSchema;
    delete json.$schema;
    return json;
  } catch (error) {
    const path = findUnrepresentableField(schema);
    const where = path ? `field \`${path}\`` : "the schema";
    throw new ExtractError(
      "SCHEMA_INVALID",
      `${where} cannot be expressed as JSON Schema (${(error as Error).message}). ` +
        "Use plain types the model can produce (string, number, boolean, enum, object, array, nullable) " +
        "and convert values after extraction instead of inside the schema.",
      { path, cause: error },
    );
  }
}

/** Walks an object schema's fields to name the first one `z.toJSONSchema()` rejects. */
function findUnrepresentableField(schema: ObjectSchema, prefix = ""): string | undefined {
  for (const [key, field] of Object.entries(schema.shape)) {
    const path = prefix ? `${prefix}.${key}` : key;
    try {
      z.toJSONSchema(field as z.ZodType, { io: "input" });
    } catch {
      return (isZodObject(field) && findUnrepresentableField(field, path)) || path;
    }
  }
  return undefined;
}
