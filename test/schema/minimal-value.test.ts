import { describe, expect, it } from "vitest";
import { z } from "zod";
import { minimalJsonFor } from "../../src/schema/minimal-value.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";

const jsonSchema = toPromptJsonSchema(
  z.object({
    customer: z.string().nullable().describe("Who wrote"),
    urgency: z.enum(["high", "low", "medium"]),
    order: z.object({ id: z.string(), qty: z.int(), gift: z.boolean() }),
    tags: z.array(z.string()),
    refund: z.number().nullable(),
  }),
);

describe("minimalJsonFor", () => {
  it("gives every property its shortest value: null when nullable, shortest enum member, nested objects, empty arrays", () => {
    expect(minimalJsonFor(jsonSchema)).toEqual({
      customer: null,
      urgency: "low",
      order: { id: "", qty: 0, gift: false },
      tags: [],
      refund: null,
    });
  });

  it("handles type arrays, const, minItems / minLength, and recursive references", () => {
    expect(
      minimalJsonFor({
        type: "object",
        properties: {
          a: { type: ["string", "null"] },
          b: { const: "v1" },
          c: { type: "array", minItems: 2, items: { type: "integer" } },
          d: { type: "string", minLength: 3 },
          e: { anyOf: [{ type: "string", enum: ["long one"] }, { type: "boolean" }] },
        },
      }),
    ).toEqual({ a: null, b: "v1", c: [0, 0], d: "xxx", e: false });

    const node = z.object({ name: z.string(), get child() { return node; } });
    expect(minimalJsonFor(z.toJSONSchema(node) as Record<string, unknown>)).toEqual({ name: "", child: { name: "", child: null } });
  });
});


describe("minimalJsonFor, null wherever the walker allows it", () => {
  // The dry run once had its own allowsNull that missed `const: null` branches and nested
  // unions, and so picked "" or 0 where the schema allows null, unlike the strict schema.
  it("answers null for a union with a const null branch or a nested nullable branch", () => {
    expect(
      minimalJsonFor({
        type: "object",
        properties: {
          a: { anyOf: [{ const: null }, { type: "string" }] },
          b: { anyOf: [{ anyOf: [{ type: "string" }, { type: "null" }] }, { type: "number" }] },
        },
      }),
    ).toEqual({ a: null, b: null });
  });

  it("follows references with ~1 / ~0 and percent escapes in the pointer", () => {
    expect(
      minimalJsonFor({
        type: "object",
        properties: { a: { $ref: "#/$defs/a~1b" }, b: { $ref: "#/$defs/my%20flag" } },
        $defs: { "a/b": { type: "integer" }, "my flag": { type: "boolean" } },
      }),
    ).toEqual({ a: 0, b: false });
  });
});
