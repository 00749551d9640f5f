import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { CompletionReply } from "../../src/engine/types.js";
import { formatIssues, toJsonPath, validateReply } from "../../src/core/verdict.js";

const schema = z.object({
  vendor: z.string(),
  total: z.number().nullable(),
  items: z.array(z.object({ name: z.string(), qty: z.int() })),
});
const rules = { coerce: true };
const good = { vendor: "ACME", total: 12.5, items: [{ name: "bolt", qty: 2 }] };
const reply = (content: string | null, extra: Partial<CompletionReply> = {}): CompletionReply => ({
  content,
  refusal: null,
  finishReason: "stop",
  usage: { prompt_tokens: 1, completion_tokens: 1 },
  ...extra,
});

describe("validateReply", () => {
  it("accepts JSON that fits the schema", () => {
    expect(validateReply(reply(JSON.stringify(good)), schema, rules)).toEqual({ ok: true, data: good, repaired: false, coerced: [] });
  });

  it("returns the schema's output type (transforms applied)", () => {
    const withTransform = z.object({ amount: z.string().transform((s) => Number(s.replace(",", "."))) });
    expect(validateReply(reply('{"amount": "12,5"}'), withTransform, rules)).toMatchObject({ ok: true, data: { amount: 12.5 } });
  });

  it.each([
    ["a markdown code fence", "```json\n" + JSON.stringify(good) + "\n```"],
    ["prose around the object", `Here is the data:\n${JSON.stringify(good)}\nHope this helps!`],
    ["trailing commas", '{"vendor": "ACME", "total": 12.5, "items": [{"name": "bolt", "qty": 2},],}'],
    ["single quotes", "{'vendor': 'ACME', 'total': 12.5, 'items': [{'name': 'bolt', 'qty': 2}]}"],
  ])("repairs %s locally and says so", (_, content) => {
    expect(validateReply(reply(content), schema, rules)).toEqual({ ok: true, data: good, repaired: true, coerced: [] });
  });

  it("does not accept a repaired value that misses the schema, and reports both problems", () => {
    const verdict = validateReply(reply("```json\n{'vendor': 'ACME', 'total': 'twelve', 'items': []}\n```"), schema, rules);
    expect(verdict).toMatchObject({ ok: false, code: "INVALID_JSON" });
    if (verdict.ok || verdict.code !== "INVALID_JSON") throw new Error("unreachable");
    expect(verdict.feedback).toMatch(/not valid JSON/);
    expect(verdict.feedback).toContain("$.total");
  });

  it("never repairs a reply cut off by the output limit", () => {
    const cut = '{"vendor": "ACME", "total": 12.5, "items": [{"name": "bolt", "qty": 2}';
    expect(validateReply(reply(cut, { finishReason: "length" }), schema, rules)).toMatchObject({ ok: false, code: "OUTPUT_TRUNCATED" });
    // Even a reply that would parse is not trusted once the limit was hit.
    expect(validateReply(reply(JSON.stringify(good), { finishReason: "length" }), schema, rules)).toMatchObject({
      ok: false,
      code: "OUTPUT_TRUNCATED",
    });
  });

  it("lists each zod issue with its JSON path", () => {
    const verdict = validateReply(reply('{"vendor": 7, "total": null, "items": [{"name": "bolt", "qty": 1.5}]}'), schema, rules);
    expect(verdict).toMatchObject({ ok: false, code: "SCHEMA_MISMATCH" });
    if (verdict.ok || verdict.code !== "SCHEMA_MISMATCH") throw new Error("unreachable");
    expect(verdict.feedback).toContain("- $.vendor: Invalid input: expected string, received number");
    expect(verdict.feedback).toMatch(/- \$\.items\[0\]\.qty: .*int/);
  });

  it.each([
    [reply(null, { refusal: "I can't help with that." }), "REFUSED"],
    [reply(null, { finishReason: "content_filter" }), "CONTENT_FILTERED"],
    [reply(""), "INVALID_JSON"],
    [reply("no json at all, sorry"), "INVALID_JSON"],
  ])("classifies %o as %s", (input, code) => {
    expect(validateReply(input, schema, rules)).toMatchObject({ ok: false, code });
  });
});

describe("validateReply with coercion", () => {
  const loose = '{"vendor": "ACME", "total": "$12.50", "items": [{"name": "bolt", "qty": "2"}]}';

  it("accepts loose values read as the schema's types, and names them", () => {
    expect(validateReply(reply(loose), schema, rules)).toEqual({ ok: true, data: good, repaired: false, coerced: ["total", "items[0].qty"] });
  });

  it("coerces after a local JSON repair", () => {
    expect(validateReply(reply("```json\n" + loose + "\n```"), schema, rules)).toEqual({
      ok: true,
      data: good,
      repaired: true,
      coerced: ["total", "items[0].qty"],
    });
  });

  it("asks again with `coerce` off", () => {
    const verdict = validateReply(reply(loose), schema, { coerce: false });
    expect(verdict).toMatchObject({ ok: false, code: "SCHEMA_MISMATCH" });
    if (verdict.ok || verdict.code !== "SCHEMA_MISMATCH") throw new Error("unreachable");
    expect(verdict.feedback).toContain("$.total");
  });

  it("tells the model of its own reply's issues when coercion could not fix them all", () => {
    const verdict = validateReply(reply('{"vendor": 7, "total": "$12.50", "items": []}'), schema, rules);
    if (verdict.ok || verdict.code !== "SCHEMA_MISMATCH") throw new Error("expected a re-ask");
    expect(verdict.feedback).toContain("- $.vendor:");
    expect(verdict.feedback).toContain("- $.total:");
  });

  it("never coerces a reply cut off by the output limit", () => {
    expect(validateReply(reply(loose, { finishReason: "length" }), schema, rules)).toMatchObject({ ok: false, code: "OUTPUT_TRUNCATED" });
  });
});

describe("formatIssues", () => {
  it("caps the list so re-ask prompts stay short", () => {
    const wide = z.object(Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`f${i}`, z.string()])));
    const result = wide.safeParse({});
    expect(result.success).toBe(false);
    const lines = formatIssues(result.error!.issues);
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe("(and 5 more issues)");
  });

  it.each([
    [[], "$"],
    [["a", 0, "b"], "$.a[0].b"],
    [["odd key", "ok"], '$["odd key"].ok'],
  ])("toJsonPath(%o) = %s", (path, expected) => {
    expect(toJsonPath(path)).toBe(expected);
  });
});
