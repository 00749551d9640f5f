import type { z } from "zod";
import { toPromptJsonSchema, type JsonSchema, type ObjectSchema } from "../schema/json-schema.js";
import { objectBehind, schemaAt, typesOf, unwrapNullable } from "../schema/walk.js";

/**
 * One rule of local coercion: the value a loose one stands for where the schema node `wanted`
 * asks for some type, or undefined to leave it as it is (and let the model fix it on a re-ask).
 */
type CoercionRule = (value: unknown, wanted: JsonSchema, root: JsonSchema) => unknown;

/**
 * THE table of coercions, tried in this order at each path where zod rejected the reply's value.
 * Each applies only where the schema asks for its type, and only to a loose value with one
 * reading (BAML's schema-aligned parsing once read the string "false" as true: never truthiness).
 */
const COERCION_RULES: readonly CoercionRule[] = [
  // enum / const: " High " -> "high", "In-Progress" -> "in_progress"; never when two members match.
  toEnumMember,
  // number / integer: "1,234.50" -> 1234.5, "$12.50" -> 12.5, "123 USD" -> 123, "12%" -> 12;
  // never "1.234" or "1,234" (locale), "12-15" (two numbers), "12.5" where an integer is wanted.
  toNumber,
  // boolean: "true" / "yes" -> true, "false" / "no" -> false; never "1", "0", "" or "maybe".
  toBoolean,
  // array / object: '["a","b"]' -> ["a","b"], '{"a":1}' -> {a: 1}: a JSON text of that kind only.
  fromJsonText,
  // array of objects: {"sku": "A1"} -> [{"sku": "A1"}]; never a string or number into an array.
  toOneItemArray,
];

/** Nested fixes (a JSON text holding an object whose fields are loose) take a round each. */
const MAX_ROUNDS = 4;

/** A reply made to fit by coercion: the parsed data and the field paths that were changed. */
export interface Coerced<T> {
  data: T;
  /** Field paths as grounding prints them (`total`, `order_items[0].quantity`), in the order fixed. */
  coerced: string[];
}

/**
 * Fixes the values of `value` that zod rejected (`issues`) by {@link COERCION_RULES}, then
 * validates again, a few rounds deep. Undefined when a rejected value has no safe reading, or the
 * result still fails the schema: the reply then goes back to the model as it was. `value` is not changed.
 */
export function coerceToSchema<S extends ObjectSchema>(value: unknown, schema: S, issues: readonly z.core.$ZodIssue[]): Coerced<z.output<S>> | undefined {
  const root = jsonSchemaOf(schema);
  if (!root) return undefined;
  let current = structuredClone(value);
  const coerced: string[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let changed = false;
    for (const { path } of issues) {
      if (!path.every((key) => typeof key === "string" || typeof key === "number")) continue;
      const keys = path as (string | number)[];
      const fixed = coerceOne(valueAt(current, keys), schemaAt(root, keys), root);
      if (fixed === undefined) continue;
      current = withValueAt(current, keys, fixed);
      changed = true;
      const field = fieldPathOf(keys);
      if (!coerced.includes(field)) coerced.push(field);
    }
    if (!changed) return undefined;
    const parsed = schema.safeParse(current);
    if (parsed.success) return { data: parsed.data, coerced };
    issues = parsed.error.issues;
  }
  return undefined;
}

function coerceOne(value: unknown, node: JsonSchema | undefined, root: JsonSchema): unknown {
  const wanted = node && unwrapNullable(node, root);
  if (value === undefined || !wanted) return undefined;
  for (const rule of COERCION_RULES) {
    const fixed = rule(value, wanted, root);
    if (fixed !== undefined) return fixed;
  }
  return undefined;
}

/** The prompt JSON Schema of each zod schema, made once: coercion reads it through the walker. */
const jsonSchemas = new WeakMap<ObjectSchema, JsonSchema | null>();

function jsonSchemaOf(schema: ObjectSchema): JsonSchema | undefined {
  if (!jsonSchemas.has(schema)) {
    try {
      jsonSchemas.set(schema, toPromptJsonSchema(schema));
    } catch {
      jsonSchemas.set(schema, null); // not expressible as JSON Schema: nothing to coerce by
    }
  }
  return jsonSchemas.get(schema) ?? undefined;
}

