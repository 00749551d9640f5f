import { cellText } from "../io/output/flatten.js";
import { alternativesOf, deref, schemaAt, typesOf, unwrapNullable, type JsonSchema } from "../schema/walk.js";
import { locateNumber, locateText, type Found, type WantedText } from "./locate-value.js";
import { normalizeText } from "./normalize-text.js";
import { RowText } from "./row-text.js";
import { ValueCursors } from "./value-cursors.js";

/** Where one extracted value was found in the row the model saw. */
export interface Span {
  /** The field: the CSV column name for a field outside arrays (`contact.email`), with indexes inside them (`order_items[0].name`). */
  path: string;
  /** The input column (record key) it was found in; `text` for a row given as a string. */
  column: string;
  /** Offsets in that cell, in Unicode code points (as Python's `str` indexes), `end` excluded. */
  start: number;
  end: number;
  /**
   * `exact`: the characters as written (a number: as JSON writes it); `normalized`: the same after
   * NFC, case folding, collapsing whitespace and dropping punctuation at the value's edges (a
   * number: written with grouping, a currency symbol or trailing zeros); `fuzzy`: most of the
   * value's words, close together.
   */
  match: "exact" | "normalized" | "fuzzy";
}

/** What grounding says about one record. */
export interface Grounding {
  /** One span per value found, in field order. */
  spans: Span[];
  /** The paths of the values that should be in the source but are not: invented, or from elsewhere. */
  ungrounded: string[];
}

/** How a leaf is looked for: `text` and `number` must be found; a `date` is looked for but may be reformatted; `skip`: not at all. */
type LeafKind = "text" | "number" | "date" | "skip";

/** A value that already looks like an ISO date (or date-time), which the model may have reformatted. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const DATE_FORMATS = new Set(["date", "date-time", "time"]);

/**
 * Finds each extracted value in the row's input cells: exact first, then normalized, then
 * fuzzy (see {@link Span}). Strings and numbers are looked for; a value the same field already
 * had (an array's repeated item) is looked for after the previous one's span, and again from the
 * start when there is no later one. Enums, consts and booleans are chosen, not copied, so they
 * are skipped; a date (a `format: "date"`/`"date-time"`/`"time"` field, or a value written as an
 * ISO date) gets a span when it is written as such, and is never called ungrounded, since the
 * model is asked to reformat dates. Null and empty values are skipped. Pure: the same record and
 * data always give the same answer, so it is recomputed for rows a journal gives back.
 *
 * @param record The row as the model saw it (the selected columns).
 * @param data The validated record.
 * @param jsonSchema The schema as the model saw it, to tell each leaf's kind.
 * @example
 * groundRecord({ body: "Hi, Ana here" }, { name: "Ana" }, jsonSchema);
 * // { spans: [{ path: "name", column: "body", start: 4, end: 7, match: "exact" }], ungrounded: [] }
 */
export function groundRecord(record: Record<string, unknown>, data: unknown, jsonSchema: JsonSchema): Grounding {
  const walk: Walk = { root: jsonSchema, row: new RowText(), cursors: new ValueCursors(), path: [], grounding: { spans: [], ungrounded: [] } };
  for (const column of Object.keys(record)) walk.row.add(column, cellText(record[column]));
  visit(walk, data, "", declaredKindsOf(jsonSchema));
  return walk.grounding;
}

/** What the walk over one record shares: the row's cells, built once and read by every value. */
interface Walk {
  root: JsonSchema;
  row: RowText;
  cursors: ValueCursors;
  /** The path to the value being visited, one stack for the whole walk: only a leaf's schema lookup reads it. */
  path: (string | number)[];
  grounding: Grounding;
}

/** Grounds `value` and what is inside it; `fieldPath` is its path as spans print it, built a step at a time, `kinds` the cache of its field. */
function visit(walk: Walk, value: unknown, fieldPath: string, kinds: KindCache): void {
  const { path } = walk;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      path.push(index);
      visit(walk, value[index], `${fieldPath}[${index}]`, childCache(kinds, ITEMS));
      path.pop();
    }
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      path.push(key);
      visit(walk, value[key], fieldPath === "" ? key : `${fieldPath}.${key}`, childCache(kinds, key));
      path.pop();
    }
  } else if ((typeof value === "string" && value.trim() !== "") || (typeof value === "number" && Number.isFinite(value))) {
    groundLeaf(walk, value, fieldPath, kinds);
  }
}

