/**
 * The cost of source grounding per row: `groundRecord()` on every row of each shipped example
 * (the cells the model sees), with a plausible record per row made from the row itself. Most
 * strings are phrases of the row (found exactly, or after normalization when re-cased), one in
 * four is a sentence of words the row lacks (so the fuzzy pass runs over every cell and fails:
 * the costliest path, as a `summary` field takes); numbers are ones the row writes, or not.
 *
 *   npm run build && node bench/grounding.mjs
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { groundRecord, loadSchema, toPromptJsonSchema } from "../dist/index.js";
import { root } from "./lib.mjs";

/** Each shipped schema with the example CSV written for it. */
const SHIPPED = [
  ["ticket", "examples/tickets.csv"],
  ["invoice", "examples/invoices.csv"],
  ["job", "examples/jobs.csv"],
];
/** Words of sentences no row holds as such (each invented value draws its own, so no two are alike). */
const INVENTED = "the customer would like a prompt answer about the matter raised and a refund of the amount paid".split(" ");

/**
 * Microseconds of `groundRecord()` per row, for each example: `coldMicrosPerRow` over the first
 * `rounds` passes over its rows (warm-up included), `microsPerRow` over the next `rounds`.
 */
export async function groundingCost({ rounds = 200 } = {}) {
  const results = [];
  for (const [name, csv] of SHIPPED) {
    const loaded = await loadSchema(name, { schemasDir: path.join(root, "schemas") });
    const jsonSchema = toPromptJsonSchema(loaded.schema);
    const rows = parse(readFileSync(path.join(root, csv)), { columns: true });
    const records = rows.map((row, index) => [row, plausibleRecord(jsonSchema, jsonSchema, Object.values(row).join(" "), index)]);
    let spans = 0;
    let ungrounded = 0;
    for (const [row, data] of records) {
      const grounding = groundRecord(row, data, jsonSchema);
      spans += grounding.spans.length;
      ungrounded += grounding.ungrounded.length;
    }
    // CPU time of this process, not wall time: the machine's other work does not count. The
    // first `rounds` passes include V8's warm-up (interpreter, then compiling the hot code), which
    // a run pays once, in its first few thousand rows; the next `rounds` passes are what a row
    // costs for the rest of a long run, the figure the target is about.
    const passes = () => {
      const cpu = process.cpuUsage();
      for (let round = 0; round < rounds; round++) for (const [row, data] of records) groundRecord(row, data, jsonSchema);
      const used = process.cpuUsage(cpu);
      return +((used.user + used.system) / (rounds * records.length)).toFixed(1);
    };
    const coldMicrosPerRow = passes();
    const microsPerRow = passes();
    const cellChars = records.reduce((sum, [row]) => sum + Object.values(row).join("").length, 0) / records.length;
    results.push({ schema: name, rows: records.length, cellChars: Math.round(cellChars), spansPerRow: spans / records.length, ungroundedPerRow: ungrounded / records.length, coldMicrosPerRow, microsPerRow });
  }
  return results;
}

/** A record of the schema's shape whose values come from `text` (or, one in four, do not). */
function plausibleRecord(node, rootSchema, text, seed) {
  const words = text.split(/\s+/).filter(Boolean);
  const numbers = text.match(/\d+(?:[.,]\d+)?/g) ?? [];
  let counter = seed;
  const next = () => (counter = (Math.imul(counter, 1_664_525) + 1_013_904_223) >>> 0) >>> 8;
  const fill = (schema) => {
    if (schema.$ref) return fill(resolve(rootSchema, schema.$ref));
    const branches = schema.anyOf ?? schema.oneOf;
    if (branches) return fill(branches.find((branch) => branch.type !== "null") ?? branches[0]);
    if (schema.enum) return schema.enum[0];
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
    if (type === "object") return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, child]) => [key, fill(child)]));
    if (type === "array") return [fill(schema.items ?? {}), fill(schema.items ?? {})];
    if (type === "boolean") return true;
    if (type === "number" || type === "integer") {
      const written = numbers[next() % Math.max(1, numbers.length)];
      return next() % 4 === 0 || !written ? 42 : Number(written.replace(",", "."));
    }
    if (schema.format === "date") return "2024-03-04";
    if (next() % 4 === 0 || words.length < 3) return Array.from({ length: 8 }, () => INVENTED[next() % INVENTED.length]).join(" ");
    const start = next() % (words.length - 2);
    const phrase = words.slice(start, start + 1 + (next() % 3)).join(" ");
    return next() % 3 === 0 ? phrase.toUpperCase() : phrase;
  };
  return fill(node);
}

function resolve(rootSchema, ref) {
  return ref.slice(2).split("/").reduce((node, key) => node[key], rootSchema);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const result of await groundingCost()) console.log(JSON.stringify(result));
}
