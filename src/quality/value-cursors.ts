/** Where each value of a record was last found, so that a repeated value maps to the next occurrence. */

/** Where a value's last span ended (the cell, the written offset), or null when it was found nowhere. */
export interface Cursor {
  source: number;
  offset: number;
}

/**
 * Per value (a number, or a text by its normalized form), its {@link Cursor}, so that a repeat
 * maps to the next occurrence. A list searched in order while it is short (a record has a dozen
 * values or so, and comparing a fresh string with strings of other lengths is cheaper than
 * hashing it), a Map once it is long (an array of many items), so a record costs linear time.
 */
export class ValueCursors {
  readonly #keys: (string | number)[] = [];
  readonly #cursors: (Cursor | null | undefined)[] = [];
  #index?: Map<string | number, number>;

  /** The slot of `key`, a new one when it has none. */
  slotOf(key: string | number): number {
    const keys = this.#keys;
    const known = this.#index ? this.#index.get(key) : keys.indexOf(key);
    if (known !== undefined && known >= 0) return known;
    if (!this.#index && keys.length >= LISTED_CURSORS) this.#index = new Map(keys.map((other, slot) => [other, slot] as const));
    this.#index?.set(key, keys.length);
    this.#cursors.push(undefined);
    return keys.push(key) - 1;
  }

  /** The cursor in `slot`: undefined when the value was not looked for yet. */
  get(slot: number): Cursor | null | undefined {
    return this.#cursors[slot];
  }

  set(slot: number, cursor: Cursor | null): void {
    this.#cursors[slot] = cursor;
  }
}

/** How many values {@link ValueCursors} compares one by one before it hashes them. */
const LISTED_CURSORS = 32;
