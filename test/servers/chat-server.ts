/**
 * A loopback HTTP server speaking the OpenAI Chat Completions wire protocol, scripted per test.
 * Tests point the real `openai` SDK at `server.url`; nothing leaves 127.0.0.1.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { declaredProperties, openApiValidator } from "./openapi.js";
import { missingJsonWordError, wireRuleError } from "./wire-rules.js";

/** One HTTP request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. "/v1/chat/completions". */
  path: string;
  /** Query parameters, e.g. `{ "api-version": "2024-10-21" }` from an AzureOpenAI client. */
  query?: Record<string, string>;
  /** With the `azure` option: the deployment named by the Azure path. */
  deployment?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined if none/unparseable). */
  body: any;
  /** ajv errors from validating body against OpenAPI's CreateChatCompletionRequest, [] when valid. */
  schemaErrors: string[];
}

/** A normal 200 `chat.completion`, or an SSE stream of chunks when the request has `stream: true`. */
export interface ReplyStep {
  /** Assistant message content. */
  reply: string | null;
  /** Answers with one function call in `message.tool_calls` (not streamed), as the real API does. */
  toolCall?: { name: string; arguments: string };
  /** @default "stop"; "tool_calls" with `toolCall` */
  finishReason?: "stop" | "length" | "content_filter" | "tool_calls";
  /** Sets `message.refusal` (pair it with `reply: null`, as the real API does). */
  refusal?: string;
  /** @default estimated: ceil(characters / 4) of the message contents and of the reply, at least 1 */
  usage?: { prompt_tokens: number; completion_tokens: number };
  headers?: Record<string, string>;
  /** Wait before answering (for ordering tests; never asserted on). */
  delayMs?: number;
}

/** An HTTP error with an OpenAI-shaped body; unset error fields get per-status defaults. */
export interface ErrorStep {
  status: number;
  error?: { message?: string; type?: string; code?: string | null; param?: string | null };
  /** E.g. `{"retry-after": "0"}`: the SDK then retries at once instead of backing off ~0.5 s. */
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Destroy the socket without any answer (the client sees a connection reset). */
export interface DropStep {
  drop: true;
  delayMs?: number;
}

/** One scripted answer. */
export type Step = ReplyStep | ErrorStep | DropStep;

/** Answers a chat request when the script queue is empty; `index` = 0-based position among chat requests. */
export type Handler = (req: RecordedRequest, index: number) => Step | Promise<Step>;

/** A running loopback server; see {@link startChatServer}. */
export interface ChatServer {
  /** Base URL to pass to the SDK as baseURL, e.g. "http://127.0.0.1:54321/v1". */
  url: string;
  /** Every request received, in arrival order (including ones answered with errors/drops). */
  requests: RecordedRequest[];
  /** Only the chat completion requests' parsed bodies, in arrival order (convenience). */
  readonly bodies: any[];
  /** Queue steps answered in order, one per chat completion request; when the queue is empty the handler is used. */
  script(...steps: Step[]): void;
  /** Set the fallback handler (default: answers 500 "no scripted reply"). */
  handle(handler: Handler): void;
  /** Reset requests and script queue (keep the server running; the handler stays). */
  reset(): void;
  /** Stop listening and destroy open (keep-alive) connections. */
  close(): Promise<void>;
}

const CHAT_PATH = "/v1/chat/completions";
/** What an `AzureOpenAI` client posts to: /openai/deployments/<deployment>/chat/completions?api-version=... */
const AZURE_CHAT_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

/** Error bodies modelled on what the real API sends for each status. */
const ERROR_DEFAULTS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Bad request", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  403: { message: "Permission denied", type: "invalid_request_error", code: null },
  404: { message: "The model does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found" },
  429: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
};

/** The row a request carries: llm-extract sends it as JSON in a user message. */
export function rowOf(request: RecordedRequest): Record<string, string> {
  return JSON.parse(rowContentOf(request.body)!);
}

/**
 * The content of the user message holding a request's row: the last user message that is a JSON
 * object. Few-shot examples' inputs come before it, re-ask feedback after it is plain text.
 */
export function rowContentOf(body: any): string | undefined {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const content = messages[i]?.content;
    if (messages[i]?.role === "user" && typeof content === "string" && content.startsWith("{")) return content;
  }
  return undefined;
}

