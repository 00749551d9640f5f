import { describe, expect, it } from "vitest";
import { z } from "zod";
import { coerceToSchema, looseNumber } from "../../src/core/coerce.js";
import type { ObjectSchema } from "../../src/schema/json-schema.js";

/** What coercion makes of `value` under `schema`: the data and paths, or undefined (a re-ask). */
function coerce(schema: ObjectSchema, value: unknown) {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error("the value already fits: nothing to coerce");
  return coerceToSchema(value, schema, parsed.error.issues);
}

describe("coercing an enum", () => {
  const schema = z.object({ urgency: z.enum(["low", "high", "in_progress"]) });

  it.each([
    ["HIGH", "high"],
    ["  High ", "high"],
    ["High.", "high"],
    ["In Progress", "in_progress"],
    ["in-progress", "in_progress"],
  ])("reads %j as %j", (loose, member) => {
    expect(coerce(schema, { urgency: loose })).toEqual({ data: { urgency: member }, coerced: ["urgency"] });
  });

  it.each([["urgent"], ["hi"], [""], ["..."], ["high priority"]])("leaves %j to a re-ask", (loose) => {
    expect(coerce(schema, { urgency: loose })).toBeUndefined();
  });

  it("leaves a value that reads as two members to a re-ask", () => {
    const twins = z.object({ lang: z.enum(["C", "C#", "Go"]) });
    expect(coerce(twins, { lang: "c" })).toBeUndefined();
    expect(coerce(twins, { lang: "GO" })).toEqual({ data: { lang: "Go" }, coerced: ["lang"] });
  });

  it("reads a literal (const) alike, and never a number as an enum member", () => {
    expect(coerce(z.object({ kind: z.literal("invoice") }), { kind: "Invoice" })).toEqual({ data: { kind: "invoice" }, coerced: ["kind"] });
    expect(coerce(z.object({ n: z.enum(["1", "2"]) }), { n: 1 })).toBeUndefined();
  });

  it("never touches a free-text string", () => {
    expect(coerce(z.object({ note: z.string().max(3), urgency: z.enum(["low"]) }), { note: "HIGH!", urgency: "LOW" })).toBeUndefined();
  });
});

describe("looseNumber", () => {
  it.each([
    ["42", 42],
    [" 42 ", 42],
    ["-7", -7],
    ["12.5", 12.5],
    ["1,234.50", 1234.5],
    ["1,234,567", 1234567],
    ["12,345.6", 12345.6],
    ["$12.50", 12.5],
    ["-$12.50", -12.5],
    ["$-12.50", -12.5],
    ["€ 1,234.00", 1234],
    ["12€", 12],
    ["123 USD", 123],
    ["USD 123", 123],
    ["EUR1,250.75", 1250.75],
    ["12%", 12],
    ["0.250", 0.25],
    ["1234.567", 1234.567],
    ["12.0", 12],
  ])("reads %j as %d", (text, number) => {
    expect(looseNumber(text)).toBe(number);
  });

  it.each([
    ["1.234", "a thousand and a bit (de-DE) or a bit over one (en-US)"],
    ["1,234", "the same doubt, the other way round"],
    ["-12,345", "the same doubt, signed"],
    ["1,5", "a decimal comma: another locale's reading"],
    ["1.234.567", "dots as grouping: another locale's reading"],
    ["1 234", "space grouping (or two numbers)"],
    ["12-15", "two numbers"],
    ["12 or 13", "two numbers"],
    ["$12 USD", "two units"],
    ["12%%", "two units"],
    ["123 LBS", "not a currency"],
    ["123 usd", "a currency code is written in capitals"],
    ["12,34", "groups of three only"],
    ["1e3", "no exponents"],
    [".5", "no bare decimal point"],
    ["5.", "no bare decimal point"],
    ["0x10", "no hexadecimal"],
    ["Infinity", "not a finite number"],
    ["twelve", "no words"],
    ["", "nothing"],
    ["N/A", "nothing"],
  ])("leaves %j alone: %s", (text) => {
    expect(looseNumber(text)).toBeUndefined();
  });
});

describe("coercing a number", () => {
  const schema = z.object({ total: z.number().nullable(), quantity: z.int() });

  it("reads loose numbers where the schema wants a number or an integer", () => {
    expect(coerce(schema, { total: "123 USD", quantity: "3" })).toEqual({ data: { total: 123, quantity: 3 }, coerced: ["total", "quantity"] });
  });

  it("never reads a fraction where the schema wants an integer", () => {
    expect(coerce(schema, { total: 1, quantity: "2.5" })).toBeUndefined();
  });

  it("never reads an ambiguous text, and then leaves the whole reply to the re-ask", () => {
    expect(coerce(schema, { total: "1.234", quantity: "3" })).toBeUndefined();
  });

  it("never reads a string as a number where the schema wants a string", () => {
    expect(z.object({ sku: z.string() }).safeParse({ sku: "123" }).success).toBe(true);
    expect(coerce(z.object({ sku: z.string(), n: z.number() }), { sku: 123, n: "1" })).toBeUndefined();
  });

  it("still applies the schema's own checks to the number read", () => {
    expect(coerce(z.object({ quantity: z.int().min(1) }), { quantity: "0" })).toBeUndefined();
  });
});

