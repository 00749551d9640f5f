import { z } from "zod";
import { ExtractError } from "../errors.js";

/** A zod object schema, the only top-level shape a JSON-object reply can satisfy. */
export type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** JSON Schema as a plain object. */
export type JsonSchema = Record<string, unknown>;

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

const SAFE_INT_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * Converts a zod object schema to the compact JSON Schema the model sees.
 *
 * Uses zod v4's own `z.toJSONSchema()` (the old `zod-to-json-schema` package is deprecated and
 * emits empty schemas for zod v4). It describes the schema's *input* side, because the model's
 * reply is what zod parses. Noise that costs tokens on every request and tells the model nothing
 * is dropped: `$schema`, and the ±2^53 bounds zod puts on every `z.int()`.
 *
 * @throws ExtractError `SCHEMA_INVALID` naming the field that JSON Schema cannot express
 * (transforms, functions, dates...).
 */
export function toPromptJsonSchema(schema: ObjectSchema): JsonSchema {
  try {
    const json = z.toJSONSchema(schema, {
      io: "input",
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
