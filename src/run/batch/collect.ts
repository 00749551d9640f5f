import type OpenAI from "openai";
import { APIError } from "openai/error";
import { fromApiError, type ErrorContext } from "../../engine/http/api-errors.js";
import { replyOf } from "../../engine/http/chat-body.js";
import type { CompletionReply, ReplyFormat } from "../../engine/types.js";
import { ExtractError, redactSecrets } from "../../errors/extract-error.js";

// A finished batch's output and error files, read back by custom_id: each submitted request is
// accounted for as a reply, an error, or missing.

/** What a batch brought for one request. */
export type BatchAnswer =
  | { reply: CompletionReply }
  /** `retry`: the failure said nothing about the row (5xx, 429, expiry, timeout, missing): the request goes again. */
  | { error: ExtractError; retry: boolean };

/** One result file of a batch, as read from the Files API. */
export interface ResultFile {
  /** The file id, named in messages about its lines. */
  name: string;
  text: string;
}

/** How replies are read and API errors mapped: the run's reply format and error context. */
export interface CollectContext {
  replyFormat: ReplyFormat;
  errors: ErrorContext;
}

/** Per-request error codes of a result file that a later attempt may not meet. */
const PASSING_CODES = new Set(["batch_expired", "request_timeout", "batch_cancelled", "server_error", "rate_limit_exceeded"]);

/**
 * Reads a batch's result files (output and error, in any order, blank lines allowed) into an
 * answer per submitted custom_id. A request in neither file gets a `retry` error that says so,
 * naming any line that could not be read (its custom_id may have been there). Lines for ids not
 * submitted are ignored.
 */
export function collectAnswers(files: readonly ResultFile[], submitted: Iterable<string>, context: CollectContext): Map<string, BatchAnswer> {
  const wanted = new Set(submitted);
  const answers = new Map<string, BatchAnswer>();
  const damaged: string[] = [];
  for (const file of files) {
    file.text.split("\n").forEach((text, at) => {
      if (text.trim() === "") return;
      const where = `line ${at + 1} of ${file.name}`;
      let line: BatchOutputLine;
      try {
        line = JSON.parse(text) as BatchOutputLine;
        if (typeof line?.custom_id !== "string") throw new Error("no custom_id");
      } catch (error) {
        damaged.push(`${where} could not be read (${(error as Error).message})`);
        return;
      }
      if (wanted.has(line.custom_id)) answers.set(line.custom_id, answerOf(line, where, context));
    });
  }
  for (const id of wanted) {
    if (answers.has(id)) continue;
    const note = damaged.length ? `; ${damaged.slice(0, 3).join("; ")}${damaged.length > 3 ? `, and ${damaged.length - 3} more` : ""}` : "";
    answers.set(id, { error: new ExtractError("MODEL_ERROR", `The batch's result files have no line for request ${id}${note}.`), retry: true });
  }
  return answers;
}

/**
 * A line of a batch output or error file (OpenAI's `BatchRequestOutput`, which vLLM's `run-batch`
 * writes too). vLLM puts a failed request's error in `error` (a string, or its error response)
 * beside a `response` with the status and no body.
 */
interface BatchOutputLine {
  custom_id: string;
  response?: { status_code: number; request_id?: string; body?: unknown } | null;
  error?: { code?: string; message?: string } | string | null;
}

/** The error body of a failed request as the SDK reads it (`{error: {message, ...}}`), from wherever the line has it. */
function errorBodyOf(line: BatchOutputLine): object | undefined {
  const body = line.response?.body;
  if (body !== undefined && body !== null) return body;
  const { error } = line;
  if (typeof error === "string") return { error: { message: error } };
  if (error && typeof error === "object") return "error" in error ? error : { error };
  return undefined;
}

function answerOf(line: BatchOutputLine, where: string, context: CollectContext): BatchAnswer {
  const { response, error } = line;
  if (response && response.status_code >= 200 && response.status_code < 300) {
    try {
      return { reply: replyOf(response.body as OpenAI.Chat.Completions.ChatCompletion, context.replyFormat, context.errors.baseURL) };
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      return { error: new ExtractError("MODEL_ERROR", `${where}: ${message}`, { cause }), retry: true };
    }
  }
  if (response) {
    // The same mapping as a synchronous call's error: the SDK's error class, then ours.
    const apiError = APIError.generate(response.status_code, errorBodyOf(line), undefined, new Headers());
    const status = response.status_code;
    return { error: fromApiError(apiError, context.errors), retry: status >= 500 || status === 429 || status === 408 };
  }
  const code = (typeof error === "object" && error?.code) || "unknown";
  const message = typeof error === "string" ? error : error?.message;
  const said = message ? `: ${redactSecrets(message, context.errors.secrets)}` : "";
  const text = `The batch did not run request ${line.custom_id} (${code}${said}).`;
  return { error: new ExtractError(code === "request_timeout" || code === "batch_expired" ? "TIMEOUT" : "MODEL_ERROR", text), retry: PASSING_CODES.has(code) };
}
