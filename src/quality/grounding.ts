import { cellText } from "../io/output/flatten.js";
import { alternativesOf, deref, schemaAt, typesOf, unwrapNullable, type JsonSchema } from "../schema/walk.js";
import { findFuzzy, mayHoldFuzzy } from "./fuzzy-match.js";
import { normalizeText } from "./normalize-text.js";
import { findWhole, SourceText, tokenize } from "./source-text.js";

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
  const sources: SourceText[] = [];
  for (const column in record) if (Object.hasOwn(record, column)) sources.push(new SourceText(column, cellText(record[column])));
  const grounding: Grounding = { spans: [], ungrounded: [] };
  /** Per value: the column and written offset after its last span, so a repeat maps to the next occurrence; null when absent. */
  const cursors = new Map<string, { source: number; offset: number } | null>();
  const kinds = declaredKindsOf(jsonSchema);
  /** The path to the value being visited, one stack for the whole walk: only a leaf's schema lookup reads it. */
  const path: (string | number)[] = [];

  // `fieldPath` is the path as spans print it, built a step at a time; `kinds` the cache of the field it leads to.
  const visit = (value: unknown, fieldPath: string, kinds: KindCache): void => {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        path.push(index);
        visit(value[index], `${fieldPath}[${index}]`, childCache(kinds, ITEMS));
        path.pop();
      }
    } else if (isPlainObject(value)) {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        path.push(key);
        visit(value[key], fieldPath === "" ? key : `${fieldPath}.${key}`, childCache(kinds, key));
        path.pop();
      }
    } else if ((typeof value === "string" && value.trim() !== "") || (typeof value === "number" && Number.isFinite(value))) {
      const kind = leafKind(jsonSchema, kinds, path, value);
      if (kind === "skip") return;
      const wanted = typeof value === "number" ? value : { written: value, normalized: normalizeText(value) };
      const key = typeof wanted === "number" ? `#${wanted}` : wanted.normalized || wanted.written;
      const cursor = cursors.get(key);
      // A value already found nowhere is nowhere again: a repeat costs no second search.
      const found =
        cursor === null
          ? undefined
          : ((cursor && locateFrom(sources, wanted, kind, cursor)) ?? locateFrom(sources, wanted, kind, { source: 0, offset: 0 }));
      if (!found) cursors.set(key, null);
      if (found) {
        const source = sources[found.source]!;
        cursors.set(key, { source: found.source, offset: found.end });
        grounding.spans.push({
          path: fieldPath,
          column: source.column,
          start: source.codePointOffset(found.start),
          end: source.codePointOffset(found.end),
          match: found.match,
        });
      } else if (kind !== "date") {
        grounding.ungrounded.push(fieldPath);
      }
    }
  };
  visit(data, "", kinds);
  return grounding;
}

/** A span in UTF-16 offsets of the written text of `sources[source]`. */
interface Found {
  source: number;
  start: number;
  end: number;
  match: Span["match"];
}

/** The first of exact, normalized, fuzzy that finds `value` at or after `from`, searching the cells in order. */
function locateFrom(
  sources: readonly SourceText[],
  wanted: number | { written: string; normalized: string },
  kind: LeafKind,
  from: { source: number; offset: number },
): Found | undefined {
  if (typeof wanted === "number") return eachSource(sources, from, (source, offset) => findNumber(source, wanted, offset));
  const { written, normalized } = wanted;
  const exact = eachSource(sources, from, (source, offset) => {
    const at = findWhole(source.text, written, offset);
    return at < 0 ? undefined : { start: at, end: at + written.length, match: "exact" };
  });
  // Only punctuation (`"}]`): found as written, or not at all.
  if (exact || normalized === "") return exact;
  const normalizedMatch = eachSource(sources, from, (source, offset) => {
    const at = findWhole(source.normalized, normalized, source.normalizedOffset(offset));
    if (at < 0) return undefined;
    const [start, end] = source.writtenRange(at, at + normalized.length);
    return { start, end, match: "normalized" };
  });
  // A reformatted date has the same digits in another order: words in common say nothing.
  if (normalizedMatch || kind === "date") return normalizedMatch;
  const words = tokenize(normalized).map((token) => token.word);
  return eachSource(sources, from, (source, offset) => {
    if (!mayHoldFuzzy(source.normalized, words)) return undefined; // spares tokenizing a cell that cannot match
    const { tokens } = source;
    const range = findFuzzy(words, tokens, firstTokenAt(tokens, source.normalizedOffset(offset)));
    if (!range) return undefined;
    const [start, end] = source.writtenRange(tokens[range.first]!.start, tokens[range.last]!.end);
    return { start, end, match: "fuzzy" };
  });
}

/** `find` in each cell from the cursor's (from its offset there), then in the cells after it. */
function eachSource(
  sources: readonly SourceText[],
  from: { source: number; offset: number },
  find: (source: SourceText, offset: number) => Omit<Found, "source"> | undefined,
): Found | undefined {
  for (let index = from.source; index < sources.length; index++) {
    const found = find(sources[index]!, index === from.source ? from.offset : 0);
    if (found) return { source: index, ...found };
  }
  return undefined;
}

function findNumber(source: SourceText, value: number, offset: number): Omit<Found, "source"> | undefined {
  const tolerance = 1e-9 * Math.max(1, Math.abs(value));
  for (const written of source.numbers) {
    if (written.start < offset || !written.values.some((candidate) => Math.abs(candidate - value) <= tolerance)) continue;
    const exact = source.text.slice(written.start, written.end) === String(value);
    return { start: written.start, end: written.end, match: exact ? "exact" : "normalized" };
  }
  return undefined;
}

/** The index of the first token starting at or after `offset` (normalized text). */
function firstTokenAt(tokens: readonly { start: number }[], offset: number): number {
  let low = 0;
  let high = tokens.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (tokens[middle]!.start < offset) low = middle + 1;
    else high = middle;
  }
  return low;
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
  kind?: LeafKind;
  children?: Map<string | typeof ITEMS, KindCache>;
}

/** The child of {@link KindCache} that stands for any array index. */
const ITEMS = Symbol("items");

/** Per schema, its {@link KindCache}: rows repeat the same fields, so each is walked once. */
const declaredKinds = new WeakMap<JsonSchema, KindCache>();

function declaredKindsOf(root: JsonSchema): KindCache {
  let kinds = declaredKinds.get(root);
  if (!kinds) declaredKinds.set(root, (kinds = {}));
  return kinds;
}

function childCache(parent: KindCache, step: string | typeof ITEMS): KindCache {
  parent.children ??= new Map();
  let child = parent.children.get(step);
  if (!child) parent.children.set(step, (child = {}));
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
