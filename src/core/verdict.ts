import { jsonrepair } from "jsonrepair";
import type { z } from "zod";
import type { CompletionReply } from "../engine/types.js";
import type { ObjectSchema } from "../schema/json-schema.js";
import { coerceToSchema } from "./coerce.js";

/** How a reply failed, and whether asking again can help. */
export type ReplyFailure =
  /** Cut off by the output limit: ask again with a larger budget, never accept or repair it. */
  | { ok: false; code: "OUTPUT_TRUNCATED"; message: string }
  /** The model declined: final, no re-ask. */
  | { ok: false; code: "REFUSED"; message: string }
  /** The provider's filter stopped the reply: final, no re-ask. */
  | { ok: false; code: "CONTENT_FILTERED"; message: string }
  /** Bad output: ask again, telling the model `feedback`. */
  | { ok: false; code: "INVALID_JSON" | "SCHEMA_MISMATCH"; message: string; feedback: string };

/**
 * The verdict on one model reply: `repaired` when its JSON needed a local repair, `coerced` the
 * field paths whose loose values were read as the schema's type (see `coerceToSchema`).
 */
export type ReplyVerdict<T> = { ok: true; data: T; repaired: boolean; coerced: string[] } | ReplyFailure;

/** How much a reply may be fixed locally before it is sent back to the model. */
export interface ReplyRules {
  /** Read loose values (`"123 USD"`, `"yes"`, `"HIGH"`) as the schema's type where that is unambiguous. */
  coerce: boolean;
}

/** At most this many schema issues are reported, to keep re-ask prompts short. */
const MAX_LISTED_ISSUES = 10;

/**
 * Judges one reply: finish reason first, then JSON, then the schema. When the JSON does not
 * parse, a local repair (code fences, prose around the object, trailing commas, single quotes)
 * is tried before a paid re-ask; the repaired value is accepted only if it fits the schema. With
 * `coerce`, values zod rejects are then read as the schema's type where that is safe; a cut-off
 * reply is never repaired nor coerced. The feedback of a re-ask names the reply's own issues.
 */
export function validateReply<S extends ObjectSchema>(reply: CompletionReply, schema: S, rules: ReplyRules): ReplyVerdict<z.output<S>> {
  if (reply.refusal) {
    return { ok: false, code: "REFUSED", message: `The model refused: ${reply.refusal}` };
  }
  if (reply.finishReason === "content_filter") {
    return { ok: false, code: "CONTENT_FILTERED", message: "The provider's content filter stopped the reply." };
  }
  if (reply.finishReason === "length") {
    return {
      ok: false,
      code: "OUTPUT_TRUNCATED",
      message: "The reply was cut off by the output token limit (finish_reason \"length\").",
    };
  }
  const content = reply.content?.trim() ?? "";
  if (!content) {
    return {
      ok: false,
      code: "INVALID_JSON",
      message: "The reply was empty.",
      feedback: "Your reply was empty; it must be a JSON object.",
    };
  }

  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    return repairOrFail(content, schema, rules, (error as Error).message);
  }
  const accepted = accept(value, schema, rules, false);
  if (accepted.ok) return accepted;
  const issues = formatIssues(accepted.issues);
  return {
    ok: false,
    code: "SCHEMA_MISMATCH",
    message: `The reply did not match the schema: ${issues.join("; ")}`,
    feedback: `Your reply did not match the schema:\n${issues.map((issue) => `- ${issue}`).join("\n")}`,
  };
}

/** `value` as the schema's data (coerced if need be and allowed), or zod's issues with it as it is. */
function accept<S extends ObjectSchema>(value: unknown, schema: S, rules: ReplyRules, repaired: boolean) {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true as const, data: parsed.data, repaired, coerced: [] };
  const coerced = rules.coerce ? coerceToSchema(value, schema, parsed.error.issues) : undefined;
  if (coerced) return { ok: true as const, data: coerced.data, repaired, coerced: coerced.coerced };
  return { ok: false as const, issues: parsed.error.issues };
}

function repairOrFail<S extends ObjectSchema>(content: string, schema: S, rules: ReplyRules, parseError: string): ReplyVerdict<z.output<S>> {
  let schemaIssues: string[] = [];
  for (const candidate of repairCandidates(content)) {
    try {
      const accepted = accept(JSON.parse(jsonrepair(candidate)), schema, rules, true);
      if (accepted.ok) return accepted;
      if (!schemaIssues.length) schemaIssues = formatIssues(accepted.issues);
    } catch {
      // Beyond local repair; try the next candidate, or let the model fix it.
    }
  }
  const also = schemaIssues.length
    ? `\nBesides, its content does not match the schema:\n${schemaIssues.map((issue) => `- ${issue}`).join("\n")}`
    : "";
  return {
    ok: false,
    code: "INVALID_JSON",
    message: `The reply was not valid JSON: ${parseError}`,
    feedback: `Your reply was not valid JSON (${parseError}). It must be one JSON object and nothing else: no code fences, no comments, no text around it.${also}`,
  };
}

/**
 * Texts worth handing to jsonrepair: the span from the reply's first `{` to its last `}`, then
 * the whole reply. jsonrepair fixes syntax (fences, quotes, commas) but keeps prose around an object as
 * extra values, so "Here is the data: {...} Hope this helps" needs the slice.
 */
function repairCandidates(content: string): string[] {
  const start = content.indexOf("{");
  const end = content.lastIndexOf("}");
  const inner = start >= 0 && end > start ? content.slice(start, end + 1) : undefined;
  return inner && inner !== content ? [inner, content] : [content];
}

/**
 * Zod issues as compact `$.path: message` lines, the form the model and the user both read.
 * @example formatIssues(result.error.issues) // ["$.order_items[0].quantity: Invalid input: expected int, received number"]
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => `${toJsonPath(issue.path)}: ${issue.message}`);
  if (issues.length > MAX_LISTED_ISSUES) lines.push(`(and ${issues.length - MAX_LISTED_ISSUES} more issues)`);
  return lines;
}

/** `["items", 0, "qty"]` -> `$.items[0].qty` */
export function toJsonPath(path: readonly PropertyKey[]): string {
  let out = "$";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}
