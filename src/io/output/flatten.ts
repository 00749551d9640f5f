import type { LeafColumn } from "../../schema/columns.js";

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

/** The value at `path` inside `data`; undefined when a key on the way is missing or a parent is not an object. */
export function valueAt(data: unknown, path: readonly string[]): unknown {
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
