import { describe, expect, it } from "vitest";
import { z } from "zod";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import {
  allowsNull,
  childFieldPath,
  deref,
  forEachLeaf,
  forEachSchemaChild,
  isSchemaObject,
  mapSchemaChildren,
  objectBehind,
  resolveLocalRef,
  schemaAt,
  typesOf,
  unwrapNullable,
  type JsonSchema,
} from "../../src/schema/walk.js";

describe("isSchemaObject and typesOf", () => {
  it("tells schema objects from booleans, arrays and null", () => {
    expect([{}, { type: "string" }, true, false, null, [], "x"].map(isSchemaObject)).toEqual([true, true, false, false, false, false, false]);
  });

  it("lists the type keyword whether it is a string, a list or absent", () => {
    expect(typesOf({ type: "string" })).toEqual(["string"]);
    expect(typesOf({ type: ["object", "null"] })).toEqual(["object", "null"]);
    expect(typesOf({ enum: ["a"] })).toEqual([]);
  });
});

describe("resolveLocalRef and deref", () => {
  const root: JsonSchema = {
    type: "object",
    $defs: { "a/b": { type: "string" }, "t~x": { type: "integer" }, "my place": { type: "boolean" }, alias: { $ref: "#/$defs/a~1b" }, loop: { $ref: "#/$defs/loop" } },
  };

  it("follows JSON Pointers with ~1 and ~0 unescaped and percent-escapes decoded", () => {
    expect(resolveLocalRef(root, "#/$defs/a~1b")).toEqual({ type: "string" });
    expect(resolveLocalRef(root, "#/$defs/t~0x")).toEqual({ type: "integer" });
    expect(resolveLocalRef(root, "#/$defs/my%20place")).toEqual({ type: "boolean" });
    expect(resolveLocalRef(root, "#")).toBe(root);
  });

  it("finds nothing for remote, dangling or inherited references", () => {
    expect(resolveLocalRef(root, "https://schemas.example/schema#/$defs/a")).toBeUndefined();
    expect(resolveLocalRef(root, "#/$defs/missing")).toBeUndefined();
    expect(resolveLocalRef(root, "#/$defs/constructor")).toBeUndefined();
  });

  it("follows a chain of references and gives up on a circular one", () => {
    expect(deref({ $ref: "#/$defs/alias" }, root)).toEqual({ type: "string" });
    expect(deref({ $ref: "#/$defs/loop" }, root)).toBeUndefined();
    expect(deref(true, root)).toBeUndefined();
  });
});

describe("allowsNull", () => {
  it.each([
    ["type null", { type: "null" }, true],
    ["a type list with null", { type: ["string", "null"] }, true],
    ["an enum with null", { enum: ["a", null] }, true],
    ["const null", { const: null }, true],
    ["a branch with const null", { anyOf: [{ type: "string" }, { const: null }] }, true],
    ["a nested branch that allows null", { oneOf: [{ type: "number" }, { anyOf: [{ type: "string" }, { type: ["integer", "null"] }] }] }, true],
    ["a plain string", { type: "string" }, false],
    ["an enum without null", { enum: ["a", "b"] }, false],
    ["a union without null", { anyOf: [{ type: "string" }, { const: "x" }] }, false],
    ["no schema at all", true, false],
  ])("%s -> %s", (_, node, expected) => {
    expect(allowsNull(node)).toBe(expected);
  });

  it("follows local references when given the root", () => {
    const root = { $defs: { Maybe: { anyOf: [{ type: "string" }, { type: "null" }] }, Loop: { $ref: "#/$defs/Loop" } } };
    expect(allowsNull({ $ref: "#/$defs/Maybe" }, root)).toBe(true);
    expect(allowsNull({ $ref: "#/$defs/Maybe" })).toBe(false);
    expect(allowsNull({ $ref: "#/$defs/Loop" }, root)).toBe(false);
  });

  it("agrees with zod's nullable and nullish", () => {
    const json = toPromptJsonSchema(z.object({ a: z.string().nullable(), b: z.int().nullish(), c: z.string().optional() }));
    const properties = json.properties as JsonSchema;
    expect([properties.a, properties.b, properties.c].map((node) => allowsNull(node, json))).toEqual([true, true, false]);
  });
});

