import { describe, expect, it } from "vitest";
import { z } from "zod";
import { leafColumns, type LeafColumn } from "../../src/schema/columns.ts";
import { toPromptJsonSchema, type ObjectSchema } from "../../src/schema/json-schema.ts";
import invoice from "../../schemas/invoice.ts";
import job from "../../schemas/job.ts";
import ticket from "../../schemas/ticket.ts";

const leavesOf = (schema: ObjectSchema) => leafColumns(toPromptJsonSchema(schema));
const namesOf = (leaves: LeafColumn[]) => leaves.map((leaf) => (leaf.json ? `${leaf.name} (json)` : leaf.name));

describe("leafColumns", () => {
  it("flattens the ticket schema's contact and keeps order_items as JSON", () => {
    expect(namesOf(leavesOf(ticket))).toEqual([
      "contact.name",
      "contact.email",
      "contact.company",
      "product",
      "category",
      "sentiment",
      "urgency",
      "order_id",
      "order_items (json)",
      "summary",
      "requested_action",
    ]);
    expect(leavesOf(ticket)[1]).toEqual({ name: "contact.email", path: ["contact", "email"], json: false });
  });

  it("flattens the invoice schema's vendor and keeps line_items as JSON", () => {
    expect(namesOf(leavesOf(invoice))).toEqual([
      "vendor.name",
      "vendor.tax_id",
      "vendor.address",
      "invoice_number",
      "issue_date",
      "due_date",
      "currency",
      "line_items (json)",
      "subtotal",
      "tax",
      "total",
      "payment_status",
    ]);
  });

  it("flattens the job schema's nullable salary (anyOf object|null) into dotted columns", () => {
    expect(namesOf(leavesOf(job))).toEqual([
      "title",
      "company",
      "location.city",
      "location.region",
      "location.country",
      "remote",
      "employment_type",
      "salary.min",
      "salary.max",
      "salary.currency",
      "salary.period",
      "seniority",
      "skills (json)",
      "years_experience_min",
    ]);
  });

  it("flattens a nullable object written as type: [object, null]", () => {
    const schema = {
      type: "object",
      properties: { address: { type: ["object", "null"], properties: { city: { type: "string" } } } },
    };
    expect(leafColumns(schema)).toEqual([{ name: "address.city", path: ["address", "city"], json: false }]);
  });

  it("keeps free-form objects, arrays and ambiguous shapes as one JSON column each", () => {
    const schema = z.object({
      attributes: z.record(z.string(), z.string()),
      items: z.array(z.object({ sku: z.string(), qty: z.number() })),
      loose: z.object({ a: z.string() }).catchall(z.string()),
      passthrough: z.looseObject({ a: z.string() }),
      either: z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]),
      anything: z.unknown(),
      empty: z.object({}),
      pair: z.tuple([z.string(), z.number()]),
    });
    expect(leavesOf(schema).map((leaf) => [leaf.name, leaf.json])).toEqual([
      ["attributes", true],
      ["items", true],
      ["loose", true],
      ["passthrough", true],
      ["either", true],
      ["anything", true],
      ["empty", true],
      ["pair", true],
    ]);
  });

  it("keeps scalars, enums, literals and unions of scalars as plain columns", () => {
    const schema = z.object({
      text: z.string().optional(),
      count: z.int().nullable(),
      flag: z.boolean(),
      kind: z.enum(["a", "b"]),
      fixed: z.literal("x"),
      either: z.union([z.string(), z.number()]).nullable(),
      strict: z.strictObject({ a: z.string() }),
    });
    expect(leavesOf(schema).map((leaf) => [leaf.name, leaf.json])).toEqual([
      ["text", false],
      ["count", false],
      ["flag", false],
      ["kind", false],
      ["fixed", false],
      ["either", false],
      ["strict.a", false],
    ]);
  });

  it("follows $defs references and stops at recursive ones", () => {
    const place = z.object({ city: z.string() }).meta({ id: "Place" });
    const person: z.ZodType = z.object({
      name: z.string(),
      get parent() {
        return person.nullable();
      },
    });
    const schema = z.object({ home: place, work: place.nullable(), person });
    expect(namesOf(leavesOf(schema))).toEqual(["home.city", "work.city", "person.name", "person.parent (json)"]);
  });

  it("flattens a loose root's declared properties, and gives a root without any one JSON column", () => {
    expect(namesOf(leavesOf(z.looseObject({ id: z.string() })))).toEqual(["id"]);
    expect(leafColumns({ type: "object", additionalProperties: {} })).toEqual([{ name: "data", path: [], json: true }]);
  });
});

describe("leafColumns, seen through the walker", () => {
  it("flattens a nullable object spelled with const null, and follows escaped $defs pointers", () => {
    const schema = {
      type: "object",
      properties: {
        billing: { anyOf: [{ const: null }, { $ref: "#/$defs/a~1b" }] },
        kind: { $ref: "#/$defs/my%20kind" },
      },
      $defs: {
        "a/b": { type: "object", properties: { iban: { type: "string" } }, additionalProperties: false },
        "my kind": { enum: ["x", "y", null] },
      },
    };
    expect(leafColumns(schema)).toEqual([
      { name: "billing.iban", path: ["billing", "iban"], json: false },
      { name: "kind", path: ["kind"], json: false },
    ]);
  });
});
