/**
 * THE one JSON-Schema walker: what a node is, where its children are, how a local `$ref`
 * resolves, whether null fits. Every transform of a schema (strict schema, grammar schema,
 * output columns, the dry run's minimal value) and everything that walks a schema next to a
 * value by field path (grounding, evaluation) reads schemas through this module, so they agree.
 */

/** JSON Schema as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** The JSON types whose values are not containers. */
export const SCALAR_TYPES: ReadonlySet<string> = new Set(["string", "number", "integer", "boolean", "null"]);

/**
 * True for a schema node that is an object (not `true`/`false`, not an array). The same test
 * tells a map of schemas (`properties`, `$defs`) from anything else.
 */
export function isSchemaObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The node's `type` as a list: `"string"` -> `["string"]`, absent -> `[]`. */
export function typesOf(node: JsonSchema): string[] {
  const { type } = node;
  if (typeof type === "string") return [type];
  return Array.isArray(type) ? type.filter((entry): entry is string => typeof entry === "string") : [];
}

/** A union's branches: `anyOf`, else `oneOf` (zod writes discriminated unions as `oneOf`). */
export function alternativesOf(node: JsonSchema): unknown[] | undefined {
  const branches = node.anyOf ?? node.oneOf;
  return Array.isArray(branches) ? branches : undefined;
}

/** The declared properties of an object node, `{}` when it declares none. */
export function propertiesOf(node: JsonSchema): JsonSchema {
  return isSchemaObject(node.properties) ? node.properties : {};
}

/**
 * The node a local reference points at: a JSON Pointer in a URI fragment (`#/$defs/Address`,
 * `#` for the root), with `~1` and `~0` unescaped and percent-escapes decoded. Undefined for
 * a remote reference or a pointer that leads nowhere (or to something that is not a schema
 * object).
 */
export function resolveLocalRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith("#")) return undefined;
  let target: unknown = root;
  for (const token of ref.slice(1).split("/").slice(1)) {
    if (!isSchemaObject(target)) return undefined;
    const key = decodePercent(token).replaceAll("~1", "/").replaceAll("~0", "~");
    // Own keys only: `#/$defs/constructor` must not find Object.prototype's.
    target = Object.hasOwn(target, key) ? target[key] : undefined;
  }
  return isSchemaObject(target) ? target : undefined;
}

function decodePercent(token: string): string {
  try {
    return decodeURIComponent(token);
  } catch {
    return token; // a stray "%" is a literal character, not an escape
  }
}

/**
 * `node` as a schema object, following local `$ref`s (a chain of them too) from `root`.
 * Undefined when `node` is not an object, or its reference is remote, dangling or circular.
 */
export function deref(node: unknown, root: JsonSchema): JsonSchema | undefined {
  const seen = new Set<string>();
  let schema = node;
  while (isSchemaObject(schema) && typeof schema.$ref === "string") {
    if (seen.has(schema.$ref)) return undefined;
    seen.add(schema.$ref);
    schema = resolveLocalRef(root, schema.$ref);
  }
  return isSchemaObject(schema) ? schema : undefined;
}

/**
 * True when `null` is a valid value for `node`: `type: "null"` or a type list with "null", an
 * enum containing null, `const: null`, or any `anyOf` / `oneOf` branch that allows null, at any
 * depth. With `root`, local `$ref`s are followed too.
 */
export function allowsNull(node: unknown, root?: JsonSchema): boolean {
  const schema = root ? deref(node, root) : isSchemaObject(node) ? node : undefined;
  if (!schema) return false;
  if (typesOf(schema).includes("null")) return true;
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) return true;
  if (schema.const === null) return true;
  return alternativesOf(schema)?.some((branch) => allowsNull(branch, root)) ?? false;
}

/**
 * `node` seen through a `$ref` and through nullability: the one branch that is not null of a
 * union such as `anyOf: [{...}, {type: "null"}]` (zod's `.nullable()`), else the node itself
 * (`type: ["object", "null"]` already is the object). Undefined when `node` is not a schema object.
 */
export function unwrapNullable(node: unknown, root: JsonSchema): JsonSchema | undefined {
  const schema = deref(node, root);
  const branches = schema && alternativesOf(schema)?.map((branch) => deref(branch, root)).filter((branch) => !isNullOnly(branch));
  return branches?.length === 1 ? branches[0] : schema;
}

function isNullOnly(schema: JsonSchema | undefined): boolean {
  return schema?.type === "null" || (schema !== undefined && "const" in schema && schema.const === null);
}

/**
 * The object schema `node` stands for (see {@link unwrapNullable}): the node whose `properties`
 * a value's keys are checked against. Undefined when `node` is not (possibly nullable) an object.
 */
export function objectBehind(node: unknown, root: JsonSchema): JsonSchema | undefined {
  const schema = unwrapNullable(node, root);
  return schema && (typesOf(schema).includes("object") || (schema.type === undefined && "properties" in schema)) ? schema : undefined;
}

/** Keywords whose value is one schema. */
const SINGLE_SCHEMA_KEYWORDS = ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties"];
/** Keywords whose value is a list of schemas. */
const LIST_SCHEMA_KEYWORDS = ["anyOf", "oneOf", "allOf", "prefixItems"];
/** Keywords whose value maps names to schemas. */
const MAP_SCHEMA_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

