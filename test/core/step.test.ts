import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildMessages } from "../../src/core/prompt.js";
import { attemptBudgetOf, retryRow, startRow, stepRow, type AttemptBudget, type RowState } from "../../src/core/step.js";
import type { CompletionReply } from "../../src/engine/types.js";
import { ExtractError } from "../../src/errors/extract-error.js";

const schema = z.object({ name: z.string(), qty: z.int() });
const firstMessages = buildMessages("system prompt mentioning JSON", { text: "2x A-1 for Ana" });
const budget: AttemptBudget = { maxAttempts: 3, maxTokens: 100, maxTokensCap: 300, coerce: true };

function reply(content: string | null, extra: Partial<CompletionReply> = {}): CompletionReply {
  return { content, refusal: null, finishReason: "stop", usage: { prompt_tokens: 10, completion_tokens: 5 }, ...extra };
}

/** Freezes a state all the way down, so that a step that mutated it would throw. */
function frozen(state: RowState): RowState {
  const freeze = (value: unknown): unknown => {
    if (typeof value === "object" && value !== null) {
      Object.values(value).forEach(freeze);
      Object.freeze(value);
    }
    return value;
  };
  return freeze(structuredClone(state)) as RowState;
}

/** Drives one row through `answers`, as a runner would, and returns every state and the outcome. */
function drive(answers: (CompletionReply | ExtractError)[], rowBudget = budget) {
  let state = startRow(firstMessages, rowBudget);
  const requests = [state.request];
  for (const answer of answers) {
    const step = stepRow(frozen(state), answer, schema);
    if (step.done) return { requests, result: step.result };
    state = step.state;
    requests.push(state.request);
  }
  return { requests, result: undefined };
}

describe("stepRow, the pure attempt step", () => {
  it("starts with the first messages and the first budget", () => {
    const state = startRow(firstMessages, budget);
    expect(state.request).toEqual({ messages: firstMessages, maxTokens: 100 });
    expect(state.attempts).toBe(1);
  });

  it("finishes the row with the data when the reply fits the schema", () => {
    const { result } = drive([reply('{"name":"Ana","qty":2}')]);
    expect(result).toEqual({ ok: true, data: { name: "Ana", qty: 2 }, attempts: 1, usage: { prompt_tokens: 10, completion_tokens: 5 }, repaired: false, coerced: [] });
  });

  it("accepts a locally repaired reply without another call", () => {
    const { result, requests } = drive([reply('Here it is: {"name":"Ana","qty":2,}')]);
    expect(requests).toHaveLength(1);
    expect(result).toMatchObject({ ok: true, repaired: true, attempts: 1 });
  });

  it("accepts a reply with loose values without another call, naming them, unless `coerce` is off", () => {
    const loose = reply('{"name":"Ana","qty":"2"}');
    const coerced = drive([loose]);
    expect(coerced.requests).toHaveLength(1);
    expect(coerced.result).toMatchObject({ ok: true, data: { name: "Ana", qty: 2 }, attempts: 1, coerced: ["qty"] });
    const strict = drive([loose, reply('{"name":"Ana","qty":2}')], { ...budget, coerce: false });
    expect(strict.requests).toHaveLength(2);
    expect(strict.result).toMatchObject({ ok: true, attempts: 2, coerced: [] });
  });

  it("re-asks with the zod issues after a schema mismatch, keeping the budget", () => {
    const { requests, result } = drive([reply('{"name":"Ana","qty":"two"}'), reply('{"name":"Ana","qty":2}')]);
    expect(requests).toHaveLength(2);
    const [, second] = requests;
    expect(second!.maxTokens).toBe(100);
    expect(second!.messages.slice(0, 2)).toEqual(firstMessages);
    expect(second!.messages[2]).toEqual({ role: "assistant", content: '{"name":"Ana","qty":"two"}' });
    expect(second!.messages[3]!.content).toContain("$.qty");
    expect(result).toMatchObject({ ok: true, attempts: 2, usage: { prompt_tokens: 20, completion_tokens: 10 } });
  });

  it("doubles the budget after a cut-off reply, up to maxTokensCap, without sending the cut-off text back", () => {
    const cut = reply('{"name":"An', { finishReason: "length" });
    const { requests, result } = drive([cut, cut, cut]);
    expect(requests.map((request) => request.maxTokens)).toEqual([100, 200, 300]);
    expect(requests[1]!.messages.some((message) => message.content.includes('{"name":"An'))).toBe(false);
    expect(result).toMatchObject({ ok: false, attempts: 3, maxTokens: 300, error: { code: "OUTPUT_TRUNCATED", attempts: 3 } });
    expect(result!.error!.message).toBe(
      "The reply was cut off at the output limit of 300 tokens (after 3 attempts). Raise `maxTokens` / `maxTokensCap`, or make the schema's strings shorter.",
    );
  });

  it("fails with the last failure, the attempt count and the table's advice when the attempts are spent", () => {
    const bad = reply('{"name":"Ana"}');
    const { result } = drive([bad, bad, bad]);
    expect(result).toMatchObject({ ok: false, attempts: 3, maxTokens: 100, usage: { prompt_tokens: 30, completion_tokens: 15 } });
    expect(result!.error).toMatchObject({ code: "SCHEMA_MISMATCH", attempts: 3 });
    expect(result!.error!.message).toMatch(/^The reply did not match the schema: \$\.qty: .* \(after 3 attempts\)\. Check the field descriptions/);
  });

  it("ends the row at once on a refusal, whatever the budget left", () => {
    const { requests, result } = drive([reply(null, { refusal: "I can't help with that." })]);
    expect(requests).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: "REFUSED", message: "The model refused: I can't help with that." } });
  });

  it("ends the row with a transport error, counting only the answered calls' tokens", () => {
    const timeout = new ExtractError("TIMEOUT", "No answer within the timeout.");
    const { result } = drive([reply("{}"), timeout]);
    expect(result).toMatchObject({ ok: false, attempts: 2, error: { code: "TIMEOUT", attempts: 2 }, usage: { prompt_tokens: 10, completion_tokens: 5 } });
  });
});

