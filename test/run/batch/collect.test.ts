import { describe, expect, it } from "vitest";
import { collectAnswers, type CollectContext } from "../../../src/run/batch/collect.js";

const context: CollectContext = {
  replyFormat: { mode: "json_object" },
  errors: { model: "gpt-4o-mini", baseURL: "http://127.0.0.1:1/v1", maxRetries: 0, secrets: ["placeholder-secret-for-redaction-test"] },
};

function completion(content: string, finish = "stop") {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 0,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: finish, logprobs: null }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  };
}
const ok = (id: string, content: string) => JSON.stringify({ id: `batch_req_${id}`, custom_id: id, response: { status_code: 200, request_id: "req", body: completion(content) }, error: null });
const failed = (id: string, status: number, code: string) =>
  JSON.stringify({ id: `batch_req_${id}`, custom_id: id, response: { status_code: status, request_id: "req", body: { error: { message: `${code} placeholder-secret-for-redaction-test`, type: "x", code } } }, error: null });
const notRun = (id: string, code: string) => JSON.stringify({ id: `batch_req_${id}`, custom_id: id, response: null, error: { code, message: "This request could not be executed before the completion window expired." } });

describe("collectAnswers", () => {
  it("matches replies by custom_id whatever the order, and skips blank lines", () => {
    const output = { name: "file-out", text: `\n${ok("r2-a1", '{"n":2}')}\n\n${ok("r0-a1", '{"n":0}')}\n${ok("r1-a1", '{"n":1}')}\n` };
    const answers = collectAnswers([output], ["r0-a1", "r1-a1", "r2-a1"], context);
    for (const i of [0, 1, 2]) expect(answers.get(`r${i}-a1`)).toMatchObject({ reply: { content: `{"n":${i}}`, finishReason: "stop", usage: { prompt_tokens: 12 } } });
  });

  it("reads the error file: 5xx and 429 are retried, a 4xx fails the row with its code, expiry is retried", () => {
    const errors = { name: "file-err", text: [failed("r0-a1", 500, "server_error"), failed("r1-a1", 429, "rate_limit_exceeded"), failed("r2-a1", 400, "context_length_exceeded"), notRun("r3-a1", "batch_expired")].join("\n") };
    const answers = collectAnswers([{ name: "file-out", text: "" }, errors], ["r0-a1", "r1-a1", "r2-a1", "r3-a1"], context);
    expect(answers.get("r0-a1")).toMatchObject({ retry: true, error: { code: "MODEL_ERROR" } });
    expect(answers.get("r1-a1")).toMatchObject({ retry: true, error: { code: "RATE_LIMITED" } });
    expect(answers.get("r2-a1")).toMatchObject({ retry: false, error: { code: "INPUT_TOO_LARGE" } });
    expect(answers.get("r3-a1")).toMatchObject({ retry: true, error: { code: "TIMEOUT" } });
    for (const answer of answers.values()) if ("error" in answer) expect(answer.error.message).not.toContain("placeholder-secret-for-redaction-test");
  });

  it("accounts for every submitted id: one in neither file is missing, and a damaged line is named by file and line", () => {
    const output = { name: "file-out", text: `${ok("r0-a1", "{}")}\n{"custom_id": "r1-a1", "respo\n` };
    const answers = collectAnswers([output], ["r0-a1", "r1-a1", "r5-a2"], context);
    expect(answers.size).toBe(3);
    const missing = answers.get("r5-a2");
    expect(missing).toMatchObject({ retry: true, error: { code: "MODEL_ERROR" } });
    expect(missing && "error" in missing && missing.error.message).toMatch(/no line for request r5-a2; line 2 of file-out could not be read/);
  });

  it("reads vLLM run-batch's error lines: the status in `response` with no body, the error beside it", () => {
    const text = [
      JSON.stringify({ id: "vllm-1", custom_id: "r0-a1", response: { status_code: 400, request_id: "vllm-batch-1" }, error: "This model's maximum context length is 4096 tokens." }),
      JSON.stringify({ id: "vllm-2", custom_id: "r1-a1", response: { status_code: 400, request_id: "vllm-batch-2", body: null }, error: { error: { message: "bad request placeholder-secret-for-redaction-test", type: "BadRequestError", code: 400 } } }),
      JSON.stringify({ id: "vllm-3", custom_id: "r2-a1", response: { status_code: 500, request_id: "vllm-batch-3" }, error: { object: "error", message: "engine dead", type: "InternalServerError", code: 500 } }),
    ].join("\n");
    const answers = collectAnswers([{ name: "results.jsonl", text }], ["r0-a1", "r1-a1", "r2-a1"], context);
    // A 4xx fails the row (no error code to map it finer by), saying what vLLM said.
    const r0 = answers.get("r0-a1");
    expect(r0).toMatchObject({ retry: false, error: { code: "MODEL_ERROR" } });
    expect(r0 && "error" in r0 && r0.error.message).toContain("maximum context length is 4096 tokens");
    const r1 = answers.get("r1-a1");
    expect(r1).toMatchObject({ retry: false });
    expect(r1 && "error" in r1 && r1.error.message).toContain("bad request");
    expect(r1 && "error" in r1 && r1.error.message).not.toContain("placeholder-secret-for-redaction-test");
    const r2 = answers.get("r2-a1");
    expect(r2).toMatchObject({ retry: true, error: { code: "MODEL_ERROR" } });
    expect(r2 && "error" in r2 && r2.error.message).toContain("engine dead");
  });

  it("ignores lines of ids it did not submit (an earlier attempt's)", () => {
    const answers = collectAnswers([{ name: "f", text: `${ok("r0-a1", "{}")}\n${ok("r0-a2", '{"x":1}')}` }], ["r0-a2"], context);
    expect([...answers.keys()]).toEqual(["r0-a2"]);
  });
});
