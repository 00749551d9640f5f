import type { FieldKind } from "./eval-fields.js";

/** How well one field was extracted, over the matched rows (or, for an item field, the paired items). */
export interface FieldScore {
  /** Dotted path; an item field of an array of objects is `order_items[].sku`. */
  field: string;
  kind: FieldKind;
  /** Values compared: matched rows; for an item field, paired items. */
  n: number;
  /** Of those, how many agree with the gold value. */
  correct: number;
  /** correct / n; null when n is 0. */
  accuracy: number | null;
  /** Share of extracted values that are not null (arrays: not empty; item fields: over extracted items). */
  fill: number | null;
  /**
   * Nullable fields: of the extracted values that are not null, the share whose gold value is not
   * null either. Arrays: of the extracted items, the share that match a gold item exactly. Item
   * fields: of the extracted items, the share whose value in this field is right. Else null.
   */
  precision: number | null;
  /** The same, of the gold values (or items) instead of the extracted ones. */
  recall: number | null;
  /** Harmonic mean of precision and recall, where both exist. */
  f1: number | null;
}

/** Counts for one field, turned into a {@link FieldScore} at the end. */
export class FieldTally {
  n = 0;
  correct = 0;
  filled = 0;
  /** What `fill` is a share of: n, or for an item field the extracted items. */
  fillBase = 0;
  /** Hits, extracted and gold counts behind precision and recall; unused unless `withRecall`. */
  hits = 0;
  extracted = 0;
  expected = 0;

  constructor(
    readonly field: string,
    readonly kind: FieldKind,
    readonly withRecall: boolean,
  ) {}

  score(): FieldScore {
    const precision = this.withRecall ? ratio(this.hits, this.extracted) : null;
    const recall = this.withRecall ? ratio(this.hits, this.expected) : null;
    const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return {
      field: this.field,
      kind: this.kind,
      n: this.n,
      correct: this.correct,
      accuracy: ratio(this.correct, this.n),
      fill: ratio(this.filled, this.fillBase),
      precision,
      recall,
      f1,
    };
  }
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
