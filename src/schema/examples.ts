import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ExtractError } from "../errors/extract-error.js";
import type { ObjectSchema } from "./json-schema.js";

/**
 * One few-shot example: a row as the model sees it, and the record the model should give for it.
 * Examples are sent before every row as a user message (the input, encoded exactly as a row is)
 * and an assistant message (the output).
 */
export interface FewShotExample {
  /** The row: column name -> cell text, as a CSV row reaches the model. */
  input: Record<string, string>;
  /** The record the model should reply with; it must fit the schema. */
  output: Record<string, unknown>;
}

/** Where a list of examples came from, to name one of them in a message. */
export interface ExampleSource {
  /** The file they came from, if any. */
  file?: string;
  /** How to name the list as a whole: `` the `examples` export of ticket.ts ``. */
  list: string;
  /** How to name the example at `index`: `ticket.examples.jsonl:3`, `` `examples`[1] ``. */
  name: (index: number) => string;
  /** The 1-based line of the example at `index` in `file` (JSON Lines). */
  line?: (index: number) => number;
}

/** Examples as a JSON Lines file gives them, with where each one is. */
export interface ExampleLines {
  examples: unknown[];
  source: ExampleSource;
}

/** The file beside a schema file that holds its examples: `ticket.ts` -> `ticket.examples.jsonl`. */
export function siblingExamplesFile(schemaFile: string): string {
  return `${schemaFile.slice(0, schemaFile.lastIndexOf("."))}.examples.jsonl`;
}

/**
 * Reads a JSON Lines file of examples (one `{"input": {...}, "output": {...}}` per line; blank
 * lines are skipped). Undefined when `optional` and the file does not exist.
 * @throws ExtractError `INPUT_UNREADABLE` when the file cannot be read, `SCHEMA_INVALID` naming
 * the line that is not JSON.
 */
export async function readExamplesFile(file: string, optional = false): Promise<ExampleLines | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ExtractError("INPUT_UNREADABLE", `Cannot read the examples file ${file}: ${(error as Error).message}. Check \`examples\`.`, {
      file,
      cause: error,
    });
  }
  const examples: unknown[] = [];
  const lines: number[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    try {
      examples.push(JSON.parse(line));
    } catch (error) {
      throw new ExtractError("SCHEMA_INVALID", `Example ${file}:${i + 1} is not JSON: ${(error as Error).message}. Write one {"input": {...}, "output": {...}} object per line.`, {
        file,
        line: i + 1,
        cause: error,
      });
    }
    lines.push(i + 1);
  }
  return { examples, source: { file, list: file, name: (index) => `${file}:${lines[index]}`, line: (index) => lines[index]! } };
}

/**
 * Checks a list of examples: each is `{ input, output }`, its input an object of strings (a row),
 * its output a record that fits `schema` and has no field the schema lacks (a misspelt field
 * would teach the model to misspell it).
 * @throws ExtractError `SCHEMA_INVALID` naming the example (file and line, or index) and the field path.
 */
export function checkExamples(examples: unknown, schema: ObjectSchema, source: ExampleSource): FewShotExample[] {
  if (!Array.isArray(examples)) {
    throw new ExtractError("SCHEMA_INVALID", `${capitalized(source.list)} must be a list of { input, output } examples.`, { file: source.file });
  }
  return examples.map((example, index) => {
    const fail = (path: string, problem: string): never => {
      throw new ExtractError("SCHEMA_INVALID", `Example ${source.name(index)}: ${path ? `${path}: ` : ""}${problem}. Fix the example.`, {
        file: source.file,
        line: source.line?.(index),
        path: path || undefined,
      });
    };
    if (!isRecord(example)) return fail("", "must be an object with `input` and `output`");
    const { input, output } = example;
    if (!isRecord(input)) return fail("input", "must be an object of column names to cell texts, like a row");
    for (const [column, value] of Object.entries(input)) {
      if (typeof value !== "string") fail(z.core.toDotPath(["input", column]), `must be a string (a cell's text), got ${JSON.stringify(value)}`);
    }
    if (!isRecord(output)) return fail("output", "must be an object, the record the model should reply with");
    const parsed = schema.safeParse(output);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return fail(z.core.toDotPath(["output", ...issue.path]), issue.message);
    }
    const unknown = unknownField(output, parsed.data, ["output"]);
    if (unknown) fail(z.core.toDotPath(unknown), "is not a field of the schema");
    return { input: input as Record<string, string>, output };
  });
}

/**
 * The examples the `examples` option adds: those of a JSON Lines file (a path, taken from the
 * working directory) or of a list; none for `true` / `false`. Each checked like the schema's own.
 * @throws ExtractError `INPUT_UNREADABLE` for a file that cannot be read, `SCHEMA_INVALID` for a bad example.
 */
export async function addedExamples(option: boolean | string | readonly unknown[], schema: ObjectSchema): Promise<FewShotExample[]> {
  if (typeof option === "boolean") return [];
  if (typeof option !== "string") {
    return checkExamples(option, schema, { list: "`examples`", name: (index) => `\`examples\`[${index}]` });
  }
  const { examples, source } = (await readExamplesFile(path.resolve(option)))!;
  return checkExamples(examples, schema, source);
}

/**
 * Examples whose input is cut to `columns`, as each row's is, so that an example reads like the
 * rows it stands for (a column an example lacks is sent empty, as a CSV row's missing cell is).
 */
export function selectExampleColumns(examples: readonly FewShotExample[], columns: readonly string[] | undefined): FewShotExample[] {
  if (!columns) return [...examples];
  return examples.map(({ input, output }) => ({ input: Object.fromEntries(columns.map((column) => [column, input[column] ?? ""])), output }));
}

/** The path of the first key of `given` that validation dropped from `kept` (a field the schema lacks). */
function unknownField(given: unknown, kept: unknown, path: PropertyKey[]): PropertyKey[] | undefined {
  if (Array.isArray(given) && Array.isArray(kept) && given.length === kept.length) {
    for (const [i, item] of given.entries()) {
      const found = unknownField(item, kept[i], [...path, i]);
      if (found) return found;
    }
  } else if (isRecord(given) && isRecord(kept)) {
    for (const [key, value] of Object.entries(given)) {
      if (!Object.hasOwn(kept, key)) return [...path, key];
      const found = unknownField(value, kept[key], [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
