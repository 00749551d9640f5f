import type { z } from "zod";
import { ExtractError, type ExtractErrorContext } from "../errors/extract-error.js";

// What a value is, checked by its shape: no zod code is loaded for it, so the options can be
// checked (and `--help` printed) without loading zod.

/** A zod object schema, the only top-level shape a JSON-object reply can satisfy. */
export type ObjectSchema = z.ZodObject<z.ZodRawShape>;

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