describe("retryRow (a transient failure of one request inside a batch)", () => {
  const serverError = () => new ExtractError("MODEL_ERROR", "The batch answered 500 for this request.");

  it("sends the same request again as the next attempt, usage unchanged", () => {
    const first = frozen(startRow(firstMessages, budget));
    const step = retryRow(first, serverError());
    expect(step.done).toBe(false);
    if (step.done) return;
    expect(step.state.request).toEqual(first.request);
    expect(step.state.attempts).toBe(2);
    expect(step.state.usage).toEqual(first.usage);
  });

  it("keeps a re-ask's messages and budget when that re-ask is what failed", () => {
    const reasked = stepRow(startRow(firstMessages, budget), reply('{"name":"A-1"}'), schema);
    if (reasked.done) throw new Error("expected a re-ask");
    const step = retryRow(frozen(reasked.state), serverError());
    if (step.done) throw new Error("expected another attempt");
    expect(step.state.request).toEqual(reasked.state.request);
    expect(step.state.attempts).toBe(3);
    expect(step.state.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5 });
  });

  it("fails the row with the error, its attempts and the budget of its last call once maxAttempts is spent", () => {
    let state = startRow(firstMessages, budget);
    for (let i = 1; i < budget.maxAttempts; i++) {
      const step = retryRow(state, serverError());
      if (step.done) throw new Error("ended too early");
      state = step.state;
    }
    const last = retryRow(frozen(state), serverError());
    expect(last.done).toBe(true);
    if (!last.done) return;
    expect(last.result).toMatchObject({ ok: false, attempts: 3, maxTokens: 100, error: { code: "MODEL_ERROR", attempts: 3 } });
  });
});

describe("attemptBudgetOf", () => {
  it("keeps the budget fields of the run's settings and nothing else, so stored states stay small", () => {
    const settings = { maxAttempts: 4, maxTokens: 512, maxTokensCap: 2048, coerce: false, model: "gpt-4o-mini", concurrency: 8 };
    expect(attemptBudgetOf(settings)).toEqual({ maxAttempts: 4, maxTokens: 512, maxTokensCap: 2048, coerce: false });
  });
});
