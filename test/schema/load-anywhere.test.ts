/**
 * Schema files outside llm-extract's tree, and schemas made by another copy of zod. The temporary
 * folders live under os.tmpdir(), so no node_modules above them can lend a zod by accident; a
 * project's "own" zod is one of the pinned devDependency aliases (zod-4-1, zod3) linked in as
 * <project>/node_modules/zod.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { z as z41 } from "zod-4-1";
import { z as z3 } from "zod3";
import { ExtractError } from "../../src/errors/extract-error.js";
import { extractOne } from "../../src/api/extract.js";
import { estimateCsv } from "../../src/api/extract-csv.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { loadSchema } from "../../src/schema/load.js";
import { repoRoot, runCli } from "../helpers/run-cli.js";

const fixtures = path.join(repoRoot, "test/fixtures/schemas");

/** The fixture person.ts, with the zod import left to fill in. */
const person = (from: string, exportName = "z") => `import { ${exportName} as z } from "${from}";

export default z.object({
  name: z.string().describe("Full name"),
  age: z.int().nullable().describe("Age in years; null if not stated"),
});

export const instructions = "Names are written family name first.";
`;

let dir: string;
let inTree: Record<string, unknown>;

function write(file: string, text: string): string {
  const full = path.join(dir, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text);
  return full;
}

/** A project folder whose node_modules/zod is the given installed package. */
function projectWithZod(name: string, zodPackage: string): string {
  mkdirSync(path.join(dir, name, "node_modules"), { recursive: true });
  symlinkSync(path.join(repoRoot, "node_modules", zodPackage), path.join(dir, name, "node_modules/zod"), "dir");
  return path.join(dir, name);
}

async function loadError(ref: string, options = {}): Promise<ExtractError> {
  const error = await loadSchema(ref, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExtractError);
  return error as ExtractError;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "llm-extract-schemas-"));
  inTree = toPromptJsonSchema((await loadSchema(path.join(fixtures, "person.ts"))).schema);
  projectWithZod("zod41", "zod-4-1");
  projectWithZod("zod325", "zod3");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a schema file outside llm-extract's tree, where no zod is installed", () => {
  it.each([
    ["person.ts", "zod"],
    ["person.mts", "zod"],
    ["person.js", "zod"],
    ["person.mjs", "zod"],
    ["person-v4.ts", "zod/v4"],
  ])("%s importing %s loads with llm-extract's zod, giving the in-tree JSON Schema", async (file, from) => {
    const loaded = await loadSchema(write(`bare/${file}`, person(from)));
    expect(loaded.instructions).toBe("Names are written family name first.");
    expect(toPromptJsonSchema(loaded.schema)).toEqual(inTree);
    expect(inTree).toMatchObject({ properties: { name: { description: "Full name" } } });
  });

  it("loads through the built CLI, and the dry run's prompt keeps the descriptions", async () => {
    const schema = write("cli/schemas/person.ts", person("zod"));
    write("cli/in.csv", "text\nAna Lopez, 34\n");
    const run = await runCli(["in.csv", "--schema", schema, "--dry-run", "-m", "gpt-4o-mini"], { cwd: path.join(dir, "cli") });
    expect(run.stderr).not.toMatch(/SCHEMA_LOAD_FAILED/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Full name");
    expect(run.stdout).toContain("Age in years; null if not stated");
  });

  it("SCHEMA_LOAD_FAILED for another missing package names it and says to install it in the schema's project", async () => {
    const file = write("bare/needs-dep.ts", `import pad from "left-pad-not-installed";\nexport default pad;\n`);
    const error = await loadError(file);
    expect(error.code).toBe("SCHEMA_LOAD_FAILED");
    expect(error.message).toContain('imports "left-pad-not-installed"');
    expect(error.message).toContain("`npm install left-pad-not-installed`");
    expect(error.message).not.toContain("Fix the file");
  });
});

