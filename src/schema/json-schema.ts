import { z } from "zod";
import { ExtractError } from "../errors/extract-error.js";
import { isZodObject, isZodSchema, type ObjectSchema } from "./zod-object.js";
import type { JsonSchema } from "./walk.js";

export type { JsonSchema } from "./walk.js";
export { assertObjectSchema, isZodObject, isZodSchema, type ObjectSchema } from "./zod-object.js";

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
