import type { JsonSchema } from "../../schema/json-schema.js";

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

const SCALAR_TYPES: ReadonlySet<unknown> = new Set(["string", "number", "integer", "boolean", "null"]);

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
  const properties = schema.properties;
  if (!isPlainObject(properties) || Object.keys(properties).length === 0) {
    return [{ name: WHOLE_RECORD_COLUMN, path: [], json: true }];
  }
  const columns: LeafColumn[] = [];
  collectLeaves(schema, [], schema, new Set([schema]), columns);
  return columns;
}

function collectLeaves(
  object: JsonSchema,
  prefix: readonly string[],
  root: JsonSchema,
  ancestors: Set<JsonSchema>,
  columns: LeafColumn[],
): void {
  for (const [key, property] of Object.entries(object.properties as Record<string, unknown>)) {
    const path = [...prefix, key];
    const nested = flattenableObject(property, root);
    // An object already being expanded above us is a recursive $ref: flattening it never ends.
    if (nested && !ancestors.has(nested)) {
      ancestors.add(nested);
      collectLeaves(nested, path, root, ancestors, columns);
      ancestors.delete(nested);
    } else {
      columns.push({ name: path.join("."), path, json: !isScalar(property, root, 0) });
    }
  }
}

/**
 * The object schema to flatten `node` into, or undefined when `node` is not (possibly nullable)
 * an object with a fixed set of properties. Extra keys (`additionalProperties`,
 * `patternProperties`) would have no column, so such objects stay whole as JSON.
 */
function flattenableObject(node: unknown, root: JsonSchema): JsonSchema | undefined {
  const schema = resolveRef(node, root);
  if (!schema) return undefined;
  if (isFixedObject(schema)) return schema;
  const branches = schema.anyOf ?? schema.oneOf;
  if (!Array.isArray(branches)) return undefined;
  const nonNull = branches.map((branch) => resolveRef(branch, root)).filter((branch) => !isNullSchema(branch));
  const only = nonNull.length === 1 ? nonNull[0] : undefined;
  return only && isFixedObject(only) ? only : undefined;
}

function isFixedObject(schema: JsonSchema): boolean {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const properties = schema.properties;
  return (
    types.includes("object") &&
    types.every((type) => type === "object" || type === "null") &&
    isPlainObject(properties) &&
    Object.keys(properties).length > 0 &&
    (schema.additionalProperties === undefined || schema.additionalProperties === false) &&
    schema.patternProperties === undefined &&
    schema.anyOf === undefined &&
    schema.oneOf === undefined &&
    schema.allOf === undefined
  );
}

/** True when every value `node` admits is a string, number, boolean or null. */
function isScalar(node: unknown, root: JsonSchema, depth: number): boolean {
  const schema = resolveRef(node, root);
  // A self-referencing union is not worth chasing: JSON text is always correct.
  if (!schema || depth > 8) return false;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    return types.every((type) => SCALAR_TYPES.has(type));
  }
  if (Array.isArray(schema.enum)) return schema.enum.every(isPrimitive);
  if ("const" in schema) return isPrimitive(schema.const);
  const branches = schema.anyOf ?? schema.oneOf;
  return Array.isArray(branches) && branches.length > 0 && branches.every((branch) => isScalar(branch, root, depth + 1));
}

function isNullSchema(schema: JsonSchema | undefined): boolean {
  return schema?.type === "null" || (schema !== undefined && "const" in schema && schema.const === null);
}

/** `node` as a schema object, following a local `$ref` (`#/$defs/name`); undefined if unresolvable. */
function resolveRef(node: unknown, root: JsonSchema): JsonSchema | undefined {
  if (!isPlainObject(node)) return undefined;
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  if (!ref.startsWith("#")) return undefined;
  let target: unknown = root;
  for (const token of ref.slice(1).split("/").slice(1)) {
    if (!isPlainObject(target)) return undefined;
    target = target[token.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return isPlainObject(target) ? target : undefined;
}

function isPlainObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/**
 * The cell strings of `data` for `leaves`, in order: strings as-is, numbers/booleans via
 * `String()`, null/undefined (also a missing parent object) as "", JSON columns as
 * `JSON.stringify` (compact). An object that turns up in a scalar column (a `.transform()` can
 * produce one) is written as JSON too, a `Date` as its ISO text, rather than `[object Object]`.
 *
 * @example
 * flattenRecord({ contact: null, tags: ["a"] }, leaves); // ["", "[\"a\"]"]
 */
export function flattenRecord(data: unknown, leaves: readonly LeafColumn[]): string[] {
  const cells = new Array<string>(leaves.length);
  flattenRecordInto(data, leaves, cells, 0);
  return cells;
}

/**
 * {@link flattenRecord} writing into `cells` from `offset`, so the CSV writer builds a whole
 * output row in one array instead of concatenating per-row arrays.
 */
export function flattenRecordInto(data: unknown, leaves: readonly LeafColumn[], cells: string[], offset: number): void {
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    const value = valueAt(data, leaf.path);
    cells[offset + i] = leaf.json ? jsonCell(value) : cellText(value);
  }
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (let i = 0; i < path.length; i++) {
    if (typeof value !== "object" || value === null) return undefined;
    const key = path[i]!;
    // Own properties only: a missing optional `constructor` must not read Object.prototype's.
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

function jsonCell(value: unknown): string {
  return value === null || value === undefined ? "" : JSON.stringify(value);
}

/**
 * The text of one scalar cell (see {@link flattenRecord} for the rules). Also used for input
 * cells, which are strings unless a library caller passed other values.
 */
export function cellText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value !== "object") return String(value);
  if (value instanceof Date) return value.toJSON() ?? "";
  return JSON.stringify(value);
}
