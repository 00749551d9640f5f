/**
 * The fields an evaluation scores and how each is compared, taken from the schema when there is
 * one (through THE schema walker, so field names are the output's column names) and otherwise
 * inferred from the gold values.
 */
import { leafColumns } from "../schema/columns.js";
import { allowsNull, deref, forEachLeaf, objectBehind, propertiesOf, schemaAt, typesOf, unwrapNullable, type JsonSchema } from "../schema/walk.js";

/**
 * How a field's values are compared. `string`: after {@link normalizeText}; `enum`, `boolean`:
 * exactly; `number`: within a tolerance; `items`: an array of objects, paired item by item;
 * `list`: an array of scalars, paired value by value; `json`: anything else, equal as JSON.
 */
export type FieldKind = "string" | "enum" | "number" | "boolean" | "items" | "list" | "json";

/** One scored field. */
export interface EvalField {
  /** Dotted path, as the CSV column is named: `contact.email`; item fields: `sku` inside `order_items`. */
  name: string;
  path: string[];
  kind: FieldKind;
  /** True when null is a valid value: "has a value" then gets a precision and a recall. */
  nullable: boolean;
  /** For `items`: the fields of one item. */
  itemFields?: EvalField[];
  /** For `list`: how two items compare. */
  itemKind?: FieldKind;
}

/** The fields of an object JSON Schema, in the order of its output columns. */
export function fieldsFromSchema(root: JsonSchema): EvalField[] {
  return leafColumns(root).map(({ name, path }) => fieldFromSchema(name, path, schemaAt(root, path), root));
}

function fieldFromSchema(name: string, path: string[], node: JsonSchema | undefined, root: JsonSchema): EvalField {
  const nullable = node !== undefined && allowsNull(node, root);
  const base = node && unwrapNullable(node, root);
  if (!base) return { name, path, kind: "json", nullable };
  if (Array.isArray(base.enum) || "const" in base) return { name, path, kind: "enum", nullable };
  const types = typesOf(base).filter((type) => type !== "null");
  if (types.length === 1 && types[0] === "array") {
    const item = objectBehind(base.items, root);
    if (item && Object.keys(propertiesOf(item)).length > 0) {
      const itemFields: EvalField[] = [];
      forEachLeaf(
        item,
        (leaf, itemPath) => itemFields.push(fieldFromSchema(itemPath.join("."), itemPath, deref(leaf, root), root)),
        (object) => Object.keys(propertiesOf(object)).length > 0,
      );
      return { name, path, kind: "items", nullable, itemFields };
    }
    const itemKind = fieldFromSchema(name, path, deref(base.items, root), root).kind;
    return { name, path, kind: "list", nullable, itemKind };
  }
  return { name, path, kind: types.length === 1 ? scalarKind(types[0]!) : "json", nullable };
}

function scalarKind(type: string): FieldKind {
  if (type === "string") return "string";
  if (type === "number" || type === "integer") return "number";
  if (type === "boolean") return "boolean";
  return "json";
}

/**
 * The fields of the gold records when there is no schema: every leaf of their `data` (nested
 * objects flattened into dotted names, arrays kept whole), in order of first appearance, typed
 * by the first value that is not null. A field that is null in some gold record is nullable.
 */
export function fieldsFromGold(records: readonly unknown[]): EvalField[] {
  const fields = new Map<string, { path: string[]; values: unknown[] }>();
  const collect = (value: unknown, path: string[]): void => {
    if (isPlainObject(value) && (path.length === 0 || Object.keys(value).length > 0)) {
      for (const [key, child] of Object.entries(value)) collect(child, [...path, key]);
      return;
    }
    const name = path.join(".");
    if (!fields.has(name)) fields.set(name, { path, values: [] });
    fields.get(name)!.values.push(value);
  };
  for (const record of records) if (isPlainObject(record)) collect(record, []);
  return [...fields].map(([name, { path, values }]) => inferField(name, path, values));
}

function inferField(name: string, path: string[], values: readonly unknown[]): EvalField {
  const nullable = values.some((value) => value === null);
  const present = values.filter((value) => value !== null && value !== undefined);
  if (present.length > 0 && present.every(Array.isArray)) {
    const items = (present as unknown[][]).flat();
    if (items.some(isPlainObject)) return { name, path, kind: "items", nullable, itemFields: fieldsFromGold(items) };
    return { name, path, kind: "list", nullable, itemKind: inferField(name, path, items).kind };
  }
  const first = present[0];
  // A gold CSV has only text: "4.00" in every row of a column is a number, as 4 is in JSON.
  const numeric = present.length > 0 && present.every((value) => typeof value === "number" || (typeof value === "string" && NUMBER_TEXT.test(value)));
  const kind: FieldKind =
    numeric ? "number" : first === undefined || typeof first === "string" ? "string" : typeof first === "boolean" ? "boolean" : "json";
  return { name, path, kind, nullable };
}

const NUMBER_TEXT = /^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
