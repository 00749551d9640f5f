import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ExtractError } from "../../src/errors/extract-error.js";
import { addedExamples, checkExamples, readExamplesFile, selectExampleColumns, siblingExamplesFile } from "../../src/schema/examples.js";
import { loadSchema } from "../../src/schema/load.js";

const schema = z.object({
  name: z.string(),
  urgency: z.enum(["low", "high"]),
  items: z.array(z.object({ sku: z.string(), qty: z.int() })),
});
const good = { input: { text: "Ana: 2x A-1, urgent" }, output: { name: "Ana", urgency: "high", items: [{ sku: "A-1", qty: 2 }] } };
const listed = { list: "the list", name: (index: number) => `#${index}` };

function thrown(run: () => unknown): ExtractError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ExtractError);
    return error as ExtractError;
  }
  throw new Error("expected an ExtractError");
}

async function rejected(promise: Promise<unknown>): Promise<ExtractError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExtractError);
  return error as ExtractError;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "llm-extract-examples-"));
});

describe("checkExamples", () => {
  it("accepts examples whose output fits the schema, keeping them as written", () => {
    expect(checkExamples([good], schema, listed)).toEqual([good]);
  });

  it.each([
    ["a wrong enum value", { ...good, output: { ...good.output, urgency: "urgent" } }, "output.urgency", /Invalid option/],
    ["a wrong nested type", { ...good, output: { ...good.output, items: [{ sku: "A-1", qty: 1.5 }] } }, "output.items[0].qty", /int/],
    ["a missing field", { ...good, output: { name: "Ana", items: [] } }, "output.urgency", /expected/],
    ["a field the schema lacks", { ...good, output: { ...good.output, urgncy: "high" } }, "output.urgncy", /not a field of the schema/],
    ["a nested field the schema lacks", { ...good, output: { ...good.output, items: [{ sku: "A", qty: 1, colour: "red" }] } }, "output.items[0].colour", /not a field/],
    ["a cell that is not a string", { ...good, input: { text: "x", count: 2 } }, "input.count", /must be a string/],
    ["an input that is not an object", { ...good, input: "Ana" }, "input", /object of column names/],
  ])("is SCHEMA_INVALID for %s, naming the example and the field", (_, example, field, problem) => {
    const error = thrown(() => checkExamples([good, example], schema, listed));
    expect(error.code).toBe("SCHEMA_INVALID");
    expect(error.path).toBe(field);
    expect(error.message).toMatch(new RegExp(`^Example #1: ${field.replace(/[.[\]]/g, "\\$&")}: `));
    expect(error.message).toMatch(problem);
  });

  it("is SCHEMA_INVALID for something that is not a list", () => {
    const error = thrown(() => checkExamples({ input: {} }, schema, listed));
    expect(error.message).toBe("The list must be a list of { input, output } examples.");
  });
});

describe("readExamplesFile", () => {
  it("reads one example per line, skipping blank lines, and names a bad one by file and line", async () => {
    const file = path.join(dir, "lines.jsonl");
    const bad = { ...good, output: { ...good.output, urgency: "urgent" } };
    await writeFile(file, `${JSON.stringify(good)}\n\n${JSON.stringify(bad)}\n`);
    const { examples, source } = (await readExamplesFile(file))!;
    expect(examples).toEqual([good, bad]);
    const error = thrown(() => checkExamples(examples, schema, source));
    expect(error.message).toMatch(new RegExp(`^Example ${file}:3: output\\.urgency: Invalid option`));
    expect(error).toMatchObject({ code: "SCHEMA_INVALID", file, line: 3, path: "output.urgency" });
  });

  it("is SCHEMA_INVALID at the line that is not JSON, INPUT_UNREADABLE for a missing file", async () => {
    const file = path.join(dir, "broken.jsonl");
    await writeFile(file, `${JSON.stringify(good)}\n{"input": {"text": "x"}, "output": \n`);
    expect(await rejected(readExamplesFile(file))).toMatchObject({ code: "SCHEMA_INVALID", file, line: 2 });
    const missing = await rejected(readExamplesFile(path.join(dir, "missing.jsonl")));
    expect(missing.code).toBe("INPUT_UNREADABLE");
    expect(await readExamplesFile(path.join(dir, "missing.jsonl"), true)).toBeUndefined();
  });
});

describe("addedExamples and selectExampleColumns", () => {
  it("adds the examples of a list (named by index) or of a file; none for true or false", async () => {
    expect(await addedExamples([good], schema)).toEqual([good]);
    expect(await addedExamples(true, schema)).toEqual([]);
    expect(await addedExamples(false, schema)).toEqual([]);
    const error = await rejected(addedExamples([good, { input: {}, output: {} }], schema));
    expect(error.message).toMatch(/^Example `examples`\[1\]: output\.name: /);
  });

  it("cuts an example's input to the columns a row sends, in their order", () => {
    const example = { input: { id: "7", body: "text", channel: "email" }, output: good.output };
    expect(selectExampleColumns([example], ["body", "subject"])).toEqual([{ input: { body: "text", subject: "" }, output: good.output }]);
    expect(selectExampleColumns([example], undefined)).toEqual([example]);
  });
});

describe("loadSchema reads a schema's examples", () => {
  const schemaFile = `import { z } from "zod";
export default z.object({ name: z.string(), urgency: z.enum(["low", "high"]) });
export const examples = [{ input: { text: "Ana, urgent" }, output: { name: "Ana", urgency: "high" } }];
`;

  it("from its examples export, then the lines of <schema>.examples.jsonl beside it", async () => {
    const file = path.join(dir, "shots.ts");
    await writeFile(file, schemaFile);
    await writeFile(siblingExamplesFile(file), `${JSON.stringify({ input: { text: "Bo, whenever" }, output: { name: "Bo", urgency: "low" } })}\n`);
    expect(siblingExamplesFile(file)).toBe(path.join(dir, "shots.examples.jsonl"));
    const loaded = await loadSchema("shots", { schemasDir: dir });
    expect(loaded.examples.map((example) => example.output.name)).toEqual(["Ana", "Bo"]);
    expect((await loadSchema("shots", { schemasDir: dir, examples: false })).examples).toEqual([]);
  });

  it("fails with SCHEMA_INVALID naming the export's index, unless examples are turned off", async () => {
    const file = path.join(dir, "wrong.ts");
    await writeFile(file, schemaFile.replace('urgency: "high"', 'urgency: "asap"'));
    const error = await rejected(loadSchema("wrong", { schemasDir: dir }));
    expect(error.message).toMatch(new RegExp(`^Example examples\\[0\\] of ${file}: output\\.urgency: Invalid option`));
    expect(error).toMatchObject({ code: "SCHEMA_INVALID", file, path: "output.urgency" });
    expect((await loadSchema("wrong", { schemasDir: dir, examples: false })).examples).toEqual([]);
  });

  it("gives a .json schema the examples beside it; the shipped schemas have two each, all valid", async () => {
    const file = path.join(dir, "contact.json");
    await writeFile(file, JSON.stringify({ type: "object", properties: { email: { type: "string" } }, required: ["email"] }));
    await writeFile(siblingExamplesFile(file), `${JSON.stringify({ input: { text: "mail a@b.example" }, output: { email: "a@b.example" } })}\n`);
    expect((await loadSchema(file)).examples).toHaveLength(1);
    for (const name of ["ticket", "invoice", "job"]) {
      expect((await loadSchema(name, { schemasDir: path.resolve("schemas") })).examples).toHaveLength(2);
    }
  });
});
