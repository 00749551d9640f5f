import { describe, expect, it } from "vitest";
import { z } from "zod";
import { toGrammarSchema } from "../../src/schema/grammar-schema.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";

const ANY_JSON = {
  oneOf: [{ type: ["string", "number", "boolean", "null"] }, { type: "object", additionalProperties: true }, { type: "array" }],
};

function grammarOf(shape: z.ZodRawShape) {
  return toGrammarSchema(toPromptJsonSchema(z.object(shape))) as { properties: Record<string, unknown> };
}

describe("toGrammarSchema", () => {
  it("turns nullable fields into a oneOf with null, keeping string lengths", () => {
    const { properties } = grammarOf({
      name: z.string().max(8).nullable(),
      contact: z.object({ email: z.string() }).nullable(),
    });
    expect(properties.name).toEqual({ oneOf: [{ type: "string", maxLength: 8 }, { type: "null" }] });
    expect(properties.contact).toEqual({
      oneOf: [{ type: "object", properties: { email: { type: "string" } }, additionalProperties: false }, { type: "null" }],
    });
  });

  it("keeps what the grammar can enforce: enums, literals, item counts, the date formats", () => {
    const { properties } = grammarOf({
      urgency: z.enum(["low", "high"]),
      kind: z.literal("ticket"),
      tags: z.array(z.string()).min(1).max(3),
      day: z.iso.date(),
      count: z.int(),
      price: z.number(),
      paid: z.boolean(),
    });
    expect(properties).toEqual({
      urgency: { enum: ["low", "high"] },
      kind: { const: "ticket" },
      tags: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 3 },
      day: { type: "string", format: "date" },
      count: { type: "integer" },
      price: { type: "number" },
      paid: { type: "boolean" },
    });
  });

  it("drops constraints the grammar cannot express, which zod still checks", () => {
    const { properties } = grammarOf({
      currency: z.string().regex(/^[A-Z]{3}$/),
      email: z.email(),
      quantity: z.int().min(1).max(99),
    });
    expect(properties).toEqual({ currency: { type: "string" }, email: { type: "string" }, quantity: { type: "integer" } });
  });

  it("lets free-form values be any JSON, and records have any keys", () => {
    const { properties } = grammarOf({
      extra: z.unknown(),
      counts: z.record(z.string(), z.int()),
      meta: z.looseObject({}),
    });
    expect(properties.extra).toEqual(ANY_JSON);
    expect(properties.counts).toEqual({ type: "object", properties: {}, additionalProperties: { type: "integer" } });
    expect(properties.meta).toMatchObject({ type: "object", additionalProperties: ANY_JSON });
  });

  it("merges an intersection of objects into one object, and reads any other allOf as any JSON", () => {
    expect(toGrammarSchema({ allOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "object", properties: { b: { type: "integer" } } }] })).toEqual({
      type: "object",
      properties: { a: { type: "string" }, b: { type: "integer" } },
      additionalProperties: false,
    });
    expect(toGrammarSchema({ allOf: [{ type: "string" }, { minLength: 2 }] })).toEqual(ANY_JSON);
  });

  it("keeps $defs and references into them; other references become any JSON", () => {
    const converted = toGrammarSchema({
      type: "object",
      properties: { a: { $ref: "#/$defs/item" }, b: { $ref: "https://example.com/schema" } },
      $defs: { item: { type: "string", pattern: "x", maxLength: 3 } },
    });
    expect(converted).toEqual({
      type: "object",
      properties: { a: { $ref: "#/$defs/item" }, b: ANY_JSON },
      additionalProperties: false,
      $defs: { item: { type: "string", maxLength: 3 } },
    });
  });
});