/** Step answering with `JSON.stringify(value)` as the assistant content. */
export function jsonReply(value: unknown, extra?: Partial<Omit<ReplyStep, "reply">>): Step {
  return { ...extra, reply: JSON.stringify(value) };
}

/** Step answering with a call of function `name` whose arguments are `JSON.stringify(value)` (or `value` when a string). */
export function toolReply(name: string, value: unknown, extra?: Partial<Omit<ReplyStep, "reply" | "toolCall">>): Step {
  return { ...extra, reply: null, toolCall: { name, arguments: typeof value === "string" ? value : JSON.stringify(value) } };
}

/**
 * Starts the server on 127.0.0.1 (an ephemeral port, or `port`: to bring a closed server back
 * at the same address). Chat requests are validated against
 * OpenAPI's CreateChatCompletionRequest unless `validateRequests` is false, and against the
 * rules the real API adds (see wire-rules.ts). With `azure`, chat requests are also served at
 * Azure OpenAI's path (`/openai/deployments/<deployment>/chat/completions`); point an
 * `AzureOpenAI` client's `endpoint` at the server's origin.
 * @example const server = await startChatServer(); server.script(jsonReply({ name: "Ada" }));
 */
export async function startChatServer(
  options: { validateRequests?: boolean; port?: number; azure?: boolean } = {},
): Promise<ChatServer> {
  // Compiled here, not on the first request, so a missing OpenAPI file fails the setup loudly.
  const validateSchema = options.validateRequests === false ? undefined : openApiValidator("CreateChatCompletionRequest");
  const known = declaredProperties("CreateChatCompletionRequest");
  // Like the real API: schema errors, then any field it does not know.
  const validate =
    validateSchema &&
    ((body: Record<string, unknown>) => [
      ...validateSchema(body),
      ...Object.keys(body)
        .filter((key) => !known.has(key))
        .map((key) => `Unrecognized request argument supplied: ${key}`),
    ]);
  const requests: RecordedRequest[] = [];
  const queue: Step[] = [];
  let chatCount = 0;
  let handler: Handler = () => ({ status: 500, error: { message: "no scripted reply" } });

  async function respond(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = (await readBytes(req)).toString("utf8");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const deployment = options.azure ? AZURE_CHAT_PATH.exec(path)?.[1] : undefined;
    let body: any;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const isChat = req.method === "POST" && (path === CHAT_PATH || deployment !== undefined);
    const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
    const schemaErrors = isChat && isObject && validate ? validate(body) : [];
    const query = Object.fromEntries(url.searchParams);
    const record: RecordedRequest = { method: req.method ?? "", path, query, headers: req.headers, body, schemaErrors };
    if (deployment !== undefined) record.deployment = decodeURIComponent(deployment);
    const n = requests.push(record); // captured now: other requests may arrive during a delay
    const headers = { "x-request-id": `req_${n}` };

    if (!isChat) return sendError(res, 404, headers, { message: `Invalid URL (${req.method} ${path})`, code: null });
    const index = chatCount++;
    if (!isObject) return sendError(res, 400, headers, { message: "We could not parse the JSON body of your request." });
    if (schemaErrors.length > 0) {
      return sendError(res, 400, headers, { message: `Invalid request body: ${schemaErrors[0]}` });
    }
    // Checked before the script so the queued step is not consumed.
    const jsonWordError = missingJsonWordError(body, messageTexts(body));
    if (jsonWordError) return sendError(res, 400, headers, jsonWordError);
    const ruleError = validate ? wireRuleError(body) : undefined;
    if (ruleError) return sendError(res, 400, headers, ruleError);
    const step = queue.shift() ?? (await handler(record, index));
    await pause(step.delayMs ?? 0, res);
    if (res.destroyed) return; // the client went away while we waited
    if ("drop" in step) return void req.socket.destroy();
    const allHeaders = { ...headers, ...step.headers };
    if ("status" in step) return sendError(res, step.status, allHeaders, step.error ?? {});
    const completion = buildCompletion(step, body, n);
    if (body.stream === true) return sendStream(res, allHeaders, completion, body.stream_options?.include_usage === true);
    sendJson(res, 200, allHeaders, completion);
  }

  const server = http.createServer((req, res) => {
    respond(req, res).catch((err: unknown) => {
      // A throwing handler becomes a 500 the test can see, instead of an unhandled rejection.
      if (res.headersSent) res.destroy();
      else sendError(res, 500, {}, { message: `chat-server: ${err instanceof Error ? err.message : String(err)}` });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get bodies() {
      return requests.filter((r) => r.method === "POST" && (r.path === CHAT_PATH || r.deployment !== undefined)).map((r) => r.body);
    },
    script(...steps) {
      queue.push(...steps);
    },
    handle(next) {
      handler = next;
    },
    reset() {
      // In place, so references a test holds to `requests` stay current.
      requests.length = 0;
      queue.length = 0;
      chatCount = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The SDK keeps connections alive; without this, close() waits for their idle timeout.
        server.closeAllConnections();
      });
    },
  };
}

/** The whole body of `req`, as bytes (a multipart upload need not be UTF-8). */
export function readBytes(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Waits `ms`, ending early if the connection closes (so no timer outlives a client or the server). */
function pause(ms: number, res: http.ServerResponse): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on("close", done);
  });
}

