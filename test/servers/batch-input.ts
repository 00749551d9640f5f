/**
 * The validation a Batch API input file goes through while its batch is `validating`: each line
 * must be a request object (`{custom_id, method: "POST", url, body}`) for the batch's endpoint,
 * with a unique custom_id, one model for the whole file, and a body that is a valid Chat
 * Completions request by OpenAI's OpenAPI description. A file that breaks any of it fails the
 * whole batch with one error per bad line, as OpenAI reports them in `errors.data` (codes
 * `invalid_json_line`, `duplicate_custom_id`, `url_mismatch`, `model_mismatch`, `empty_file`,
 * `too_many_tasks` are OpenAI's; `missing_required_parameter` and `invalid_request` are ours for
 * the rest). Rules the API only applies when it runs a request (wire-rules.ts) are not checked
 * here: they fail that request alone, with a 400 in the error file.
 */
import { declaredProperties, openApiValidator } from "./openapi.js";

/** One request of an input file, with its 1-based line number. */
export interface BatchRequestLine {
  line: number;
  customId: string;
  body: Record<string, any>;
}

/** One entry of a failed batch's `errors.data`, as the Batch object carries it. */
export interface BatchLineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

/** The requests of a valid file and their model, or the errors that fail the batch. */
export type BatchInput = { ok: true; requests: BatchRequestLine[]; model: string } | { ok: false; errors: BatchLineError[] };

/**
 * Reads and validates the input file `text` of a batch created for `endpoint`; at most
 * `maxRequests` lines (OpenAI: 50,000; Azure: 100,000).
 * @example readBatchInput('{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{...}}\n', "/v1/chat/completions", 50_000)
 */
export function readBatchInput(text: string, endpoint: string, maxRequests: number): BatchInput {
  // One final newline ends the last line; any other empty line is a line that is not JSON.
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  if (text.trim() === "") return fail({ code: "empty_file", message: "The batch input file is empty.", param: null, line: null });
  if (lines.length > maxRequests) {
    return fail({
      code: "too_many_tasks",
      message: `The batch input file has ${lines.length} requests; a batch takes at most ${maxRequests}.`,
      param: null,
      line: null,
    });
  }
  const errors: BatchLineError[] = [];
  const requests: BatchRequestLine[] = [];
  const seen = new Set<string>();
  let model: string | undefined;
  for (const [i, text] of lines.entries()) {
    const line = i + 1;
    const error = (code: string, message: string, param: string | null = null) => errors.push({ code, message, param, line });
    let request: any;
    try {
      request = JSON.parse(text);
    } catch {
      request = undefined;
    }
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      error("invalid_json_line", "This line is not parseable as valid JSON.");
      continue;
    }
    const missing = ["custom_id", "method", "url", "body"].find((key) => request[key] === undefined);
    if (missing) {
      error("missing_required_parameter", `Missing required parameter: '${missing}'.`, missing);
      continue;
    }
    if (typeof request.custom_id !== "string" || request.custom_id === "") {
      error("invalid_request", "'custom_id' must be a non-empty string.", "custom_id");
      continue;
    }
    if (seen.has(request.custom_id)) {
      error(
        "duplicate_custom_id",
        `The custom_id '${request.custom_id}' is a duplicate of another request's; custom_id must be unique for each request in a batch.`,
        "custom_id",
      );
      continue;
    }
    seen.add(request.custom_id);
    if (request.method !== "POST") {
      error("invalid_request", `'method' must be 'POST', got ${JSON.stringify(request.method)}.`, "method");
      continue;
    }
    if (request.url !== endpoint) {
      error("url_mismatch", `The url '${request.url}' of this request does not match the batch's endpoint '${endpoint}'.`, "url");
      continue;
    }
    const bodyErrors = chatRequestErrors(request.body);
    if (bodyErrors.length > 0) {
      error("invalid_request", `Invalid request body: ${bodyErrors[0]}`, "body");
      continue;
    }
    model ??= request.body.model;
    if (request.body.model !== model) {
      error("model_mismatch", `The model '${request.body.model}' differs from '${model}', the model of the batch's other requests.`, "body.model");
      continue;
    }
    requests.push({ line, customId: request.custom_id, body: request.body });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, requests, model: model! };
}

function fail(error: BatchLineError): BatchInput {
  return { ok: false, errors: [error] };
}

let known: Set<string> | undefined;

/** A body's errors against CreateChatCompletionRequest, then any field the API does not know. */
function chatRequestErrors(body: unknown): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return ["(root) must be object"];
  known ??= declaredProperties("CreateChatCompletionRequest");
  return [
    ...openApiValidator("CreateChatCompletionRequest")(body),
    ...Object.keys(body)
      .filter((key) => !known!.has(key))
      .map((key) => `Unrecognized request argument supplied: ${key}`),
  ];
}
