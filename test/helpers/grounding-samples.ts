/**
 * Records to ground, made the same way on every call (a seeded generator): for each row of the
 * shipped examples, and for a few rows in other scripts (emoji, CJK, combining accents, dotted
 * capital I, no-break spaces), several records of the schema's shape whose values take every
 * path grounding has: phrases as written, re-cased, re-spaced, wrapped in punctuation, cut inside
 * a word, missing a word or with one added (fuzzy), scattered words, invented sentences, repeats,
 * dates, and numbers as written, in other forms, or absent.
 *
 * `test/fixtures/grounding/write-expected.ts` grounded them once with the implementation they
 * guard, and `test/quality/grounding.test.ts` checks that today's gives the same answers.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { z } from "zod";
import { loadSchema } from "../../src/schema/load.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import type { JsonSchema } from "../../src/schema/walk.js";
import { repoRoot } from "./run-cli.js";

/** One record to ground, with the schema it is grounded against. */
export interface GroundingSample {
  /** `<example>#<row>.<variant>`, to name a sample that differs. */
  name: string;
  record: Record<string, unknown>;
  data: unknown;
  jsonSchema: JsonSchema;
}

const EXAMPLES = [
  ["ticket", "examples/tickets.csv"],
  ["invoice", "examples/invoices.csv"],
  ["job", "examples/jobs.csv"],
] as const;

/** Rows in scripts and spacings the examples lack. */
const OTHER_SCRIPTS: Record<string, string>[] = [
  { subject: "👍🏽 great, thanks Zoë", body: "Order #A-12 for 3 mugs 😀 at $1,234.50.\n\nZoë  Müller\tBerlin" },
  { subject: "注文番号について", body: "田中太郎です。注文 12345 の商品が届きません。東京都 渋谷区" },
  { subject: "Cafe\u0301 Rene\u0301", body: "Cafe\u0301 René here: İstanbul office, STRASSE 5, total 1.234,56 €" },
  { subject: "ÉTÉ\u00a0\u00a0sale", body: "tab\there\u2028line   ÉTÉ  deals; ﬁle ﬂow, Ǆ digraph, ΣΊΣΥΦΟΣ 99.5%" },
];
const otherSchema = toPromptJsonSchema(
  z.object({ a: z.string(), b: z.string().nullable(), tags: z.array(z.string()), n: z.number(), m: z.number().nullable(), when: z.iso.date() }),
);

/** Words of sentences no row holds. */
const INVENTED = "the customer would like a prompt answer about the matter raised and a refund of the amount paid".split(" ");
const VARIANTS = 6;

/** Every sample, in a fixed order. */
export async function groundingSamples(): Promise<GroundingSample[]> {
  const samples: GroundingSample[] = [];
  for (const [name, csv] of EXAMPLES) {
    const loaded = await loadSchema(name, { schemasDir: path.join(repoRoot, "schemas") });
    const jsonSchema = toPromptJsonSchema(loaded.schema);
    const rows = parse(readFileSync(path.join(repoRoot, csv)), { columns: true }) as Record<string, string>[];
    rows.forEach((record, row) => addVariants(samples, `${name}#${row}`, record, jsonSchema));
  }
  OTHER_SCRIPTS.forEach((record, row) => addVariants(samples, `other#${row}`, record, otherSchema));
  return samples;
}

function addVariants(samples: GroundingSample[], name: string, record: Record<string, string>, jsonSchema: JsonSchema): void {
  const text = Object.values(record).join(" ");
  for (let variant = 0; variant < VARIANTS; variant++) {
    const seed = samples.length * 7919 + variant;
    samples.push({ name: `${name}.${variant}`, record, data: sampleRecord(jsonSchema, text, seed), jsonSchema });
  }
}

/** A record of the schema's shape, each value made one of the ways listed above. */
function sampleRecord(rootSchema: JsonSchema, text: string, seed: number): unknown {
  const words = text.split(/\s+/).filter(Boolean);
  const numbers = text.match(/\d+(?:[.,]\d+)?/g) ?? ["7"];
  let state = seed >>> 0;
  const next = (below: number): number => ((state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) >>> 8) % below;
  const strings: string[] = [];
  const phrase = (length: number): string[] => {
    const start = next(Math.max(1, words.length - length));
    return words.slice(start, start + length);
  };
  const invented = (length: number): string[] => Array.from({ length }, () => INVENTED[next(INVENTED.length)]!);

  const makeString = (): string => {
    switch (next(12)) {
      case 0: return phrase(1 + next(4)).join(" ");
      case 1: return phrase(1 + next(4)).join(" ").toUpperCase();
      case 2: return `  (${phrase(1 + next(3)).join("  ").toLowerCase()}).`;
      case 3: { const words = phrase(4 + next(3)); words.splice(1 + next(words.length - 2), 1); return words.join(" "); }
      case 4: { const words = phrase(3 + next(3)); words.splice(1 + next(words.length - 1), 0, invented(1)[0]!); return words.join(" "); }
      case 5: return invented(2 + next(8)).join(" ");
      case 6: return strings.length > 0 ? strings[next(strings.length)]! : phrase(2).join(" ");
      case 7: return Array.from({ length: 3 + next(3) }, () => words[next(words.length)]!).join(" ");
      case 8: { const start = next(Math.max(1, text.length - 12)); return text.slice(start, start + 2 + next(10)); }
      case 9: return phrase(2 + next(3)).join("\n");
      case 10: return [...phrase(2 + next(2)), ...invented(1 + next(2)), ...phrase(2)].join(" ");
      default: return next(2) === 0 ? "2024-03-04" : "·!";
    }
  };
  const makeNumber = (): number => {
    const written = numbers[next(numbers.length)]!;
    switch (next(5)) {
      case 0: return 42;
      case 1: return -Number(written.replace(",", "."));
      case 2: return Number(written.replace(/[.,]/, ""));
      default: return Number(written.replace(",", "."));
    }
  };
  const fill = (schema: JsonSchema): unknown => {
    if (typeof schema.$ref === "string") return fill(resolve(rootSchema, schema.$ref));
    const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (branches) return next(6) === 0 ? null : fill(branches.find((branch) => branch.type !== "null") ?? branches[0]!);
    if (Array.isArray(schema.enum)) return schema.enum[next(schema.enum.length)];
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
    if (type === "object") {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(Object.entries(properties).map(([key, child]) => [key, fill(child)]));
    }
    if (type === "array") return Array.from({ length: next(4) }, () => fill((schema.items ?? {}) as JsonSchema));
    if (type === "boolean") return next(2) === 0;
    if (type === "number" || type === "integer") return makeNumber();
    if (schema.format === "date") return next(2) === 0 ? "2024-03-04" : phrase(2).join(" ");
    const value = makeString();
    strings.push(value);
    return value;
  };
  return fill(rootSchema);
}

function resolve(rootSchema: JsonSchema, ref: string): JsonSchema {
  return ref.slice(2).split("/").reduce((node: JsonSchema, key) => node[key] as JsonSchema, rootSchema);
}
