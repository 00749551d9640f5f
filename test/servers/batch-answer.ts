/**
 * How the Batch API simulator answers one request line: a `BatchRequestOutput` line holding a
 * real `chat.completion` (built like the chat server's), or a per-request error. What the reply
 * says comes from the test's `answer` function; seeded faults replace it (content faults) or the
 * whole response (500, 429).
 */
import { buildCompletion, errorBody, messageTexts, type ReplyStep } from "./chat-server.js";
import { drawFaultOf, INVALID_JSON_REPLY, wrongShape } from "./simulated-api.js";
import { missingJsonWordError, wireRuleError } from "./wire-rules.js";

const DIRECTIVE = Symbol("batch-answer directive");

/** An answer that is not a plain reply: see {@link cutOff} and {@link failRequest}. */
export type AnswerDirective =
  | { [DIRECTIVE]: "length"; value: object | string }
  | { [DIRECTIVE]: "error"; status: number; message: string | undefined };

/**
 * What an `answer` function returns for one request: a JSON record (sent as the message content,
 * or as the function call's arguments in tools mode), raw text (sent as it is), or a directive.
 */
export type BatchAnswer = object | string | AnswerDirective;

/** Decides the reply to one request; `body` is the Chat Completions request of the line (a re-ask's messages end with the correction). */
export type AnswerFunction = (body: Record<string, any>, customId: string) => BatchAnswer;

/** The reply to `value` cut in half, with `finish_reason: "length"`, as when the output budget runs out. */
export function cutOff(value: object | string): AnswerDirective {
  return { [DIRECTIVE]: "length", value };
}

/** The request fails with HTTP `status` (its body an OpenAI error), and goes to the error file. */
export function failRequest(status: number, message?: string): AnswerDirective {
  return { [DIRECTIVE]: "error", status, message };
}

/** Faults the simulator injects per request; content faults keep status 200. */
export const BATCH_FAULT_KINDS = ["invalidJson", "wrongShape", "truncated", "serverError", "rateLimit"] as const;

/** One of {@link BATCH_FAULT_KINDS}. */
export type BatchFaultKind = (typeof BATCH_FAULT_KINDS)[number];

/** One line of an output or error file, as OpenAI writes it. */
export interface BatchOutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/**
 * The fault drawn for `key` (seeded: the same key always draws the same fault) from the
 * probabilities in `faults`, laid out as bands on [0, 1); undefined = none.
 */
export function drawBatchFault(faults: Partial<Record<BatchFaultKind, number>>, key: string): BatchFaultKind | undefined {
  return drawFaultOf(BATCH_FAULT_KINDS, faults, key);
}

/**
 * The output line answering request `body` of `customId`; `n` numbers the line's ids. A request
 * the real API would refuse when running it (wire-rules.ts) gets its 400.
 */
export function answerRequest(
  customId: string,
  body: Record<string, any>,
  fault: BatchFaultKind | undefined,
  answer: AnswerFunction,
  n: number,
): BatchOutputLine {
  const line = (status: number, responseBody: unknown): BatchOutputLine => ({
    id: `batch_req_${n}`,
    custom_id: customId,
    response: { status_code: status, request_id: `req_${n}`, body: responseBody },
    error: null,
  });
  const refusal = missingJsonWordError(body, messageTexts(body)) ?? wireRuleError(body);
  if (refusal) return line(400, errorBody(400, refusal));
  if (fault === "serverError") return line(500, errorBody(500, {}));
  if (fault === "rateLimit") {
    return line(429, errorBody(429, { message: `Rate limit reached for ${body.model} (injected fault).`, type: "requests" }));
  }
  let given: BatchAnswer;
  try {
    given = answer(body, customId);
  } catch (err) {
    // Visible to the test as a 500 naming the problem, like the chat server's throwing handler.
    return line(500, errorBody(500, { message: `batch-api: answer threw: ${err instanceof Error ? err.message : String(err)}` }));
  }
  const directive = typeof given === "object" && given !== null && DIRECTIVE in given ? (given as AnswerDirective) : undefined;
  if (directive?.[DIRECTIVE] === "error") return line(directive.status, errorBody(directive.status, { message: directive.message }));
  const cut = directive?.[DIRECTIVE] === "length";
  const value = directive?.[DIRECTIVE] === "length" ? directive.value : (given as object | string);
  const text = typeof value === "string" ? value : JSON.stringify(value);
  let step: { text: string; finishReason?: ReplyStep["finishReason"] };
  if (fault === "invalidJson") step = { text: INVALID_JSON_REPLY };
  else if (fault === "wrongShape") step = { text: JSON.stringify(wrongShape(value)) };
  else if (fault === "truncated" || cut) step = { text: text.slice(0, Math.floor(text.length / 2)), finishReason: "length" };
  else step = { text };
  return line(200, buildCompletion(replyStep(body, step.text, step.finishReason), body, n));
}

/** The chat server's reply step for `text`: a call of the forced (or only) function in tools mode, else content. */
function replyStep(body: Record<string, any>, text: string, finishReason?: ReplyStep["finishReason"]): ReplyStep {
  const tool = body.tool_choice?.function?.name ?? (Array.isArray(body.tools) ? body.tools[0]?.function?.name : undefined);
  if (typeof tool !== "string") return { reply: text, ...(finishReason ? { finishReason } : {}) };
  return { reply: null, toolCall: { name: tool, arguments: text }, finishReason: finishReason ?? "tool_calls" };
}
