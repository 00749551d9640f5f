import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ExtractError } from "../../src/errors/extract-error.js";
import { listSchemas, loadSchema } from "../../src/schema/load.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = path.join(root, "test/fixtures/schemas");

async function loadError(ref: string, options = { schemasDir: fixtures }): Promise<ExtractError> {
  const error = await loadSchema(ref, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExtractError);
  return error as ExtractError;
}

describe("loadSchema", () => {
  it("finds a schema by name in the schemas folder, with its instructions", async () => {
    const loaded = await loadSchema("person", { schemasDir: fixtures });
    expect(loaded.file).toBe(path.join(fixtures, "person.ts"));
    expect(loaded.instructions).toBe("Names are written family name first.");
    expect(loaded.schema.parse({ name: "Ana", age: null })).toEqual({ name: "Ana", age: null });
  });

  it("finds a name in ./schemas of the working directory, and in $EXTRACT_SCHEMAS_DIR", async () => {
    const fromCwd = await loadSchema("ticket", { cwd: root });
    expect(Object.keys(fromCwd.schema.shape)).toContain("urgency");
    process.env.EXTRACT_SCHEMAS_DIR = fixtures;
    try {
      expect((await loadSchema("person", { cwd: "/" })).file).toBe(path.join(fixtures, "person.ts"));
    } finally {
      delete process.env.EXTRACT_SCHEMAS_DIR;
    }
  });

  it("loads a path to a .ts, .mjs or .json file relative to cwd", async () => {
    const ts = await loadSchema("test/fixtures/schemas/person.ts", { cwd: root });
    expect(Object.keys(ts.schema.shape)).toEqual(["name", "age"]);
    const json = await loadSchema("test/fixtures/schemas/contact.json", { cwd: root });
    expect(json.schema.safeParse({ email: null, plan: "pro" }).success).toBe(true);
    expect(json.schema.safeParse({ email: "a@b.c", plan: "gold" }).success).toBe(false);
  });

  it("SCHEMA_NOT_FOUND for an unknown name lists the schemas that exist", async () => {
    const error = await loadError("persno");
    expect(error.code).toBe("SCHEMA_NOT_FOUND");
    expect(error.message).toContain("persno");
    expect(error.message).toMatch(/Available schemas: .*contact.*person/);
  });

  it("SCHEMA_NOT_FOUND for a path that does not exist", async () => {
    const error = await loadError("./nowhere/x.ts");
    expect(error.code).toBe("SCHEMA_NOT_FOUND");
    expect(error.message).toContain("nowhere/x.ts");
  });

  it("SCHEMA_LOAD_FAILED for a syntax error, with file, line and column", async () => {
    const error = await loadError("syntax-error");
    expect(error.code).toBe("SCHEMA_LOAD_FAILED");
    expect(error.file).toBe(path.join(fixtures, "syntax-error.ts"));
    expect(error.line).toBe(4);
    expect(error.message).toContain(`syntax-error.ts:4:`);
  });

  it("SCHEMA_LOAD_FAILED for a file that throws on import, with the line that threw", async () => {
    const error = await loadError("throws-on-import");
    expect(error.code).toBe("SCHEMA_LOAD_FAILED");
    expect(error.line).toBe(4);
    expect(error.message).toMatch(/throws-on-import\.ts:4:\d+ failed to load: .*optional/);
  });

  it.each([
    ["no-default", /no default export/],
    ["not-object", /is a zod array schema, not a zod object/],
    ["not-zod", /is a plain object, not a zod object/],
  ])("SCHEMA_INVALID when %s", async (name, message) => {
    const error = await loadError(name);
    expect(error.code).toBe("SCHEMA_INVALID");
    expect(error.message).toMatch(message);
  });

  it("SCHEMA_LOAD_FAILED for a .json file that is not JSON, with line and column", async () => {
    const error = await loadError("broken");
    expect(error.code).toBe("SCHEMA_LOAD_FAILED");
    expect(error.line).toBe(3);
    expect(error.column).toBeGreaterThan(1);
  });

  it("lists schema names without extensions", async () => {
    expect(await listSchemas(path.join(root, "schemas"))).toEqual(expect.arrayContaining(["invoice", "job", "ticket"]));
    expect(await listSchemas(path.join(root, "no-such-dir"))).toEqual([]);
  });
});

describe("toPromptJsonSchema", () => {
  it("is compact: no $schema, no safe-integer bounds, descriptions kept", async () => {
    const { schema } = await loadSchema("person", { schemasDir: fixtures });
    const json = toPromptJsonSchema(schema);
    expect(json).toEqual({
      type: "object",
      properties: {
        name: { type: "string", description: "Full name" },
        age: { type: ["integer", "null"], description: "Age in years; null if not stated" },
      },
      required: ["name", "age"],
    });
  });

  it("SCHEMA_INVALID names the field that JSON Schema cannot express", async () => {
    const { schema } = await loadSchema("unrepresentable", { schemasDir: fixtures });
    const error = (() => {
      try {
        toPromptJsonSchema(schema);
      } catch (e) {
        return e as ExtractError;
      }
    })();
    expect(error?.code).toBe("SCHEMA_INVALID");
    expect(error?.path).toBe("address.since");
    expect(error?.message).toContain("`address.since`");
  });
});
