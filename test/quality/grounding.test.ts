import { describe, expect, it } from "vitest";
import { z } from "zod";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { readFileSync } from "node:fs";
import { formatFieldPath, groundRecord, type Span } from "../../src/quality/grounding.js";
import { groundingSamples } from "../helpers/grounding-samples.js";

const person = toPromptJsonSchema(z.object({ name: z.string().nullable(), company: z.string().nullable() }));
const spanOf = (text: string, span: Span) => Array.from(text).slice(span.start, span.end).join("");

describe("groundRecord: how a value is found", () => {
  it("finds a value as written, and says where in code points", () => {
    const body = "Hi, I'm Ana Lima from Acme.";
    const { spans, ungrounded } = groundRecord({ body }, { name: "Ana Lima", company: "Acme" }, person);
    expect(spans).toEqual([
      { path: "name", column: "body", start: 8, end: 16, match: "exact" },
      { path: "company", column: "body", start: 22, end: 26, match: "exact" },
    ]);
    expect(ungrounded).toEqual([]);
  });

  it("finds a value after NFC, case folding, whitespace collapsing and edge punctuation (normalized)", () => {
    const body = "from:  ACME\n  Corp, and ana";
    const { spans } = groundRecord({ body }, { name: "Ana.", company: "Acme Corp." }, person);
    expect(spans.map((span) => [span.path, span.match, spanOf(body, span)])).toEqual([
      ["name", "normalized", "ana"],
      ["company", "normalized", "ACME\n  Corp"],
    ]);
  });

  it("finds most of a value's words close together (fuzzy), and not words scattered far apart", () => {
    const schema = toPromptJsonSchema(z.object({ action: z.string(), other: z.string() }));
    const body = "Please refund the duplicate charges today. Refund is a word; later, much later, somewhere a duplicate of something, then a charge.";
    const { spans, ungrounded } = groundRecord(
      { body },
      { action: "refund duplicate charge", other: "refund duplicate charge policy wording" },
      schema,
    );
    expect(spans).toHaveLength(1);
    expect([spans[0]!.path, spans[0]!.match, spanOf(body, spans[0]!)]).toEqual(["action", "fuzzy", "refund the duplicate charges"]);
    expect(ungrounded).toEqual(["other"]);
  });

  it("does not ground a value inside a longer word, except in scripts written without spaces", () => {
    const schema = toPromptJsonSchema(z.object({ a: z.string(), b: z.string() }));
    const { spans, ungrounded } = groundRecord({ body: "Banana, 東京都に住む" }, { a: "Ana", b: "東京" }, schema);
    expect(ungrounded).toEqual(["a"]);
    expect(spans).toEqual([{ path: "b", column: "body", start: 8, end: 10, match: "exact" }]);
  });

  it("maps repeated values to successive occurrences, then back to the first when the source has fewer", () => {
    const schema = toPromptJsonSchema(z.object({ tags: z.array(z.string()) }));
    const body = "Acme ordered; Acme paid";
    const { spans } = groundRecord({ body }, { tags: ["Acme", "Acme", "Acme"] }, schema);
    expect(spans.map((span) => [span.path, span.start, span.match])).toEqual([
      ["tags[0]", 0, "exact"],
      ["tags[1]", 14, "exact"],
      ["tags[2]", 0, "exact"],
    ]);
  });

  it("keeps mapping repeats to successive occurrences in a record of many values", () => {
    const schema = toPromptJsonSchema(z.object({ tags: z.array(z.string()) }));
    const words = Array.from({ length: 40 }, (_, index) => `w${index}`);
    const body = `${words.join(" ")} w0 w1`;
    const { spans } = groundRecord({ body }, { tags: [...words, "w0", "W1", "w0"] }, schema);
    expect(spans.slice(40).map((span) => [span.path, span.start, span.match])).toEqual([
      ["tags[40]", body.indexOf("w0 w1", 100), "exact"],
      ["tags[41]", body.indexOf("w1", body.indexOf("w0 w1", 100)), "normalized"],
      ["tags[42]", 0, "exact"],
    ]);
  });

  it("prefers an exact occurrence to a normalized one, wherever it is", () => {
    const { spans } = groundRecord({ body: "ACME ordered; Acme paid" }, { name: null, company: "Acme" }, person);
    expect(spans).toEqual([{ path: "company", column: "body", start: 14, end: 18, match: "exact" }]);
  });

  it("searches the columns the model saw in order, and names the column", () => {
    const { spans } = groundRecord({ subject: "Order", from: "Ana Lima <ana@x.io>" }, { name: "Ana Lima", company: null }, person);
    expect(spans).toEqual([{ path: "name", column: "from", start: 0, end: 8, match: "exact" }]);
  });
});

describe("groundRecord: offsets in code points", () => {
  it.each([
    ["emoji before the value", "👍🏽 great, thanks Zoë", "Zoë", 17],
    ["CJK", "注文番号について、田中太郎です", "田中太郎", 9],
    // "e" + U+0301 is two code points, as in Python; the composed "René" is found first (exact).
    ["combining accents written apart", "Cafe\u0301 Rene\u0301 here: René", "René", 18],
  ])("counts %s as Python does", (_name, body, name, start) => {
    const [span] = groundRecord({ body }, { name, company: null }, person).spans;
    expect(span!.start).toBe(start);
    // Python: body[start:end] is the matched text.
    expect(spanOf(body, span!).normalize("NFC")).toBe(name);
  });

  it("gives the span of a decomposed accent in the source's own code points (normalized)", () => {
    const body = "Cafe\u0301 ok";
    const [span] = groundRecord({ body }, { name: "Café", company: null }, person).spans;
    expect(span).toMatchObject({ start: 0, end: 5, match: "normalized" });
  });
});

