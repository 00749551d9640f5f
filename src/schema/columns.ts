import { alternativesOf, deref, forEachLeaf, propertiesOf, SCALAR_TYPES, typesOf, type JsonSchema } from "./walk.js";

/** One output column for a schema leaf. */
export interface LeafColumn {
  /** Column name: dotted path for nested objects, e.g. "contact.email". */
  name: string;
  /** Property path into the data object, e.g. ["contact", "email"]. */
  path: string[];
  /** True when the value is written as JSON text (arrays, free-form objects, unions of objects...). */
  json: boolean;
}

/** The column that holds the whole record when the root schema has no properties to flatten. */
const WHOLE_RECORD_COLUMN = "data";

/**
 * The leaf columns of an object JSON Schema, in property order.
 *
 * Nested objects with declared `properties` are flattened into dotted names — also when
 * nullable (`type: ["object","null"]` or `anyOf: [{type:"object",...},{type:"null"}]`), in which
 * case a null parent gives empty cells. Arrays, objects without `properties` (free-form /
 * `additionalProperties` / records) and anything ambiguous (unions of objects, `{}`, `allOf`...)
 * become one JSON-text column. Local `$ref`s (`#/$defs/...`) are followed; a recursive one
 * becomes a JSON column. The root's declared properties are always flattened (extra keys that a
 * loose root admits get no column); a root without properties gives one JSON column, `data`.
 *
 * @example
 * leafColumns(toPromptJsonSchema(ticket)).map((leaf) => leaf.name);
 * // ["contact.name", "contact.email", "contact.company", "product", ..., "order_items", ...]
 */
export function leafColumns(schema: JsonSchema): LeafColumn[] {
  if (Object.keys(propertiesOf(schema)).length === 0) {
    return [{ name: WHOLE_RECORD_COLUMN, path: [], json: true }];
  }
  const columns: LeafColumn[] = [];
  forEachLeaf(
    schema,
    (leaf, path) => columns.push({ name: path.join("."), path, json: !isScalar(leaf, schema, 0) }),
    isFixedObject,
  );
  return columns;
}

/**
 * True for an object with a fixed set of properties (possibly nullable). Extra keys
 * (`additionalProperties`, `patternProperties`) would have no column, so such objects stay
 * whole as JSON.
 */
function isFixedObject(schema: JsonSchema): boolean {
  const types = typesOf(schema);
  return (
    types.includes("object") &&
    types.every((type) => type === "object" || type === "null") &&
    Object.keys(propertiesOf(schema)).length > 0 &&
    (schema.additionalProperties === undefined || schema.additionalProperties === false) &&
    schema.patternProperties === undefined &&
    schema.anyOf === undefined &&
    schema.oneOf === undefined &&
    schema.allOf === undefined
  );
}

/** True when every value `node` admits is a string, number, boolean or null. */
function isScalar(node: unknown, root: JsonSchema, depth: number): boolean {
  const schema = deref(node, root);
  // A self-referencing union is not worth chasing: JSON text is always correct.
  if (!schema || depth > 8) return false;
  if (schema.type !== undefined) return typesOf(schema).every((type) => SCALAR_TYPES.has(type));
  if (Array.isArray(schema.enum)) return schema.enum.every(isPrimitive);
  if ("const" in schema) return isPrimitive(schema.const);
  const branches = alternativesOf(schema);
  return branches !== undefined && branches.length > 0 && branches.every((branch) => isScalar(branch, root, depth + 1));
}

function isPrimitive(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}