/** Looks for one leaf, and records its span, or its path as ungrounded. */
function groundLeaf(walk: Walk, value: string | number, fieldPath: string, kinds: KindCache): void {
  const kind = leafKind(walk.root, kinds, walk.path, value);
  if (kind === "skip") return;
  const { row, cursors } = walk;
  const wanted = typeof value === "number" ? value : { written: value, normalized: normalizeText(value) };
  const slot = cursors.slotOf(typeof wanted === "number" ? wanted : wanted.normalized || wanted.written);
  const cursor = cursors.get(slot);
  const fuzzy = kind !== "date";
  // A value already found nowhere is nowhere again: a repeat costs no second search.
  const found = cursor === null ? undefined : ((cursor && locate(row, wanted, fuzzy, cursor.source, cursor.offset)) ?? locate(row, wanted, fuzzy, 0, 0));
  if (found) {
    const source = row.cells[found.source]!;
    cursors.set(slot, { source: found.source, offset: found.end });
    walk.grounding.spans.push({
      path: fieldPath,
      column: source.column,
      start: row.codePointOffset(found.source, found.start),
      end: row.codePointOffset(found.source, found.end),
      match: found.match,
    });
  } else {
    cursors.set(slot, null);
    if (kind !== "date") walk.grounding.ungrounded.push(fieldPath);
  }
}

/** {@link locateText} or {@link locateNumber}, as `wanted` is text or a number. */
function locate(row: RowText, wanted: WantedText | number, fuzzy: boolean, source: number, offset: number): Found | undefined {
  return typeof wanted === "number" ? locateNumber(row, wanted, source, offset) : locateText(row, wanted, fuzzy, source, offset);
}

/** What the schema says the leaf at `path` is (see {@link groundRecord} for the rules). */
function leafKind(root: JsonSchema, kinds: KindCache, path: readonly (string | number)[], value: string | number): LeafKind {
  const declared = declaredKind(root, kinds, path);
  if (declared === "skip") return "skip";
  if (typeof value === "number") return "number";
  return declared === "date" || ISO_DATE.test(value) ? "date" : "text";
}

/**
 * What the schema says of the values of one field (`skip`, `date`, else `text`), and the same for
 * the fields below it: a tree by property name, every array item under one child ({@link ITEMS}).
 * A tree, not a map by dotted path, so that a lookup never has to build or hash the path.
 */
interface KindCache {
  kind: LeafKind | undefined;
  children: Map<string | typeof ITEMS, KindCache> | undefined;
}

/** An empty {@link KindCache}, both fields present from the start: every node has one shape, so reading them stays a plain field load. */
function newKindCache(): KindCache {
  return { kind: undefined, children: undefined };
}

/** The child of {@link KindCache} that stands for any array index. */
const ITEMS = Symbol("items");

/** Per schema, its {@link KindCache}: rows repeat the same fields, so each is walked once. */
const declaredKinds = new WeakMap<JsonSchema, KindCache>();

function declaredKindsOf(root: JsonSchema): KindCache {
  let kinds = declaredKinds.get(root);
  if (!kinds) declaredKinds.set(root, (kinds = newKindCache()));
  return kinds;
}

function childCache(parent: KindCache, step: string | typeof ITEMS): KindCache {
  parent.children ??= new Map();
  let child = parent.children.get(step);
  if (!child) parent.children.set(step, (child = newKindCache()));
  return child;
}

/** The schema's word on the leaf at `path`, whose cache is `kinds`. */
function declaredKind(root: JsonSchema, kinds: KindCache, path: readonly (string | number)[]): LeafKind {
  if (kinds.kind === undefined) {
    const leaf = unwrapNullable(schemaAt(root, path), root);
    kinds.kind = leaf && isChosen(leaf, root) ? "skip" : typeof leaf?.format === "string" && DATE_FORMATS.has(leaf.format) ? "date" : "text";
  }
  return kinds.kind;
}

/** True for a leaf whose values come from a fixed list: an enum, a const, a boolean, or a union of those. */
function isChosen(node: JsonSchema, root: JsonSchema): boolean {
  if (Array.isArray(node.enum) || "const" in node) return true;
  const types = typesOf(node);
  if (types.length > 0) return types.every((type) => type === "boolean" || type === "null");
  const branches = alternativesOf(node)?.map((branch) => deref(branch, root));
  return branches !== undefined && branches.length > 0 && branches.every((branch) => branch !== undefined && (branch.type === "null" || isChosen(branch, root)));
}

/** `["order_items", 0, "name"]` -> `order_items[0].name`: dotted like the CSV columns, indexes in brackets. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out === "" ? key : `.${key}`;
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
