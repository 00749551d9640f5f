import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ExtractError } from "../../src/errors/extract-error.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { loadSchema } from "../../src/schema/load.js";
import { schemaName, toStrictJsonSchema } from "../../src/schema/strict-schema.js";
import { repoRoot } from "../helpers/run-cli.js";

const strict = (schema: z.ZodObject) => toStrictJsonSchema(toPromptJsonSchema(schema));

function refusal(schema: z.ZodObject): ExtractError {
  try {
    strict(schema);
  } catch (error) {
    if (error instanceof ExtractError) return error;
    throw error;
  }
  throw new Error("expected SCHEMA_INVALID");
}

/** Every object node of a JSON Schema, with its path. */
function objects(node: any, at = "$"): [string, any][] {
  if (typeof node !== "object" || node === null) return [];
  const own: [string, any][] = node.type === "object" || node.properties ? [[at, node]] : [];
  return [
    ...own,
    ...Object.entries(node.properties ?? {}).flatMap(([key, child]) => objects(child, `${at}.${key}`)),
    ...(node.anyOf ?? []).flatMap((child: unknown) => objects(child, at)),
    ...objects(node.items, `${at}[]`),
  ];
}

describe("toStrictJsonSchema", () => {
  it("closes every object, nested ones too, and lists every property in required", () => {
    const schema = z.object({
      name: z.string(),
      contact: z.object({ email: z.string().nullable(), phone: z.string().nullish() }),
      items: z.array(z.object({ sku: z.string(), qty: z.int() })),
      billing: z.object({ iban: z.string() }).nullable(),
    });
    const result = strict(schema);

    const found = objects(result);
    expect(found.map(([at]) => at)).toEqual(["$", "$.contact", "$.items[]", "$.billing"]);
    for (const [, node] of found) {
      expect(node.additionalProperties).toBe(false);
      expect(node.required).toEqual(Object.keys(node.properties));
    }
    // nullish (optional and nullable) becomes required, still accepting null
    expect(result.properties).toMatchObject({ contact: { properties: { phone: { type: ["string", "null"] } } } });
  });

  it("refuses an optional field that is not nullable with SCHEMA_INVALID naming its path and the fix", () => {
    const error = refusal(z.object({ contact: z.object({ name: z.string(), email: z.string().optional() }) }));
    expect(error.code).toBe("SCHEMA_INVALID");
    expect(error.path).toBe("contact.email");
    expect(error.message).toMatch(/Field "contact\.email" may be left out.*use \.nullable\(\) instead.*`mode` json_object/);
  });

  it("closes an object that declares its keys and only tolerates others (z.looseObject, JSON Schema files)", async () => {
    const result = strict(z.object({ extra: z.looseObject({ a: z.string() }) })) as any;
    expect(result.properties.extra).toEqual({ type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false });

    const { schema } = await loadSchema(path.join(repoRoot, "test/fixtures/schemas/contact.json"));
    expect(strict(schema)).toMatchObject({ required: ["email", "plan"], additionalProperties: false });
  });

  it("accepts the same field once it is nullable", () => {
    expect(() => strict(z.object({ contact: z.object({ name: z.string(), email: z.string().nullable() }) }))).not.toThrow();
  });

  it.each([
    ["a default (the model may leave it out)", z.object({ n: z.number().default(1) }), "n", /may be left out/],
    ["a record", z.object({ meta: z.record(z.string(), z.number()) }), "meta", /a record or a free-form object.*z\.object/],
    ["a free-form record", z.object({ meta: z.record(z.string(), z.unknown()) }), "meta", /a record or a free-form object/],
    ["typed extra keys", z.object({ tags: z.object({ a: z.string() }).catchall(z.string()) }), "tags", /a record/],
    ["any value", z.object({ raw: z.unknown() }), "raw", /accepts any value/],
    ["any value, described", z.object({ raw: z.any().describe("whatever") }), "raw", /accepts any value/],
    ["array items of any value", z.object({ list: z.array(z.any()) }), "list[]", /accepts any value/],
    ["a tuple", z.object({ pair: z.tuple([z.string(), z.number()]) }), "pair", /a tuple/],
  ])("refuses %s, naming the field", (_, schema, path, message) => {
    const error = refusal(schema as z.ZodObject);
    expect(error).toMatchObject({ code: "SCHEMA_INVALID", path });
    expect(error.message).toMatch(message);
  });

  it("drops the keywords strict mode does not support and keeps the supported constraints", () => {
    const result = strict(
      z.object({
        code: z.string().min(2).max(5).regex(/^[A-Z]+$/),
        email: z.email(),
        site: z.url(),
        tags: z.array(z.string()).min(1).max(3),
        score: z.number().min(0).max(10),
        count: z.int().default(0).nullable(),
      }),
    ) as any;
    expect(result.properties.code).toEqual({ type: "string", pattern: "^[A-Z]+$" });
    // a supported format stays, zod's own regex for it goes; an unsupported format goes too
    expect(result.properties.email).toEqual({ type: "string", format: "email" });
    expect(result.properties.site).toEqual({ type: "string" });
    expect(result.properties.tags).toMatchObject({ minItems: 1, maxItems: 3 });
    expect(result.properties.score).toMatchObject({ minimum: 0, maximum: 10 });
    expect(JSON.stringify(result)).not.toMatch(/"default"|minLength|maxLength/);
  });

  it("writes a discriminated union's oneOf as anyOf, each branch closed", () => {
    const result = strict(
      z.object({
        payment: z.discriminatedUnion("kind", [
          z.object({ kind: z.literal("card"), last4: z.string() }),
          z.object({ kind: z.literal("cash") }),
        ]),
      }),
    ) as any;
    expect(result.properties.payment.oneOf).toBeUndefined();
    expect(result.properties.payment.anyOf).toHaveLength(2);
    expect(result.properties.payment.anyOf[1]).toMatchObject({ required: ["kind"], additionalProperties: false });
  });

  it("makes an optional field required when the definition it refers to allows null", () => {
    const maybeText = z.string().nullable().meta({ id: "MaybeText" });
    const result = strict(z.object({ note: maybeText.optional(), title: maybeText }));
    expect(result.required).toEqual(["note", "title"]);
    expect(result.$defs).toEqual({ MaybeText: { type: ["string", "null"] } });
  });

  it("refuses what a $defs entry or a union branch cannot express, naming where", () => {
    const place = z.object({ tags: z.record(z.string(), z.string()) }).meta({ id: "Place" });
    expect(refusal(z.object({ home: place })).path).toBe("$defs.Place.tags");
    expect(refusal(z.object({ either: z.union([z.string(), z.array(z.unknown())]) })).path).toBe("either[]");
  });

  it.each(["ticket", "invoice", "job"])("converts the shipped %s schema", async (name) => {
    const { schema } = await loadSchema(name, { cwd: repoRoot });
    const result = strict(schema);
    for (const [, node] of objects(result)) {
      expect(node.additionalProperties).toBe(false);
      expect(node.required).toEqual(Object.keys(node.properties));
    }
  });
});

describe("schemaName", () => {
  it.each([
    [undefined, "extraction"],
    ["/app/schemas/ticket.ts", "ticket"],
    ["/x/my schema (v2).json", "my_schema_v2_"],
    ["/x/---.ts", "extraction"],
    [`/x/${"a".repeat(80)}.ts`, "a".repeat(64)],
  ])("%s -> %s", (file, name) => {
    expect(schemaName(file)).toBe(name);
    expect(schemaName(file)).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });
});
