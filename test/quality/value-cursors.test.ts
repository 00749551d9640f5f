import { describe, expect, it } from "vitest";
import { ValueCursors } from "../../src/quality/value-cursors.js";

describe("ValueCursors", () => {
  it("gives a value its slot again, a number and a text never sharing one, before and after it starts hashing", () => {
    const cursors = new ValueCursors();
    const keys = [...Array.from({ length: 40 }, (_, index) => `v${index}`), 7, "7", 0];
    const slots = keys.map((key) => cursors.slotOf(key));
    expect(new Set(slots).size).toBe(keys.length);
    expect(keys.map((key) => cursors.slotOf(key))).toEqual(slots);
    expect(cursors.slotOf(-0)).toBe(cursors.slotOf(0));
  });

  it("keeps a cursor per slot: undefined until looked for, null when found nowhere", () => {
    const cursors = new ValueCursors();
    const [found, absent] = [cursors.slotOf("acme"), cursors.slotOf(42)];
    expect(cursors.get(found)).toBeUndefined();
    cursors.set(found, { source: 1, offset: 4 });
    cursors.set(absent, null);
    expect([cursors.get(cursors.slotOf("acme")), cursors.get(cursors.slotOf(42))]).toEqual([{ source: 1, offset: 4 }, null]);
  });
});
