import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { ExtractError } from "../../errors/extract-error.js";
import type { NodeLlamaCpp } from "./llama.js";

// Where the embedded engine's model file comes from: a `local:` path, or an `hf:` URI resolved in
// node-llama-cpp's cache (downloaded once).

/** Where `hf:` models come from when no other endpoint is configured. */
const HUGGING_FACE = "https://huggingface.co/";

/** How long to wait for the model host to answer before an `hf:` download is declared impossible. */
const REACHABILITY_TIMEOUT_MS = 10_000;

/** The absolute path of a `local:` model file, which must exist. */
export function localModelFile(file: string): string {
  const absolute = path.resolve(file);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) {
    throw new ExtractError("MODEL_NOT_FOUND", `Model file not found: ${file} (resolved to ${absolute}). Check the path in \`model\` (local:PATH).`, {
      file: absolute,
    });
  }
  return absolute;
}

/** An `hf:` model's file in node-llama-cpp's cache, downloaded first if it is not there yet. */
export async function downloadedModelFile(lib: NodeLlamaCpp, model: string, host = HUGGING_FACE, signal?: AbortSignal): Promise<string> {
  const cached = await lib.resolveModelFile(model, { download: false, cli: false }).catch(() => undefined);
  if (cached) return cached;
  // node-llama-cpp retries a download that cannot connect for many minutes; say it at once.
  try {
    await fetch(host, { method: "HEAD", signal: AbortSignal.timeout(REACHABILITY_TIMEOUT_MS) });
  } catch (error) {
    throw new ExtractError(
      "CONNECTION_FAILED",
      `${model} is not in the model cache and ${host} cannot be reached (${networkMessage(error)}). ` +
        "Run once where the network allows (the download is kept in ~/.node-llama-cpp/models), or set `model` to local:PATH.",
      { cause: error },
    );
  }
  try {
    return await lib.resolveModelFile(model, { cli: false, signal });
  } catch (error) {
    if (signal?.aborted) throw new ExtractError("ABORTED", `The download of ${model} was aborted.`, { cause: error });
    throw new ExtractError("MODEL_NOT_FOUND", `Could not download ${model} from ${host}: ${messageOf(error)}. Check the URI (hf:user/repo:quant or hf:user/repo/file.gguf).`, {
      cause: error,
    });
  }
}

function networkMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? messageOf(error);
}

/** The text of a thrown value, for messages. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