/** Text of a message's content: a string, or the text parts of an array. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part?.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
}

/** Message contents as text; tolerant of malformed bodies, which arrive when validation is off. */
export function messageTexts(body: any): string[] {
  return Array.isArray(body.messages) ? body.messages.map((m: any) => contentText(m?.content)) : [];
}

/** The `chat.completion` answering `body` with `step`; `n` numbers its ids. Usage is estimated unless `step.usage` says. */
export function buildCompletion(step: ReplyStep, body: any, n: number) {
  const promptChars = messageTexts(body).reduce((sum, text) => sum + text.length, 0);
  const { prompt_tokens, completion_tokens } = step.usage ?? {
    prompt_tokens: Math.max(1, Math.ceil(promptChars / 4)),
    completion_tokens: Math.max(1, Math.ceil((step.reply ?? step.toolCall?.arguments ?? step.refusal ?? "").length / 4)),
  };
  return {
    id: `chatcmpl-${n}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: step.reply,
          refusal: step.refusal ?? null,
          ...(step.toolCall ? { tool_calls: [{ id: `call_${n}`, type: "function", function: step.toolCall }] } : {}),
        },
        finish_reason: step.finishReason ?? (step.toolCall ? "tool_calls" : "stop"),
        logprobs: null,
      },
    ],
    usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
  };
}

type Completion = ReturnType<typeof buildCompletion>;

/** Sends `completion` as `chat.completion.chunk` SSE events, the way the real API streams. */
function sendStream(res: http.ServerResponse, headers: Record<string, string>, completion: Completion, includeUsage: boolean): void {
  const { choices, usage, ...base } = completion;
  const { message, finish_reason } = choices[0]!;
  // With include_usage, the real API sends `usage: null` on every chunk but the last.
  const chunk = (delta: object, finishReason: string | null = null) => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events: object[] = [chunk({ role: "assistant", content: "", refusal: null })];
  // Split by code points so no delta holds half a surrogate pair.
  const chars = Array.from(message.content ?? "");
  const size = Math.max(1, Math.ceil(chars.length / 3));
  for (let i = 0; i < chars.length; i += size) events.push(chunk({ content: chars.slice(i, i + size).join("") }));
  if (message.refusal !== null) events.push(chunk({ refusal: message.refusal }));
  events.push(chunk({}, finish_reason));
  if (includeUsage) events.push({ ...base, object: "chat.completion.chunk", choices: [], usage });
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end("data: [DONE]\n\n");
}

/** Sends `payload` as a JSON response. */
export function sendJson(res: http.ServerResponse, status: number, headers: Record<string, string>, payload: unknown): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(payload));
}

/** Sends an OpenAI-shaped error response; see {@link errorBody}. */
export function sendError(res: http.ServerResponse, status: number, headers: Record<string, string>, error: ErrorStep["error"] & {}): void {
  sendJson(res, status, headers, errorBody(status, error));
}

/** The API's error body for `status`: the given fields over that status's usual ones. */
export function errorBody(status: number, error: ErrorStep["error"] & {}) {
  const defaults = ERROR_DEFAULTS[status] ?? {
    message: http.STATUS_CODES[status] ?? `HTTP ${status}`,
    type: status >= 500 ? "server_error" : "invalid_request_error",
    code: null,
  };
  const given = Object.fromEntries(Object.entries(error).filter(([, value]) => value !== undefined));
  return { error: { ...defaults, param: null, ...given } };
}
