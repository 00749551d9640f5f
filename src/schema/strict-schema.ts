import path from "node:path";
import { ExtractError } from "../errors/extract-error.js";
import { allowsNull, childFieldPath, isSchemaObject, mapSchemaChildren, propertiesOf, type JsonSchema } from "./walk.js";

/**
 * String formats OpenAI's strict Structured Outputs accepts. Other formats (`uri`, `cuid`...) are
 * dropped from the strict schema; zod still checks them when the reply arrives.
 */
const STRICT_FORMATS = new Set(["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"]);

/**
 * Keywords strict mode understands, kept as they are. Any other keyword is either rejected
 * below (it changes what a valid reply is) or dropped: value constraints strict mode does not
 * support (`minLength`, `maxLength`, `uniqueItems`, `minProperties`...) and annotations
 * (`default`, `examples`...). Dropping them loses nothing: the model still reads them in the
 * system prompt's schema, and zod enforces them on every reply, with a re-ask when one fails.
 */
const KEPT = new Set([
  "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "$ref", "$defs",
  "description", "title", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
  "multipleOf", "minItems", "maxItems",
]);

/** Keywords strict mode refuses and that cannot be dropped without changing the schema's meaning. */
const REJECTED: Record<string, string> = {
  allOf: "an intersection (allOf)",
  not: "a negation (not)",
  if: "a conditional (if/then/else)",
  then: "a conditional (if/then/else)",
  else: "a conditional (if/then/else)",
  dependentRequired: "dependent fields",
  dependentSchemas: "dependent fields",
  patternProperties: "keys matched by pattern (patternProperties)",
  prefixItems: "a tuple (z.tuple())",
  unevaluatedProperties: "unevaluatedProperties",
  unevaluatedItems: "unevaluatedItems",
  contains: "contains",
};

// Options in backticks (the CLI prints its flags there), field paths in double quotes: a field
// may be called `model` too, and must not be mistaken for the option.
const STRICT_MODE = "strict Structured Outputs (`mode` json_schema)";

/**
 * The schema as OpenAI's strict Structured Outputs (`strict: true`) requires it, from the prompt
 * JSON Schema (`toPromptJsonSchema`): every object closed with `additionalProperties: false` and
 * listing every property in `required`; only supported keywords; `oneOf` (zod's discriminated
 * unions) as `anyOf`, which zod's own check after the reply makes exact again.
 *
 * Strict mode has no optional fields: the model writes every field in every reply. A field that
 * is optional but also nullable is simply made required (null still says "absent"); one that is
 * optional and not nullable is refused, because the model would have to invent a value.
 *
 * @throws ExtractError `SCHEMA_INVALID` naming the field ("contact.email") and what to change:
 * an optional field that is not nullable, a record or free-form object, a field that accepts any
 * value, a tuple, an intersection.
 */
export function toStrictJsonSchema(jsonSchema: JsonSchema): JsonSchema {
  if (jsonSchema.type !== "object") {
    throw new ExtractError("SCHEMA_INVALID", `The schema's root must be an object for ${STRICT_MODE}.`);
  }
  return strictNode(jsonSchema, "", jsonSchema) as JsonSchema;
}

/** Keywords that say what a value is; a schema with none of them accepts anything. */
const TYPING = ["type", "enum", "const", "anyOf", "oneOf", "$ref", "properties"];

function strictNode(node: unknown, at: string, root: JsonSchema): unknown {
  const schema = isSchemaObject(node) ? node : {};
  for (const key of Object.keys(schema)) {
    const rejected = REJECTED[key];
    if (rejected) throw refuse(at, `uses ${rejected}`, "rewrite it with plain objects, arrays, enums and unions");
  }
  if (!TYPING.some((key) => key in schema)) {
    throw refuse(
      at,
      "accepts any value (z.any(), z.unknown() or z.json())",
      "give it a concrete type (string, number, enum, object...)",
    );
  }
  // `oneOf` (zod's discriminated unions) is sent as `anyOf`, in its place.
  const kept = Object.fromEntries(
    Object.entries(schema).flatMap(([key, value]) => (key === "oneOf" ? [["anyOf", value]] : KEPT.has(key) ? [[key, value]] : [])),
  );
  // An object's properties and extra keys are closeObject's to rewrite.
  const out = mapSchemaChildren(kept, (child, keyword, key) =>
    keyword === "properties" || keyword === "additionalProperties" ? child : strictNode(child, childFieldPath(at, keyword, key), root),
  );
  // zod writes a format's own regex next to it as `pattern`: the format says it, shorter.
  if ("format" in out) {
    delete out.pattern;
    if (!STRICT_FORMATS.has(out.format as string)) delete out.format;
  }
  if (isObjectSchema(schema)) closeObject(schema, out, at, root);
  return out;
}

function isObjectSchema(schema: JsonSchema): boolean {
  const { type } = schema;
  return type === "object" || (Array.isArray(type) && type.includes("object")) || "properties" in schema;
}

/**
 * Closes an object: no other keys, every property required (refusing the optional ones that cannot
 * be null). An object that declares its keys and merely tolerates others of any value
 * (`z.looseObject()`, a JSON Schema file without `additionalProperties: false`) is closed: the
 * model was never asked for other keys. A record (typed or free-form extra keys, `propertyNames`,
 * or no declared keys at all) is refused: there the keys are the data, and strict mode cannot
 * let the model choose them.
 */
function closeObject(schema: JsonSchema, out: JsonSchema, at: string, root: JsonSchema): void {
  const extra = schema.additionalProperties;
  const properties = propertiesOf(schema);
  const toleratesAnything = extra === true || (isSchemaObject(extra) && Object.keys(extra).length === 0);
  const closable = extra === undefined || extra === false || (toleratesAnything && Object.keys(properties).length > 0);
  if (!closable || "propertyNames" in schema) {
    throw refuse(
      at,
      "is a record or a free-form object (its keys are not declared)",
      "declare its keys with z.object({...}), or make it an array of {key, value} objects",
    );
  }
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const strictProperties: JsonSchema = {};
  for (const [key, value] of Object.entries(properties)) {
    const field = childFieldPath(at, "properties", key);
    if (!required.has(key) && !allowsNull(value, root)) {
      throw refuse(
        field,
        "may be left out (.optional() or .default())",
        "use .nullable() instead, so that the model answers null when the fact is absent",
      );
    }
    strictProperties[key] = strictNode(value, field, root);
  }
  out.type = schema.type ?? "object";
  out.properties = strictProperties;
  out.required = Object.keys(properties);
  out.additionalProperties = false;
}

function refuse(at: string, problem: string, fix: string): ExtractError {
  const where = at ? `Field "${at}"` : "The schema";
  return new ExtractError(
    "SCHEMA_INVALID",
    `${where} ${problem}, which ${STRICT_MODE} cannot express: ${fix}. Or run with \`mode\` json_object (or tools), which need no strict schema.`,
    { path: at || undefined },
  );
}

/**
 * The name of the schema in `response_format.json_schema.name` and of the function in `tools`:
 * the schema file's name, else "extraction", reduced to what the API accepts (^[a-zA-Z0-9_-]{1,64}$).
 * @example schemaName("/app/schemas/ticket.ts") // "ticket"
 */
export function schemaName(file?: string): string {
  const base = file ? path.basename(file, path.extname(file)) : "";
  const name = base.replace(/[^a-zA-Z0-9_-]+/g, "_").slice(0, 64);
  return /[a-zA-Z0-9]/.test(name) ? name : "extraction";
}
