import { describe, expect, it } from "vitest";
import { buildMessages } from "../../../src/core/prompt.js";
import { chatRequestBody } from "../../../src/engine/http/chat-body.js";
import type { ReplyFormat } from "../../../src/engine/types.js";
import { customIdOf, MAX_LINES, parseCustomId, requestLine, splitIntoFiles, type BatchTarget } from "../../../src/run/batch/request-lines.js";
import { validateAgainstOpenApi } from "../../servers/openapi.js";

const target: BatchTarget = { url: "/v1/chat/completions", model: "gpt-4o-mini", tokenLimitField: "max_completion_tokens", maxLines: MAX_LINES.openai, maxBytes: 1_000_000 };
const request = { messages: buildMessages("Reply with JSON of the schema.", { id: "7", text: "Ana, 41" }), maxTokens: 256 };
const schema = { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false };
const formats: ReplyFormat[] = [
  { mode: "json_object" },
  { mode: "json_schema", name: "person", schema },
  { mode: "tools", name: "person", schema, strict: true },
];

describe("requestLine", () => {
  it.each(formats)("writes the synchronous request's body, byte for byte, in a valid batch input line ($mode)", (replyFormat) => {
    const line = requestLine("r7-a1", request, { replyFormat, temperature: 0 }, target);
    expect(line.text.endsWith("\n")).toBe(true);
    const parsed = JSON.parse(line.text) as { body: unknown };
    expect(JSON.stringify(parsed.body)).toBe(JSON.stringify(chatRequestBody("gpt-4o-mini", { ...request, replyFormat, temperature: 0 }, "max_completion_tokens")));
    // The document has no component for a batch input line (only prose): its four fields are
    // checked here, its body against the Chat Completions request schema.
    expect(Object.keys(parsed)).toEqual(["custom_id", "method", "url", "body"]);
    expect(parsed).toMatchObject({ custom_id: "r7-a1", method: "POST", url: "/v1/chat/completions" });
    expect(validateAgainstOpenApi("CreateChatCompletionRequest", parsed.body)).toEqual([]);
  });

  it("names Azure's deployment as the model and uses Azure's url form", () => {
    const azure: BatchTarget = { ...target, url: "/chat/completions", model: "my-batch-deployment", tokenLimitField: "max_tokens", maxLines: MAX_LINES.azure };
    const parsed = JSON.parse(requestLine("r0-a1", request, { replyFormat: { mode: "json_object" } }, azure).text);
    expect(parsed).toMatchObject({ url: "/chat/completions", body: { model: "my-batch-deployment", max_tokens: 256 } });
  });

  it("never puts the row's content in the custom_id", () => {
    expect(customIdOf(17, 2)).toBe("r17-a2");
    expect(parseCustomId("r17-a2")).toEqual({ index: 17, attempt: 2 });
    expect(parseCustomId("row-17")).toBeUndefined();
  });
});

describe("splitIntoFiles", () => {
  const lines = Array.from({ length: 10 }, (_, i) => requestLine(customIdOf(i, 1), request, { replyFormat: { mode: "json_object" } }, target));
  const bytes = Buffer.byteLength(lines[0]!.text);

  it("cuts at the line limit, keeping order", () => {
    const files = splitIntoFiles(lines, { maxLines: 4, maxBytes: 1e9 });
    expect(files.map((file) => file.lines.length)).toEqual([4, 4, 2]);
    expect(files.flatMap((file) => file.lines.map((line) => line.customId))).toEqual(lines.map((line) => line.customId));
  });

  it("stays under the byte limit", () => {
    const files = splitIntoFiles(lines, { maxLines: 100, maxBytes: bytes * 3 + 1 });
    expect(files.map((file) => file.lines.length)).toEqual([3, 3, 3, 1]);
    for (const file of files) expect(file.bytes).toBeLessThanOrEqual(bytes * 3 + 1);
  });

  it("stays under an enqueued-token limit, and gives a line over it a file of its own", () => {
    const tokens = lines[0]!.tokens;
    expect(splitIntoFiles(lines, { maxLines: 100, maxBytes: 1e9, maxTokens: tokens * 5 }).map((file) => file.lines.length)).toEqual([5, 5]);
    expect(splitIntoFiles(lines.slice(0, 2), { maxLines: 100, maxBytes: 1e9, maxTokens: 1 }).map((file) => file.lines.length)).toEqual([1, 1]);
  });
});