/** Lower case, no punctuation, no spaces: "In-Progress " and "in_progress" read alike. */
function enumKey(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/[\p{P}\s]+/gu, "");
}

function toEnumMember(value: unknown, wanted: JsonSchema): string | undefined {
  const members = Array.isArray(wanted.enum) ? wanted.enum : "const" in wanted ? [wanted.const] : [];
  const key = typeof value === "string" ? enumKey(value) : "";
  if (!key) return undefined;
  const matches = members.filter((member): member is string => typeof member === "string" && enumKey(member) === key);
  return matches.length === 1 ? matches[0] : undefined;
}

/** ISO 4217 codes as the platform knows them (USD, EUR, JPY...), written in capitals. */
const CURRENCY_CODES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"));
/** One unit before the number: a currency symbol or code ("$12", "USD 12", "-€5"). */
const LEADING_UNIT = /^([+-]?)\s*(\p{Sc}|[A-Z]{3}(?![A-Z]))\s*/u;
/** Or one after it: a currency symbol or code, or a percent sign ("12 USD", "12€", "12%"). */
const TRAILING_UNIT = /\s*(\p{Sc}|(?<![A-Z])[A-Z]{3}|%)$/u;
/** Digits with `,` grouping in threes or none, and a `.` decimal part: the reading JSON and the model share. */
const PLAIN_NUMBER = /^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$/;
/**
 * One separator with three digits after it: "1,234" and "1.234" are each a thousand and a bit in
 * one locale and a bit over one in another. The model is asked again rather than guessed for.
 * "0.250" and "1234.567" are not in doubt (no group starts with 0 or has four digits).
 */
const LOCALE_DEPENDENT = /^[+-]?[1-9]\d{0,2}[.,]\d{3}$/;

/** The one number a text holds, with at most one unit around it; undefined when it has no single reading. */
export function looseNumber(text: string): number | undefined {
  let rest = text.trim();
  const leading = LEADING_UNIT.exec(rest);
  if (leading && isUnit(leading[2]!)) rest = leading[1] + rest.slice(leading[0].length);
  else {
    const trailing = TRAILING_UNIT.exec(rest);
    if (trailing && isUnit(trailing[1]!)) rest = rest.slice(0, trailing.index);
  }
  if (!PLAIN_NUMBER.test(rest) || LOCALE_DEPENDENT.test(rest)) return undefined;
  const number = Number(rest.replaceAll(",", ""));
  return Number.isFinite(number) ? number : undefined;
}

function isUnit(unit: string): boolean {
  return unit.length !== 3 || CURRENCY_CODES.has(unit);
}

function toNumber(value: unknown, wanted: JsonSchema): number | undefined {
  const types = typesOf(wanted);
  if (typeof value !== "string" || !(types.includes("number") || types.includes("integer"))) return undefined;
  const number = looseNumber(value);
  if (number === undefined) return undefined;
  return types.includes("number") || Number.isInteger(number) ? number : undefined;
}

const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["false", false],
  ["yes", true],
  ["no", false],
]);

function toBoolean(value: unknown, wanted: JsonSchema): boolean | undefined {
  if (typeof value !== "string" || !typesOf(wanted).includes("boolean")) return undefined;
  return BOOLEAN_WORDS.get(value.trim().toLowerCase());
}

function fromJsonText(value: unknown, wanted: JsonSchema, root: JsonSchema): unknown {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) return typesOf(wanted).includes("array") ? parsed : undefined;
  return objectBehind(wanted, root) ? parsed : undefined;
}

function toOneItemArray(value: unknown, wanted: JsonSchema, root: JsonSchema): unknown[] | undefined {
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject || !typesOf(wanted).includes("array") || !objectBehind(wanted.items, root)) return undefined;
  return [value];
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/** `value` with the value at `path` replaced (in place: `value` is the clone coercion owns). */
function withValueAt(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const parent = valueAt(value, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = replacement;
  return value;
}

/** `["order_items", 0, "quantity"]` -> `order_items[0].quantity`, the form of `spans` and `ungrounded`. */
function fieldPathOf(path: readonly (string | number)[]): string {
  return path.reduce<string>((at, key) => (typeof key === "number" ? `${at}[${key}]` : at ? `${at}.${key}` : key), "");
}