describe("coercing a boolean", () => {
  const schema = z.object({ urgent: z.boolean() });

  it.each([
    ["true", true],
    ["false", false],
    ["FALSE", false],
    [" yes ", true],
    ["No", false],
  ])("reads %j as %s", (loose, value) => {
    expect(coerce(schema, { urgent: loose })).toEqual({ data: { urgent: value }, coerced: ["urgent"] });
  });

  it.each([["1"], ["0"], [""], ["maybe"], ["y"], ["n"], ["null"], ["off"], [1], [0], [null]])("never reads %j by truthiness", (loose) => {
    expect(coerce(schema, { urgent: loose })).toBeUndefined();
  });

  it("never reads yes/no where the schema wants an enum of other words", () => {
    expect(coerce(z.object({ answer: z.enum(["y", "n"]) }), { answer: "yes" })).toBeUndefined();
  });
});

describe("coercing JSON text and single objects", () => {
  const item = z.object({ sku: z.string(), quantity: z.int() });
  const schema = z.object({ tags: z.array(z.string()), address: z.object({ city: z.string() }).nullable(), items: z.array(item) });
  const good = { tags: ["a"], address: { city: "Oslo" }, items: [{ sku: "A1", quantity: 2 }] };

  it("reads a JSON text holding the array or object the schema wants", () => {
    expect(coerce(schema, { ...good, tags: '["a", "b"]', address: '{"city": "Oslo"}' })).toEqual({
      data: { ...good, tags: ["a", "b"] },
      coerced: ["tags", "address"],
    });
  });

  it("wraps a single object where the schema wants an array of them", () => {
    expect(coerce(schema, { ...good, items: { sku: "A1", quantity: 2 } })).toEqual({ data: good, coerced: ["items"] });
  });

  it("fixes what lies inside a value it has just read, in further rounds", () => {
    expect(coerce(schema, { ...good, items: '[{"sku": "A1", "quantity": "2"}]' })).toEqual({ data: good, coerced: ["items", "items[0].quantity"] });
  });

  it.each([
    ["an object's JSON where an array is wanted", { tags: '{"a": 1}' }],
    ["an array's JSON where an object is wanted", { address: '["Oslo"]' }],
    ["text that is not JSON", { tags: "a, b" }],
    ["broken JSON", { tags: '["a", ' }],
    ["a string where an array of strings is wanted", { tags: "a" }],
    ["a string where an array of objects is wanted", { items: "A1" }],
    ["an array where an object is wanted", { address: [{ city: "Oslo" }] }],
  ])("leaves %s to a re-ask", (_, loose) => {
    expect(coerce(schema, { ...good, ...loose })).toBeUndefined();
  });
});

describe("coerceToSchema", () => {
  it("follows $refs and nesting, and names each path as grounding does", () => {
    const line = z.object({ qty: z.int(), unit: z.enum(["kg", "pcs"]) });
    const schema = z.object({ lines: z.array(line), backup: line.nullable() });
    const loose = { lines: [{ qty: 1, unit: "kg" }, { qty: "2", unit: "PCS" }], backup: { qty: "3", unit: "kg" } };
    expect(coerce(schema, loose)).toEqual({
      data: { lines: [{ qty: 1, unit: "kg" }, { qty: 2, unit: "pcs" }], backup: { qty: 3, unit: "kg" } },
      coerced: ["lines[1].qty", "lines[1].unit", "backup.qty"],
    });
  });

  it("leaves the value it was given unchanged", () => {
    const loose = { n: "12%" };
    expect(coerce(z.object({ n: z.number() }), loose)).toEqual({ data: { n: 12 }, coerced: ["n"] });
    expect(loose).toEqual({ n: "12%" });
  });

  it("reads a scalar union by the one reading the text has, and never picks a branch of a union of objects", () => {
    // JSON Schema writes the first as `type: ["number", "boolean"]`: a text is a number or a boolean word, never both.
    const scalars = z.object({ v: z.union([z.number(), z.boolean()]) });
    expect(coerce(scalars, { v: "yes" })).toEqual({ data: { v: true }, coerced: ["v"] });
    expect(coerce(scalars, { v: "7" })).toEqual({ data: { v: 7 }, coerced: ["v"] });
    const objects = z.object({ v: z.union([z.object({ a: z.number() }), z.object({ b: z.boolean() })]) });
    expect(coerce(objects, { v: { a: "1" } })).toBeUndefined();
  });

  it("gives up when another issue is left that no rule fixes", () => {
    expect(coerce(z.object({ n: z.number(), name: z.string() }), { n: "5", name: 5 })).toBeUndefined();
  });
});