/**
 * Calls `visit` for each direct child schema of `node`, in the spirit of openai-node's
 * `forEachJSONSchemaChild`: only keywords that carry schemas (`properties`, `items`, `anyOf`,
 * `$defs`, `not`...), never literal payloads (`enum`, `const`, `default`, `examples`). `key`
 * is the property or definition name, or the index in a list keyword.
 */
export function forEachSchemaChild(node: JsonSchema, visit: (child: unknown, keyword: string, key?: string | number) => void): void {
  for (const keyword of SINGLE_SCHEMA_KEYWORDS) {
    if (node[keyword] !== undefined) visit(node[keyword], keyword);
  }
  for (const keyword of LIST_SCHEMA_KEYWORDS) {
    const children = node[keyword];
    if (Array.isArray(children)) children.forEach((child, index) => visit(child, keyword, index));
  }
  for (const keyword of MAP_SCHEMA_KEYWORDS) {
    const children = node[keyword];
    if (isSchemaObject(children)) for (const [key, child] of Object.entries(children)) visit(child, keyword, key);
  }
}

/**
 * A shallow copy of `node` with each direct child schema (see {@link forEachSchemaChild})
 * replaced by `map(child, keyword, key)`; keys keep their order. A transform recurses by
 * calling itself from `map`.
 */
export function mapSchemaChildren(node: JsonSchema, map: (child: unknown, keyword: string, key?: string | number) => unknown): JsonSchema {
  const out: JsonSchema = { ...node };
  forEachSchemaChild(node, (child, keyword, key) => {
    if (key === undefined) {
      out[keyword] = map(child, keyword);
      return;
    }
    // Copy a list or map on its first child, so `node` itself is never changed.
    if (out[keyword] === node[keyword]) out[keyword] = Array.isArray(node[keyword]) ? [...(node[keyword] as unknown[])] : { ...(node[keyword] as JsonSchema) };
    (out[keyword] as Record<string | number, unknown>)[key] = map(child, keyword, key);
  });
  return out;
}

/**
 * The field path of a child, as messages show it: `contact.email` under `properties`,
 * `items[]` for an array's elements, `pair[0]` under `prefixItems`, `$defs.Place` for a
 * definition; a union's branches and everything else keep the parent's path.
 */
export function childFieldPath(at: string, keyword: string, key?: string | number): string {
  if (keyword === "properties") return at ? `${at}.${String(key)}` : String(key);
  if (keyword === "items") return `${at}[]`;
  if (keyword === "prefixItems") return `${at}[${String(key)}]`;
  if (keyword === "$defs" || keyword === "definitions") return `${keyword}.${String(key)}`;
  return at;
}

/**
 * Visits the leaves of an object schema with their property paths, depth first in property
 * order: a property whose {@link objectBehind} passes `expand` is descended into, any other is
 * a leaf. An object already being expanded above (a recursive `$ref`) is a leaf, so the walk ends.
 *
 * @example
 * forEachLeaf(schema, (leaf, path) => columns.push(path.join(".")), (object) => "properties" in object);
 */
export function forEachLeaf(
  schema: JsonSchema,
  visit: (leaf: unknown, path: string[]) => void,
  expand: (object: JsonSchema) => boolean,
): void {
  const ancestors = new Set<JsonSchema>([schema]);
  const walk = (object: JsonSchema, prefix: readonly string[]): void => {
    for (const [key, property] of Object.entries(propertiesOf(object))) {
      const path = [...prefix, key];
      const nested = objectBehind(property, schema);
      if (nested && expand(nested) && !ancestors.has(nested)) {
        ancestors.add(nested);
        walk(nested, path);
        ancestors.delete(nested);
      } else {
        visit(property, path);
      }
    }
  };
  walk(schema, []);
}

/**
 * The schema a value at `path` inside a record must fit, for code that walks a value and its
 * schema together (grounding, evaluation): object keys go through `properties` (else a schema
 * `additionalProperties`), array indexes through `prefixItems` / `items`, all of them seen
 * through `$ref`s and nullability. Undefined when the schema says nothing about that path.
 *
 * @example
 * schemaAt(jsonSchema, ["order_items", 0, "sku"]); // { type: "string" }
 */
export function schemaAt(root: JsonSchema, path: readonly (string | number)[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = root;
  for (const key of path) {
    if (!node) return undefined;
    node = typeof key === "number" ? elementSchema(node, key, root) : propertySchema(node, key, root);
  }
  return node && deref(node, root);
}

function propertySchema(node: JsonSchema, key: string, root: JsonSchema): JsonSchema | undefined {
  const object = objectBehind(node, root);
  if (!object) return undefined;
  const properties = propertiesOf(object);
  const child = Object.hasOwn(properties, key) ? properties[key] : object.additionalProperties;
  return deref(child, root);
}

function elementSchema(node: JsonSchema, index: number, root: JsonSchema): JsonSchema | undefined {
  const array = unwrapNullable(node, root);
  if (!array || !typesOf(array).includes("array")) return undefined;
  const tuple = Array.isArray(array.prefixItems) ? array.prefixItems : [];
  return deref(index < tuple.length ? tuple[index] : array.items, root);
}