describe("groundRecord: numbers", () => {
  const invoice = toPromptJsonSchema(z.object({ total: z.number(), tax: z.number().nullable(), qty: z.int().nullable() }));

  it.each([
    ["1234.5", "Total 1234.5 due", "exact", "1234.5"],
    ["1,234.50", "Total: 1,234.50", "normalized", "1,234.50"],
    ["$1,234.50", "Total: $1,234.50 (paid)", "normalized", "$1,234.50"],
    ["1.234,50 €", "Summe 1.234,50 €", "normalized", "1.234,50"],
    ["CHF 1'234.50", "Total CHF 1'234.50", "normalized", "1'234.50"],
  ])("finds 1234.5 written as %s", (_form, body, match, text) => {
    const { spans } = groundRecord({ body }, { total: 1234.5, tax: null, qty: null }, invoice);
    expect(spans).toHaveLength(1);
    expect(spans[0]!.match).toBe(match);
    expect(spanOf(body, spans[0]!)).toBe(text);
  });

  it("finds a number only as a whole written number, and flags one written nowhere", () => {
    const body = "Order #12345, 2 mugs, total -12.50";
    const { spans, ungrounded } = groundRecord({ body }, { total: -12.5, tax: 5, qty: 2 }, invoice);
    expect(spans.map((span) => [span.path, spanOf(body, span)])).toEqual([
      ["total", "-12.50"],
      ["qty", "2"],
    ]);
    expect(ungrounded).toEqual(["tax"]);
  });
});

describe("groundRecord: what is not expected verbatim", () => {
  const ticket = toPromptJsonSchema(
    z.object({
      urgency: z.enum(["low", "high"]),
      kind: z.literal("ticket"),
      vip: z.boolean(),
      due: z.iso.date().nullable(),
      seen: z.string(),
      note: z.string(),
    }),
  );

  it("skips enums, consts and booleans, and never flags a reformatted date", () => {
    const body = "Low priority. Due March 4, 2024. Seen 2024-03-01.";
    const data = { urgency: "high", kind: "ticket", vip: true, due: "2024-03-04", seen: "2024-03-01", note: "invented" };
    const { spans, ungrounded } = groundRecord({ body }, data, ticket);
    expect(spans.map((span) => [span.path, span.match])).toEqual([["seen", "exact"]]);
    expect(ungrounded).toEqual(["note"]);
  });

  it("skips null and empty values, and grounds inside nested objects and arrays of objects", () => {
    const schema = toPromptJsonSchema(
      z.object({ contact: z.object({ email: z.string().nullable() }), items: z.array(z.object({ name: z.string(), sku: z.string().nullable() })) }),
    );
    const body = "ana@x.io wants 1 Blue Mug";
    const data = { contact: { email: "ana@x.io" }, items: [{ name: "blue mug", sku: null }, { name: "", sku: "ZZ-1" }] };
    const { spans, ungrounded } = groundRecord({ body }, data, schema);
    expect(spans.map((span) => span.path)).toEqual(["contact.email", "items[0].name"]);
    expect(ungrounded).toEqual(["items[1].sku"]);
  });

  it("finds a value of punctuation only as written", () => {
    const { spans, ungrounded } = groundRecord({ body: 'x "}] y' }, { name: '"}]', company: "!!" }, person);
    expect(spans).toEqual([{ path: "name", column: "body", start: 2, end: 5, match: "exact" }]);
    expect(ungrounded).toEqual(["company"]);
  });

  it("reads a row given as a string from its `text` key, and non-string cells as their text", () => {
    const schema = toPromptJsonSchema(z.object({ id: z.number(), name: z.string() }));
    const { spans } = groundRecord({ id: 42, text: "call Ana" }, { id: 42, name: "Ana" }, schema);
    expect(spans.map((span) => [span.path, span.column])).toEqual([
      ["id", "id"],
      ["name", "text"],
    ]);
  });
});

describe("groundRecord: bounded on a large cell", () => {
  it("looks for absent values in a 2 MB cell of near misses in linear passes", () => {
    // Every window of four words holds two of a value's words: just under the fuzzy coverage.
    // A search over all windows (langextract's) would examine ~10^11 of them here.
    const body = "alpha beta filler ".repeat(2 * 1024 * 1024 / 18);
    expect(body.length).toBeGreaterThan(2_000_000);
    const schema = toPromptJsonSchema(z.object({ a: z.string(), b: z.string(), n: z.number() }));
    const { spans, ungrounded } = groundRecord({ body }, { a: "alpha beta gamma delta", b: "zeta", n: 7 }, schema);
    expect(spans).toEqual([]);
    expect(ungrounded).toEqual(["a", "b", "n"]);
  });
});

describe("groundRecord: the same answers as the implementation it replaced", () => {
  it("gives every sample record the spans and ungrounded paths recorded in test/fixtures/grounding/expected.jsonl", async () => {
    const expected = readFileSync(new URL("../fixtures/grounding/expected.jsonl", import.meta.url), "utf8").trim().split("\n").map((line) => JSON.parse(line));
    const samples = await groundingSamples();
    expect(samples).toHaveLength(expected.length);
    const answers = samples.map(({ name, record, data, jsonSchema }) => {
      const { spans, ungrounded } = groundRecord(record, data, jsonSchema);
      return { name, spans: spans.map((span) => [span.path, span.column, span.start, span.end, span.match]), ungrounded };
    });
    expect(answers).toEqual(expected);
  });
});

describe("formatFieldPath", () => {
  it("dots keys like the CSV columns and brackets indexes", () => {
    expect(formatFieldPath(["contact", "email"])).toBe("contact.email");
    expect(formatFieldPath(["order_items", 0, "name"])).toBe("order_items[0].name");
    expect(formatFieldPath(["tags", 2])).toBe("tags[2]");
  });
});
