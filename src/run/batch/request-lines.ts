import type { AttemptRequest } from "../../core/step.js";
import { chatRequestBody, type TokenLimitField } from "../../engine/http/chat-body.js";
import { estimateCost } from "../../engine/http/paced-fetch.js";
import type { ReplyFormat } from "../../engine/types.js";

// A row's next call as a line of a Batch API input file, and the cutting of a round's lines into
// files the provider accepts.

/** Where a batch's lines go and what each file may hold: OpenAI's Batch API, or Azure's global batch. */
export interface BatchTarget {
  /**
   * Each line's `url` and the batch's `endpoint`: `/v1/chat/completions` for OpenAI (and vLLM's
   * run-batch), `/chat/completions` for Azure OpenAI's global batch.
   */
  url: string;
  /** The `model` of each line's body: the model name, or for Azure the global batch deployment's name. */
  model: string;
  tokenLimitField: TokenLimitField;
  /** Lines per file: 50,000 for OpenAI, 100,000 for Azure. */
  maxLines: number;
  /** Bytes per file. */
  maxBytes: number;
}

/** OpenAI takes up to 50,000 requests per file, Azure's global batch up to 100,000. */
export const MAX_LINES = { openai: 50_000, azure: 100_000 } as const;
/** Both take files up to 200 MB; the margin keeps us under it whichever megabyte is meant. */
export const MAX_FILE_BYTES = 190_000_000;

/** How every line of a run asks: the same for all its rows. */
export interface LineFormat {
  replyFormat: ReplyFormat;
  temperature?: number;
}

/** One request line of a batch input file. */
export interface RequestLine {
  customId: string;
  /** The JSON line with its newline. */
  text: string;
  /** What the request counts against an enqueued-token limit: its prompt, estimated (the limit counts input tokens). */
  tokens: number;
}

/**
 * The custom_id of a row's attempt: its 0-based input index and the attempt number (`r17-a2`),
 * unique within a job and saying nothing of the row's content.
 */
export function customIdOf(index: number, attempt: number): string {
  return `r${index}-a${attempt}`;
}

/** The row index and attempt a custom_id names; undefined for one that is not ours. */
export function parseCustomId(customId: string): { index: number; attempt: number } | undefined {
  const match = /^r(\d+)-a(\d+)$/.exec(customId);
  return match ? { index: Number(match[1]), attempt: Number(match[2]) } : undefined;
}

/**
 * The line for one call: `{custom_id, method: "POST", url, body}`, whose body is byte for byte
 * the one the synchronous engine sends for the same row and attempt ({@link chatRequestBody}).
 */
export function requestLine(customId: string, request: AttemptRequest, format: LineFormat, target: BatchTarget): RequestLine {
  const body = chatRequestBody(target.model, { ...request, ...format }, target.tokenLimitField);
  const text = `${JSON.stringify({ custom_id: customId, method: "POST", url: target.url, body })}\n`;
  return { customId, text, tokens: estimateCost(request.messages, 0, format.replyFormat) };
}

/** What one file of a round holds. */
export interface RequestFile {
  lines: RequestLine[];
  bytes: number;
  tokens: number;
}

/**
 * Cuts a round's lines into files of at most `maxLines` lines, `maxBytes` bytes and, when given,
 * `maxTokens` estimated tokens (a provider's enqueued-token limit). A single line over a limit
 * still gets a file of its own: the provider is the one to refuse it.
 */
export function splitIntoFiles(lines: Iterable<RequestLine>, limits: { maxLines: number; maxBytes: number; maxTokens?: number }): RequestFile[] {
  const files: RequestFile[] = [];
  let current: RequestFile = { lines: [], bytes: 0, tokens: 0 };
  for (const line of lines) {
    const bytes = Buffer.byteLength(line.text);
    const full =
      current.lines.length >= limits.maxLines ||
      current.bytes + bytes > limits.maxBytes ||
      (limits.maxTokens !== undefined && current.tokens + line.tokens > limits.maxTokens);
    if (full && current.lines.length > 0) {
      files.push(current);
      current = { lines: [], bytes: 0, tokens: 0 };
    }
    current.lines.push(line);
    current.bytes += bytes;
    current.tokens += line.tokens;
  }
  if (current.lines.length > 0) files.push(current);
  return files;
}