describe("a schema made by the project's own zod copy", () => {
  it.each([
    ["zod 4.1.0's zod", "zod41", "zod"],
    ["zod 3.25's zod/v4", "zod325", "zod/v4"],
  ])("%s: the JSON Schema and the system prompt keep every .describe()", async (_, project, from) => {
    const loaded = await loadSchema(write(`${project}/person.ts`, person(from)));
    expect(toPromptJsonSchema(loaded.schema)).toEqual(inTree);
    write(`${project}/in.csv`, "text\nAna Lopez, 34\n");
    const estimate = await estimateCsv(path.join(dir, project, "in.csv"), { schema: loaded.file, model: "gpt-4o-mini" });
    expect(estimate.firstMessages?.[0]?.content).toContain("Age in years; null if not stated");
  });

  it("zod 3's classic zod: SCHEMA_INVALID says it was made with zod 3 and how to get zod 4", async () => {
    const classic = `import { z } from "zod";\nexport default z.object({ name: z.string().describe("Full name") });\n`;
    const error = await loadError(write("zod325/classic.ts", classic));
    expect(error.code).toBe("SCHEMA_INVALID");
    expect(error.message).toContain(
      'this schema was made with zod 3; llm-extract needs zod 4 (import { z } from "zod" with zod 4, or "zod/v4" with zod 3.25)',
    );
    expect(error.message).not.toMatch(/is a (plain )?object/);
  });

  it("given inline to the library, a schema of another zod 4 copy keeps its descriptions", async () => {
    const schema = z41.object({ name: z41.string().describe("Full name"), age: z41.int().nullable().describe("Age in years; null if not stated") });
    write("inline.csv", "text\nAna Lopez, 34\n");
    const estimate = await estimateCsv(path.join(dir, "inline.csv"), { schema: schema as unknown as z.ZodObject, model: "gpt-4o-mini" });
    expect(estimate.firstMessages?.[0]?.content).toContain("Age in years; null if not stated");
    expect(toPromptJsonSchema(schema as unknown as z.ZodObject)).toEqual(inTree);
  });
});

describe("the library checks `schema` as the CLI does", () => {
  it.each([
    ["a number", 42, /`schema` is a number \(42\), not a zod object/],
    ["a function", () => 1, /`schema` is a function, not a zod object/],
    ["an empty object", {}, /`schema` is a plain object, not a zod object/],
    ["a zod string", z.string(), /`schema` is a zod string schema, not a zod object/],
    ["a zod 3 object", z3.object({ name: z3.string() }), /`schema`: this schema was made with zod 3; llm-extract needs zod 4/],
  ])("%s: SCHEMA_INVALID saying what it got", async (_, schema, message) => {
    // The schema is checked before any model call; this engine makes sure none leaves the process.
    const engine = { model: "none", complete: () => Promise.reject(new Error("no model call expected")) };
    const error = await extractOne("Ana", { schema: schema as unknown as z.ZodObject, engine }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: "SCHEMA_INVALID", message: expect.stringMatching(message) });
  });
});

describe("a path given as `schema`", () => {
  it("that is not in the working directory is taken from the schemas folder", async () => {
    const loaded = await loadSchema("person.ts", { cwd: dir, schemasDir: fixtures });
    expect(loaded.file).toBe(path.join(fixtures, "person.ts"));
  });

  it("SCHEMA_NOT_FOUND when in neither: names both places and the option, not a CLI flag", async () => {
    const error = await loadError("nobody.ts", { cwd: dir, schemasDir: fixtures });
    expect(error.code).toBe("SCHEMA_NOT_FOUND");
    expect(error.message).toContain(path.join(dir, "nobody.ts"));
    expect(error.message).toContain(path.join(fixtures, "nobody.ts"));
    expect(error.message).toMatch(/Check `schema`.*its schemas: .*person/);
    expect(error.message).not.toContain("--schema");
  });
});
