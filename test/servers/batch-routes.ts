/**
 * The HTTP side of the Batch API simulator: the Files and Batches endpoints, in OpenAI's form
 * (`/v1/...`) and Azure OpenAI's (`/openai/...?api-version=...`, where an `AzureOpenAI` client
 * with a deployment posts batches to `/openai/deployments/<name>/batches`, and the v1 form
 * `/openai/v1/...`). Request bodies are checked against OpenAI's OpenAPI description.
 */
import type http from "node:http";
import type { BatchApiStats } from "./batch-api.js";
import { BatchJob } from "./batch-job.js";
import { readBytes, sendError, sendJson } from "./chat-server.js";
import { declaredProperties, openApiValidator } from "./openapi.js";

/** A file as the simulator keeps it. */
export interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  text: string;
  bytes: number;
  createdAt: number;
  deleted: boolean;
  /** Content GETs still to answer 403 (the quirk of a just-written output file). */
  forbiddenLeft: number;
}

/** Purposes an upload may name (CreateFileRequest's enum). */
const UPLOAD_PURPOSES = new Set(["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]);
/** Batch input files expire after 30 days unless told otherwise. */
const FILE_LIFETIME_SECONDS = 30 * 86_400;
const now = () => Math.floor(Date.now() / 1000);

/** The routes over the server's state; `storeFile` is also how a batch writes its results. */
export function createBatchRoutes(state: { files: Map<string, StoredFile>; jobs: Map<string, BatchJob>; stats: BatchApiStats }) {
  const { files, jobs, stats } = state;
  let fileCount = 0;
  const validateCreate = openApiValidator("CreateBatchRequest");
  const createFields = declaredProperties("CreateBatchRequest");

  function storeFile(filename: string, purpose: string, text: string, forbiddenReads = 0): string {
    const id = `file-${String(++fileCount).padStart(6, "0")}`;
    files.set(id, {
      id,
      filename,
      purpose,
      text,
      bytes: Buffer.byteLength(text),
      createdAt: now(),
      deleted: false,
      forbiddenLeft: forbiddenReads,
    });
    return id;
  }

  async function respond(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "";
    const query = Object.fromEntries(url.searchParams);
    stats.requests.push({ method, path: url.pathname, query });
    const route = routeOf(url.pathname, query);
    const notFound = () => sendError(res, 404, {}, { message: `Invalid URL (${method} ${url.pathname})`, code: null });
    if (route === undefined) return notFound();
    if ("error" in route) return sendError(res, 400, {}, { message: route.error });
    const parts = route.path.split("/").slice(1); // "/batches/b1/cancel" -> ["batches", "b1", "cancel"]
    const [resource, id, action] = parts;
    if (parts.length > 3 || (resource !== "files" && resource !== "batches")) return notFound();

    if (resource === "files") {
      if (id === undefined) {
        if (method === "POST") return upload(req, res);
        if (method === "GET") {
          const listed = [...files.values()].reverse().filter((f) => !f.deleted && (!query.purpose || f.purpose === query.purpose));
          return sendJson(res, 200, {}, page(listed.map(fileObject), query, 10_000));
        }
        return notFound();
      }
      const file = files.get(id);
      if (!file || file.deleted) return sendError(res, 404, {}, { message: `No such File object: ${id}`, param: "id", code: null });
      if (action === undefined && method === "GET") return sendJson(res, 200, {}, fileObject(file));
      if (action === undefined && method === "DELETE") {
        file.deleted = true;
        stats.filesDeleted++;
        return sendJson(res, 200, {}, { id, object: "file", deleted: true });
      }
      if (action === "content" && method === "GET") {
        if (file.forbiddenLeft > 0) {
          file.forbiddenLeft--;
          stats.forbiddenAnswers++;
          return sendError(res, 403, {}, { message: `You are not allowed to download ${id} yet (simulated brief 403 after a batch completes).` });
        }
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return void res.end(file.text);
      }
      return notFound();
    }

    if (id === undefined) {
      if (method === "POST") return createBatch(req, res, route.azure);
      if (method === "GET") return sendJson(res, 200, {}, page([...jobs.values()].reverse().map((job) => job.toJSON()), query, 100, 20));
      return notFound();
    }
    const job = jobs.get(id);
    if (!job) return sendError(res, 404, {}, { message: `No batch found with id '${id}'.`, code: null });
    if (action === undefined && method === "GET") return sendJson(res, 200, {}, job.toJSON());
    if (action === "cancel" && method === "POST") {
      if (!job.cancel()) return sendError(res, 400, {}, { message: `Cannot cancel a batch with status '${job.status}'.` });
      return sendJson(res, 200, {}, job.toJSON());
    }
    return notFound();
  }

  async function upload(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const bytes = await readBytes(req);
    let form: FormData;
    try {
      // The platform's multipart parser (undici), through a Response over the raw body.
      form = await new Response(bytes, { headers: { "content-type": String(req.headers["content-type"]) } }).formData();
    } catch {
      return sendError(res, 400, {}, { message: "The upload must be multipart/form-data with a 'file' and a 'purpose'." });
    }
    const file = form.get("file");
    const purpose = form.get("purpose");
    const unknown = [...form.keys()].find((key) => key !== "file" && key !== "purpose" && !key.startsWith("expires_after"));
    if (unknown) return sendError(res, 400, {}, { message: `Unrecognized request argument supplied: ${unknown}`, param: unknown });
    if (!(file instanceof Blob)) return sendError(res, 400, {}, { message: "Missing required parameter: 'file'.", param: "file" });
    if (typeof purpose !== "string" || !UPLOAD_PURPOSES.has(purpose)) {
      return sendError(res, 400, {}, { message: `Invalid value for 'purpose': ${JSON.stringify(purpose)}.`, param: "purpose" });
    }
    const filename = file instanceof File ? file.name : "upload";
    if (purpose === "batch" && !filename.endsWith(".jsonl")) {
      return sendError(res, 400, {}, { message: "Invalid file format for Batch API. Must be .jsonl", param: "file" });
    }
    const id = storeFile(filename, purpose, await file.text());
    stats.filesUploaded++;
    sendJson(res, 200, {}, fileObject(files.get(id)!));
  }

  async function createBatch(req: http.IncomingMessage, res: http.ServerResponse, azure: boolean): Promise<void> {
    let body: any;
    try {
      body = JSON.parse((await readBytes(req)).toString("utf8"));
    } catch {
      return sendError(res, 400, {}, { message: "We could not parse the JSON body of your request." });
    }
    // OpenAI's spec knows only /v1/... endpoints; Azure's create names the path without /v1 (its
    // own API reference), so an Azure create is checked against the spec in OpenAI's form.
    const asOpenAI = azure && body?.endpoint === "/chat/completions" ? { ...body, endpoint: "/v1/chat/completions" } : body;
    const problems = [
      ...validateCreate(asOpenAI),
      ...Object.keys(body ?? {})
        .filter((key) => !createFields.has(key))
        .map((key) => `Unrecognized request argument supplied: ${key}`),
    ];
    if (problems.length > 0) return sendError(res, 400, {}, { message: `Invalid request body: ${problems[0]}` });
    const metadata: Record<string, string> | null = body.metadata ?? null;
    if (metadata && Object.keys(metadata).length > 16) {
      return sendError(res, 400, {}, { message: "Invalid 'metadata': at most 16 keys.", param: "metadata" });
    }
    // Azure's batch lines and endpoint name the path without /v1.
    const endpoints = azure ? ["/chat/completions", "/v1/chat/completions"] : ["/v1/chat/completions"];
    if (!endpoints.includes(body.endpoint)) {
      return sendError(res, 400, {}, { message: `The simulator serves only ${endpoints.join(" or ")}, got '${body.endpoint}'.`, param: "endpoint" });
    }
    const input = files.get(body.input_file_id);
    if (!input || input.deleted || input.purpose !== "batch") {
      return sendError(res, 400, {}, {
        message: `Invalid 'input_file_id': '${body.input_file_id}' is not a file uploaded with purpose 'batch'.`,
        param: "input_file_id",
      });
    }
    const id = `batch_${String(jobs.size + 1).padStart(6, "0")}`;
    const job = new BatchJob(id, input.id, body.endpoint, metadata, input.text);
    jobs.set(id, job);
    stats.batchesCreated++;
    sendJson(res, 200, {}, job.toJSON());
  }

  return { respond, storeFile };
}

/** The API path under the version prefix ("/batches/b1") and whether it came in Azure's form; undefined for other paths. */
function routeOf(pathname: string, query: Record<string, string>): { path: string; azure: boolean } | { error: string } | undefined {
  if (pathname.startsWith("/v1/")) return { path: pathname.slice(3), azure: false };
  if (pathname.startsWith("/openai/v1/")) return { path: pathname.slice(10), azure: true };
  if (!pathname.startsWith("/openai/")) return undefined;
  if (!query["api-version"]) return { error: "Missing required query parameter 'api-version' (Azure OpenAI)." };
  // With a deployment, an AzureOpenAI client posts batches under it.
  return { path: pathname.slice(7).replace(/^\/deployments\/[^/]+\/batches$/, "/batches"), azure: true };
}

/** The File object of `file`. */
function fileObject(file: StoredFile) {
  return {
    id: file.id,
    object: "file",
    bytes: file.bytes,
    created_at: file.createdAt,
    expires_at: file.createdAt + FILE_LIFETIME_SECONDS,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
  };
}

/** A cursor page over `items` (newest first): those after `query.after`, at most `limit`. */
function page<T extends { id: string }>(items: T[], query: Record<string, string>, maxLimit: number, defaultLimit = maxLimit) {
  const limit = Math.min(maxLimit, Math.max(1, Number(query.limit ?? defaultLimit) || defaultLimit));
  const ordered = query.order === "asc" ? [...items].reverse() : items;
  const start = query.after === undefined ? 0 : ordered.findIndex((item) => item.id === query.after) + 1;
  const data = ordered.slice(start, start + limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < ordered.length };
}
