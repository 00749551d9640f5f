import { distance as levenshtein } from "fastest-levenshtein";
import type { FieldKind } from "./eval-fields.js";
import { normalizeText } from "./normalize-text.js";

/** How close two scalar values must be to count as the same. */
export interface Closeness {
  /** Largest absolute difference between two numbers that still agree. @default 0 */
  tolerance?: number;
  /**
   * Two strings that differ after normalization still agree when their similarity (1 minus the
   * edit distance over the longer length) is at least this, from 0 to 1. @default exact only
   */
  fuzzy?: number;
}

/**
 * True when an extracted scalar value agrees with the gold one for a field of `kind`: null
 * agrees with null only (and `undefined`, a missing key, counts as null). Values read from a CSV
 * cell are text, so `"12.5"` agrees with `12.5` for a number field, `"true"` with `true` for a
 * boolean, and the JSON text of an array or object with the value itself.
 *
 * @example valuesAgree("string", "ACME Corp.", " acme  corp", {}) // true
 * @example valuesAgree("number", 99.99, "99.985", { tolerance: 0.01 }) // true
 */
export function valuesAgree(kind: FieldKind, gold: unknown, actual: unknown, closeness: Closeness): boolean {
  if (isMissing(gold) || isMissing(actual)) return isMissing(gold) && isMissing(actual);
  switch (kind) {
    case "string": {
      const [a, b] = [normalizeText(String(gold)), normalizeText(String(actual))];
      if (a === b) return true;
      return closeness.fuzzy !== undefined && similarity(a, b) >= closeness.fuzzy;
    }
    case "number": {
      const [a, b] = [asNumber(gold), asNumber(actual)];
      if (a === undefined || b === undefined) return false;
      // A little slack for binary fractions, so that 0.1 + 0.2 agrees with 0.3 at tolerance 0.
      return Math.abs(a - b) <= (closeness.tolerance ?? 0) + 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    }
    case "enum":
    case "boolean":
      return String(gold) === String(actual);
    default:
      return canonicalJson(parseJsonText(gold)) === canonicalJson(parseJsonText(actual));
  }
}

/** Null, undefined, or the empty cell a CSV writes for null. */
export function isMissing(value: unknown): boolean {
  return value === null || value === undefined || value === "";
}

/** 1 for equal strings, 0 for nothing in common: 1 - edit distance / the longer length. */
export function similarity(a: string, b: string): number {
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - levenshtein(a, b) / longer;
}

function asNumber(value: unknown): number | undefined {
  const number = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
  return Number.isFinite(number) ? number : undefined;
}

/** A CSV cell holding an array or object as JSON text, parsed; anything else as it is. */
export function parseJsonText(value: unknown): unknown {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** JSON with object keys sorted, so key order does not make two values differ. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === "object" && inner !== null && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
