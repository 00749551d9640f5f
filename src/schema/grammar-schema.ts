import { alternativesOf, isSchemaObject, propertiesOf, SCALAR_TYPES, typesOf, type JsonSchema } from "./walk.js";

/**
 * The JSON Schema that node-llama-cpp turns into a decoding grammar, from the schema zod writes.
 *
 * node-llama-cpp's grammar understands a subset of JSON Schema (`type`, `properties`,
 * `additionalProperties`, `items`, `prefixItems`, `enum`, `const`, `oneOf`, `$ref` into `$defs`,
 * `minLength`/`maxLength`, `minItems`/`maxItems`, `min`/`maxProperties`, and the formats `date`,
 * `time`, `date-time`), and it reads what it does not know as `null`: zod's `anyOf` (every
 * `.nullable()` field) would become "always null". So the schema is rewritten into that subset,
 * never narrower than the original: `anyOf` becomes `oneOf`, constraints the grammar cannot
 * express (`pattern`, `minimum`, other formats...) are dropped, and whatever has no equivalent
 * (`allOf`, `not`, `{}`) becomes "any JSON value". Every object key is generated (the grammar
 * has no optional keys), which zod accepts for optional fields too. What was dropped is still
 * checked: zod validates every reply, and a mismatch is re-asked as with any engine.
 */
export function toGrammarSchema(schema: JsonSchema): JsonSchema {
  const converted = convert(schema);
  const defs = schema.$defs;
  if (isSchemaObject(defs)) {
    converted.$defs = Object.fromEntries(Object.entries(defs).map(([name, def]) => [name, convert(def)]));
  }
  return converted;
}

const GRAMMAR_FORMATS = new Set(["date", "time", "date-time"]);

/** Any JSON value, spelled in the subset (the grammar has no "anything" keyword of its own). */
const ANY_JSON: JsonSchema = {
  oneOf: [{ type: ["string", "number", "boolean", "null"] }, { type: "object", additionalProperties: true }, { type: "array" }],
};

function convert(node: unknown): JsonSchema {
  if (!isSchemaObject(node)) return node === false ? { type: "null" } : structuredClone(ANY_JSON);
  if (typeof node.$ref === "string") {
    return node.$ref.startsWith("#/$defs/") ? { $ref: node.$ref } : structuredClone(ANY_JSON);
  }
  const alternatives = alternativesOf(node);
  if (alternatives) return { oneOf: alternatives.map(convert) };
  if (node.const !== undefined) return { const: node.const };
  if (Array.isArray(node.enum)) return { enum: node.enum.filter((value) => value === null || typeof value !== "object") };
  if (Array.isArray(node.allOf)) return mergeObjects(node.allOf) ?? structuredClone(ANY_JSON);
  if (Array.isArray(node.type)) return { oneOf: typesOf(node).map((type) => convert({ ...node, type })) };

  switch (node.type) {
    case "string": {
      if (typeof node.format === "string" && GRAMMAR_FORMATS.has(node.format)) return { type: "string", format: node.format };
      return pick(node, { type: "string" }, ["minLength", "maxLength"]);
    }
    case "object": {
      const properties = propertiesOf(node);
      const extra = node.additionalProperties;
      const out: JsonSchema = {
        type: "object",
        properties: Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, convert(value)])),
        // An object with fields gets exactly those (zod strips or rejects others anyway); a
        // free-form one (a record, or `{type: "object"}`) may have any keys.
        additionalProperties: isSchemaObject(extra) ? convert(extra) : extra === true || (extra === undefined && Object.keys(properties).length === 0),
      };
      return pick(node, out, ["minProperties", "maxProperties"]);
    }
    case "array": {
      const out: JsonSchema = { type: "array" };
      if (node.items !== undefined) out.items = convert(node.items);
      if (Array.isArray(node.prefixItems)) out.prefixItems = node.prefixItems.map(convert);
      return pick(node, out, ["minItems", "maxItems"]);
    }
    default:
      return typeof node.type === "string" && SCALAR_TYPES.has(node.type) ? { type: node.type } : structuredClone(ANY_JSON);
  }
}

/** `allOf` of plain objects (a zod intersection of objects) as one object with every field. */
function mergeObjects(parts: unknown[]): JsonSchema | undefined {
  const properties: Record<string, unknown> = {};
  for (const part of parts) {
    if (!isSchemaObject(part) || part.type !== "object" || !isSchemaObject(part.properties)) return undefined;
    Object.assign(properties, part.properties);
  }
  return convert({ type: "object", properties });
}

function pick(node: Record<string, unknown>, out: JsonSchema, keys: readonly string[]): JsonSchema {
  for (const key of keys) if (typeof node[key] === "number") out[key] = node[key];
  return out;
}