describe("unwrapNullable and objectBehind", () => {
  const place = { type: "object", properties: { city: { type: "string" } } };
  const root: JsonSchema = { $defs: { Place: place } };

  it("sees an object through a reference and through nullability", () => {
    expect(unwrapNullable({ anyOf: [{ $ref: "#/$defs/Place" }, { type: "null" }] }, root)).toBe(place);
    expect(objectBehind({ anyOf: [{ const: null }, { $ref: "#/$defs/Place" }] }, root)).toBe(place);
    expect(objectBehind({ type: ["object", "null"], properties: {} }, root)).toEqual({ type: ["object", "null"], properties: {} });
  });

  it("is no object for a scalar or a union of two objects", () => {
    expect(objectBehind({ type: "string" }, root)).toBeUndefined();
    expect(objectBehind({ anyOf: [place, { type: "object" }] }, root)).toBeUndefined();
  });
});

describe("forEachSchemaChild and mapSchemaChildren", () => {
  const node: JsonSchema = {
    type: "object",
    properties: { a: { type: "string" } },
    additionalProperties: false,
    anyOf: [{ required: ["a"] }],
    $defs: { D: { type: "integer" } },
    enum: [{ type: "not a child" }],
    const: { type: "nor this" },
    not: { type: "null" },
  };

  it("visits the schemas under schema keywords, never enum or const payloads", () => {
    const seen: string[] = [];
    forEachSchemaChild(node, (_, keyword, key) => seen.push(key === undefined ? keyword : `${keyword}.${key}`));
    expect(seen).toEqual(["additionalProperties", "not", "anyOf.0", "properties.a", "$defs.D"]);
  });

  it("maps children into a copy, leaving the node unchanged and key order intact", () => {
    const before = structuredClone(node);
    const out = mapSchemaChildren(node, (child, keyword) => (keyword === "additionalProperties" ? child : { mapped: child }));
    expect(node).toEqual(before);
    expect(Object.keys(out)).toEqual(Object.keys(node));
    expect(out.properties).toEqual({ a: { mapped: { type: "string" } } });
    expect(out.anyOf).toEqual([{ mapped: { required: ["a"] } }]);
    expect(out.additionalProperties).toBe(false);
    expect(out.enum).toBe(node.enum);
  });

  it("names children by field path", () => {
    expect(childFieldPath("", "properties", "contact")).toBe("contact");
    expect(childFieldPath("contact", "properties", "email")).toBe("contact.email");
    expect(childFieldPath("items", "items")).toBe("items[]");
    expect(childFieldPath("pair", "prefixItems", 1)).toBe("pair[1]");
    expect(childFieldPath("x", "$defs", "Place")).toBe("$defs.Place");
    expect(childFieldPath("x", "anyOf", 0)).toBe("x");
  });
});

describe("forEachLeaf and schemaAt", () => {
  const person: z.ZodType = z.object({
    name: z.string(),
    get parent() {
      return person.nullable();
    },
  });
  const json = toPromptJsonSchema(
    z.object({
      contact: z.object({ email: z.string().nullable() }).nullable(),
      items: z.array(z.object({ sku: z.string() })),
      pair: z.tuple([z.string(), z.number()]),
      tags: z.record(z.string(), z.boolean()),
      person,
    }),
  );

  it("visits leaves with their paths, descending only where asked, and ends at recursion", () => {
    const paths: string[] = [];
    forEachLeaf(json, (_, path) => paths.push(path.join(".")), (object) => "properties" in object);
    expect(paths).toEqual(["contact.email", "items", "pair", "tags", "person.name", "person.parent"]);
  });

  it("finds the schema of a value at a field path, through arrays, tuples, records and nullability", () => {
    expect(schemaAt(json, ["contact", "email"])).toEqual({ type: ["string", "null"] });
    expect(schemaAt(json, ["items", 3, "sku"])).toEqual({ type: "string" });
    expect(schemaAt(json, ["pair", 1])).toEqual({ type: "number" });
    expect(schemaAt(json, ["tags", "any key"])).toEqual({ type: "boolean" });
    expect(schemaAt(json, ["person", "parent", "parent", "name"])).toEqual({ type: "string" });
    expect(schemaAt(json, [])).toBe(json);
  });

  it("finds nothing where the schema says nothing", () => {
    expect(schemaAt(json, ["missing"])).toBeUndefined();
    expect(schemaAt(json, ["contact", "email", "deeper"])).toBeUndefined();
    expect(schemaAt(json, ["items", "sku"])).toBeUndefined();
  });
});
