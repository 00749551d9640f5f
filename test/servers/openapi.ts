/**
 * Validation of wire bodies against the official OpenAI OpenAPI description
 * (`../shared/openai/openapi.json`, next to the repository; never copied into it).
 *
 * The document is OpenAPI 3.1 (JSON Schema 2020-12) with OpenAPI 3.0 leftovers: `nullable`,
 * which ajv only accepts next to `type`, so it is rewritten to `anyOf: [schema, {type: "null"}]`.
 * Other vendor keywords (`discriminator`, `x-oai*`, `example`, ...) are ignored (`strict: false`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import formatsPlugin from "ajv-formats";

const REF_PREFIX = "#/components/schemas/";
/** Components are registered one by one under absolute ids, so refs are rewritten to those. */
const ID_PREFIX = "urn:openai:schemas:";
/** Keywords whose values are data, not schemas: their contents must stay untouched. */
const DATA_KEYWORDS = new Set(["enum", "const", "default", "example", "examples"]);

/**
 * Path of the OpenAPI document: `$OPENAI_OPENAPI_PATH`, else `../shared/openai/openapi.json`
 * relative to the repository root (two levels above this file).
 */
export function openApiPath(): string {
  const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
  return process.env.OPENAI_OPENAPI_PATH ?? path.resolve(repoRoot, "../shared/openai/openapi.json");
}

// Module-level cache: the 3.4 MB document is parsed once per process (per vitest worker
// module graph), and each component is converted and compiled only when first needed.
let components: Record<string, unknown> | undefined;
let ajv: Ajv2020 | undefined;
const registered = new Set<string>();
const validators = new Map<string, (value: unknown) => string[]>();

function loadComponents(): Record<string, unknown> {
  if (components) return components;
  const file = openApiPath();
  let doc: { components?: { schemas?: Record<string, unknown> } };
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`Cannot read the OpenAI OpenAPI description at ${file} (set OPENAI_OPENAPI_PATH)`, { cause });
  }
  components = doc.components?.schemas ?? {};
  return components;
}

/** Copies a schema with `nullable` made standard and component refs made absolute; collects the refs. */
function convert(node: unknown, refs: string[]): unknown {
  if (Array.isArray(node)) return node.map((item) => convert(item, refs));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "nullable") continue;
    if (DATA_KEYWORDS.has(key) || key.startsWith("x-")) {
      out[key] = value;
    } else if (key === "$ref" && typeof value === "string" && value.startsWith(REF_PREFIX)) {
      refs.push(value.slice(REF_PREFIX.length));
      out[key] = ID_PREFIX + value.slice(REF_PREFIX.length);
    } else {
      out[key] = convert(value, refs);
    }
  }
  return (node as { nullable?: unknown }).nullable === true ? { anyOf: [out, { type: "null" }] } : out;
}

/** Registers `name` and every component it reaches, so ajv compiles only that closure. */
function register(compiler: Ajv2020, name: string): void {
  const all = loadComponents();
  const pending = [name];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (registered.has(next)) continue;
    const schema = all[next];
    if (schema === undefined) throw new Error(`OpenAPI component not found: ${next}`);
    const refs: string[] = [];
    compiler.addSchema({ ...(convert(schema, refs) as object), $id: ID_PREFIX + next });
    registered.add(next);
    pending.push(...refs);
  }
}

function getAjv(): Ajv2020 {
  if (ajv) return ajv;
  // validateSchema: false skips meta-validating each component (it only costs time here).
  ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  formatsPlugin.default(ajv);
  ajv.addFormat("unixtime", { type: "number", validate: Number.isInteger });
  return ajv;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  // allErrors reports every failed oneOf branch; identical lines add nothing.
  return [...new Set((errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? e.keyword}`))];
}

/**
 * A compiled validator for `#/components/schemas/<componentName>`; it returns ajv's errors as
 * `"<instancePath> <message>"` lines, `[]` when the value is valid. Compiled once per process.
 * @example openApiValidator("CreateChatCompletionRequest")(body) // => []
 */
export function openApiValidator(componentName: string): (value: unknown) => string[] {
  const cached = validators.get(componentName);
  if (cached) return cached;
  const compiler = getAjv();
  register(compiler, componentName);
  const validate = compiler.getSchema(ID_PREFIX + componentName);
  if (!validate) throw new Error(`OpenAPI component did not compile: ${componentName}`);
  const check = (value: unknown): string[] => (validate(value) ? [] : formatErrors(validate.errors));
  validators.set(componentName, check);
  return check;
}

/**
 * Validates `value` against `#/components/schemas/<componentName>` of the OpenAPI description.
 * @returns the errors as `"<instancePath> <message>"` lines, `[]` when valid
 * @example expect(validateAgainstOpenApi("CreateChatCompletionResponse", json)).toEqual([])
 */
export function validateAgainstOpenApi(componentName: string, value: unknown): string[] {
  return openApiValidator(componentName)(value);
}

/**
 * The top-level property names a component declares, through its `allOf` chain. The real API
 * answers 400 "Unrecognized request argument" for any other field, which the OpenAPI schema
 * itself does not forbid (it sets no `additionalProperties: false`).
 */
export function declaredProperties(componentName: string): Set<string> {
  const all = loadComponents();
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    const schema = node as { $ref?: string; properties?: object; allOf?: unknown[] };
    if (typeof schema.$ref === "string" && schema.$ref.startsWith(REF_PREFIX)) visit(all[schema.$ref.slice(REF_PREFIX.length)]);
    for (const key of Object.keys(schema.properties ?? {})) names.add(key);
    for (const part of schema.allOf ?? []) visit(part);
  };
  visit(all[componentName]);
  return names;
}

