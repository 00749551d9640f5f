import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI, { APIError } from "openai";
import { startChatServer, type ChatServer, type RecordedRequest, type Step } from "./chat-server.js";
import {
  FAULT_KINDS,
  createSimulatedApi,
  formatResetDuration,
  minimumRequests,
  type FaultKind,
  type SimulatedApiOptions,
} from "./simulated-api.js";

const reply = (row: Record<string, unknown>) => ({ name: String(row.name).toUpperCase(), id: row.id });
const SYSTEM = "x".repeat(32);
const SLOW_MS = 5000;

/** A chat request for `row` as the client sends it: the row's JSON is the first user message. */
function chatRequest(row: Record<string, unknown>, maxTokens?: number): RecordedRequest {
  return {
    method: "POST",
    path: "/v1/chat/completions",
    headers: {},
    schemaErrors: [],
    body: {
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: JSON.stringify(row) },
      ],
      ...(maxTokens === undefined ? {} : { max_completion_tokens: maxTokens }),
    },
  };
}

const rowOf = (i: number) => ({ id: i, name: `row ${i}` });

type Outcome = FaultKind | "ok" | "refused";

/** What a step is, read off the answer the way a test of a client would see it. */
function classify(step: Step, row: Record<string, unknown>): Outcome {
  if ("drop" in step) return "drop";
  if ("status" in step) {
    if (step.status === 500) return "serverError";
    return step.error?.message?.includes("injected") ? "rateLimit" : "refused";
  }
  if (step.delayMs === SLOW_MS) return "slow";
  if (step.finishReason === "length") return "truncated";
  if (step.reply === "Sorry, I can't help with that right now.") return "invalidJson";
  if (step.reply?.includes("__wrong__")) return "wrongShape";
  if (step.reply?.includes(" USD")) return "looseValues";
  expect(step.reply).toBe(JSON.stringify(reply(row)));
  return "ok";
}

const allFaults = (p: number) => Object.fromEntries(FAULT_KINDS.map((kind) => [kind, p])) as Record<FaultKind, number>;

/**
 * Sends `perRow` requests for each row in the order `schedule` gives (a list of row indices, each
 * occurring `perRow` times) and returns each row's answers in its own order.
 */
async function run(options: Partial<SimulatedApiOptions>, schedule: number[]): Promise<Map<number, Step[]>> {
  const api = createSimulatedApi({ reply, slowMs: SLOW_MS, ...options });
  const answers = new Map<number, Step[]>();
  for (const [index, i] of schedule.entries()) {
    const step = await api.handler(chatRequest(rowOf(i)), index);
    answers.set(i, [...(answers.get(i) ?? []), step]);
  }
  return answers;
}

describe("fault decisions", () => {
  const rows = 40;
  const perRow = 8;
  const sequential = Array.from({ length: rows * perRow }, (_, k) => Math.floor(k / perRow));
  // Round robin, last row first: every row's k-th request now arrives at a different position.
  const interleaved = Array.from({ length: rows * perRow }, (_, k) => rows - 1 - (k % rows));

  it("gives each row the same answers for the same seed, whatever order the rows arrive in", async () => {
    const options = { seed: 7, faults: allFaults(0.08) };
    const a = await run(options, sequential);
    const b = await run(options, interleaved);
    expect(b).toEqual(a);
    const outcomes = [...a].flatMap(([i, steps]) => steps.map((step) => classify(step, rowOf(i))));
    // The check above is only meaningful if faults of every kind were drawn.
    for (const kind of FAULT_KINDS) expect(outcomes).toContain(kind);
    expect(outcomes).toContain("ok");

    const other = await run({ ...options, seed: 8 }, sequential);
    expect(other).not.toEqual(a);
  });

  it("does not advance a row's faults on requests the limiter refuses", async () => {
    const faults = allFaults(0.1);
    const unlimited = await run({ seed: 3, faults }, sequential);

    // One request per second admitted; a refused request is sent again after its retry-after-ms.
    let clock = 0;
    const api = createSimulatedApi({ reply, slowMs: SLOW_MS, seed: 3, faults, limits: { rpm: 60 }, now: () => clock });
    for (let i = 0; i < rows; i++) {
      const admitted: Outcome[] = [];
      while (admitted.length < perRow) {
        const step = await api.handler(chatRequest(rowOf(i)), 0);
        const outcome = classify(step, rowOf(i));
        if (outcome === "refused") clock += Number((step as { headers: Record<string, string> }).headers["retry-after-ms"]);
        else admitted.push(outcome);
      }
      expect(admitted).toEqual(unlimited.get(i)!.map((step) => classify(step, rowOf(i))));
    }
    expect(api.stats.rateLimited).toBeGreaterThan(0);
  });

  it("injects at most maxModelFaultsPerRow model faults per row, then answers correctly", async () => {
    const answers = await run({ faults: { invalidJson: 1 } }, sequential);
    for (const [i, steps] of answers) {
      expect(steps.map((step) => classify(step, rowOf(i)))).toEqual(["invalidJson", "invalidJson", "ok", "ok", "ok", "ok", "ok", "ok"]);
    }
    const none = await run({ faults: { truncated: 1 }, maxModelFaultsPerRow: 0 }, [0, 0]);
    expect(none.get(0)!.map((step) => classify(step, rowOf(0)))).toEqual(["ok", "ok"]);
  });

  it("injects at most maxTransportFaultsInARow transport faults in a row; a correct answer or a model fault ends the run", async () => {
    const transportOnly = await run({ faults: { serverError: 1 } }, sequential);
    const expected = ["serverError", "serverError", "serverError", "ok", "serverError", "serverError", "serverError", "ok"];
    for (const [i, steps] of transportOnly) expect(steps.map((step) => classify(step, rowOf(i)))).toEqual(expected);

    const mixed = await run({ faults: { drop: 0.5, wrongShape: 0.5 }, maxTransportFaultsInARow: 2 }, sequential);
    let sawModelFaultEndingRun = false;
    for (const [i, steps] of mixed) {
      const outcomes = steps.map((step) => classify(step, rowOf(i)));
      expect(outcomes.filter((o) => o === "wrongShape").length).toBeLessThanOrEqual(2);
      let run = 0;
      for (const outcome of outcomes) {
        run = outcome === "drop" ? run + 1 : 0;
        expect(run).toBeLessThanOrEqual(2);
      }
      if (outcomes.join().includes("drop,wrongShape,drop,drop")) sawModelFaultEndingRun = true;
    }
    expect(sawModelFaultEndingRun).toBe(true);
  });

  it("draws each kind with roughly its probability", async () => {
    const api = createSimulatedApi({ reply, faults: { rateLimit: 0.1, slow: 0.05, truncated: 0.1 } });
    const rowCount = 10_000;
    for (let i = 0; i < rowCount; i++) await api.handler(chatRequest(rowOf(i)), i);
    const { injected } = api.stats;
    expect(injected.rateLimit / rowCount).toBeGreaterThan(0.08);
    expect(injected.rateLimit / rowCount).toBeLessThan(0.12);
    expect(injected.slow / rowCount).toBeGreaterThan(0.035);
    expect(injected.slow / rowCount).toBeLessThan(0.065);
    expect(injected.truncated / rowCount).toBeGreaterThan(0.08);
    expect(injected.truncated / rowCount).toBeLessThan(0.12);
    expect(injected.serverError + injected.drop + injected.invalidJson + injected.wrongShape).toBe(0);
  });

  it("rejects probabilities that are negative or sum above 1", () => {
    expect(() => createSimulatedApi({ reply, faults: { drop: 0.6, slow: 0.5 } })).toThrow(/at most 1/);
    expect(() => createSimulatedApi({ reply, faults: { drop: -0.1 } })).toThrow(/>= 0/);
  });
});

describe("fault answers", () => {
  /** The first answer for row 0 with `kind` certain. */
  const first = (kind: FaultKind) =>
    createSimulatedApi({ reply, slowMs: SLOW_MS, faults: { [kind]: 1 } }).handler(chatRequest(rowOf(0)), 0) as Step;
  const correct = JSON.stringify(reply(rowOf(0)));

  it("shapes each fault like the real API's", () => {
    expect(first("rateLimit")).toEqual({
      status: 429,
      error: {
        message: expect.stringMatching(/^Rate limit reached for requests/),
        type: "requests",
        code: "rate_limit_exceeded",
      },
      headers: { "retry-after-ms": "20", "retry-after": "1" },
    });
    expect(first("serverError")).toEqual({ status: 500, headers: {} });
    expect(first("drop")).toEqual({ drop: true });
    expect(first("slow")).toEqual({ reply: correct, headers: {}, delayMs: SLOW_MS });
    const invalid = first("invalidJson") as { reply: string };
    expect(() => JSON.parse(invalid.reply)).toThrow();
    expect(first("wrongShape")).toEqual({ reply: '{"name":{"__wrong__":true},"id":{"__wrong__":true}}', headers: {} });
    expect(first("truncated")).toEqual({ reply: correct.slice(0, Math.floor(correct.length / 2)), finishReason: "length", headers: {} });
    expect(first("looseValues")).toEqual({ reply: '{"name":"ROW 0","id":"0 USD"}', headers: {} });
  });

  it("writes loose values as a careless model does: amounts, yes/no, one object for a list of one", () => {
    const nested = (row: Record<string, unknown>) => ({ total: 12.5, paid: false, urgent: true, items: [{ qty: 2 }], tags: ["a"], none: null, id: row.id });
    const step = createSimulatedApi({ reply: nested, faults: { looseValues: 1 } }).handler(chatRequest(rowOf(3)), 0) as { reply: string };
    expect(JSON.parse(step.reply)).toEqual({ total: "12.5 USD", paid: "no", urgent: "yes", items: { qty: "2 USD" }, tags: ["a"], none: null, id: "3 USD" });
  });

  it("adds latencyMs to every answer, slow ones included", () => {
    const api = createSimulatedApi({ reply, latencyMs: 30, slowMs: 100, faults: { slow: 0.5 } });
    const delays = Array.from({ length: 20 }, (_, i) => (api.handler(chatRequest(rowOf(i)), i) as Step).delayMs);
    expect(new Set(delays)).toEqual(new Set([30, 130]));
  });
});

describe("stats", () => {
  it("counts requests, faults, correct replies per row and admitted cost", async () => {
    let clock = 100;
    const api = createSimulatedApi({ reply, faults: { serverError: 1 }, maxTransportFaultsInARow: 1, now: () => clock });
    for (const i of [0, 0, 1, 1, 0]) {
      await api.handler(chatRequest(rowOf(i), 10), 0);
      clock += 5;
    }
    const { stats } = api;
    // Row 0: error, ok, error; row 1: error, ok.
    expect(stats.requests).toBe(5);
    expect(stats.injected.serverError).toBe(3);
    expect(stats.correctReplies).toBe(2);
    expect(stats.servedPerRow).toEqual(new Map([[JSON.stringify(rowOf(0)), 1], [JSON.stringify(rowOf(1)), 1]]));
    expect(stats.rateLimited).toBe(0);
    expect(stats.firstRequestAt).toBe(100);
    expect(stats.lastAnswerAt).toBe(120);
    const promptTokens = Math.ceil((SYSTEM.length + JSON.stringify(rowOf(0)).length) / 4);
    expect(stats.admitted).toEqual({ requests: 5, tokens: 5 * (promptTokens + 10) });
    expect(minimumRequests(stats, 2)).toBe(5);
  });

  it("counts loose values as costing a re-ask only for a client that does not coerce", () => {
    const api = createSimulatedApi({ reply, faults: { looseValues: 1 }, maxModelFaultsPerRow: 1 });
    for (const i of [0, 0, 1]) api.handler(chatRequest(rowOf(i)), 0);
    expect(api.stats.injected.looseValues).toBe(2);
    expect(minimumRequests(api.stats, 2)).toBe(2);
    expect(minimumRequests(api.stats, 2, { coerce: false })).toBe(4);
  });

  it("counts a slow answer as a correct reply but not as serving the row", () => {
    const api = createSimulatedApi({ reply, faults: { slow: 1 }, maxTransportFaultsInARow: 1 });
    api.handler(chatRequest(rowOf(0)), 0);
    api.handler(chatRequest(rowOf(0)), 1);
    expect(api.stats.correctReplies).toBe(2);
    expect(api.stats.servedPerRow.get(JSON.stringify(rowOf(0)))).toBe(1);
  });
});

describe("enforced limits", () => {
  it("admits a burst up to the requests bucket, refuses the next with retry-after, and refills continuously", () => {
    let clock = 0;
    // 120 RPM over 1 s slices: 2 requests at once, then one more every 500 ms.
    const api = createSimulatedApi({ reply, limits: { rpm: 120 }, now: () => clock });
    const send = () => api.handler(chatRequest(rowOf(0)), 0) as Step & { headers: Record<string, string> };

    expect(send().headers).toEqual({ "x-ratelimit-limit-requests": "120", "x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": "500ms" });
    expect(send().headers).toEqual({ "x-ratelimit-limit-requests": "120", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s" });
    const refused = send();
    expect(refused).toMatchObject({
      status: 429,
      error: {
        type: "requests",
        code: "rate_limit_exceeded",
        message: "Rate limit reached for gpt-4o-mini in organization org-simulated on requests per min (RPM): Limit 120, Used 2, Requested 1. Please try again in 500ms.",
      },
    });
    expect(refused.headers).toEqual({
      "x-ratelimit-limit-requests": "120",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1s",
      "retry-after-ms": "500",
      "retry-after": "1",
    });

    clock = 499;
    expect(send().headers["retry-after-ms"]).toBe("1");
    clock = 500;
    expect(send()).toMatchObject({ reply: JSON.stringify(reply(rowOf(0))), headers: { "x-ratelimit-remaining-requests": "0" } });
    // Idle for long: the bucket refills to its capacity, not beyond.
    clock = 60_000;
    send();
    send();
    expect("status" in send()).toBe(true);
    expect(api.stats).toMatchObject({ requests: 8, rateLimited: 3, correctReplies: 5, admitted: { requests: 5 } });
  });

  it("charges the prompt estimate plus max_tokens against the tokens bucket", () => {
    let clock = 0;
    // 6000 TPM over 1 s slices: 100 tokens at once, refilled at 0.1 token/ms.
    const api = createSimulatedApi({ reply, limits: { tpm: 6000, rpm: 6000 }, now: () => clock });
    const prompt = Math.ceil((SYSTEM.length + JSON.stringify(rowOf(0)).length) / 4);
    const maxTokens = 50 - prompt; // cost 50 a request
    const send = () => api.handler(chatRequest(rowOf(0), maxTokens), 0) as Step & { headers: Record<string, string> };

    expect(send().headers).toMatchObject({ "x-ratelimit-limit-tokens": "6000", "x-ratelimit-remaining-tokens": "50", "x-ratelimit-reset-tokens": "500ms" });
    expect(send().headers).toMatchObject({ "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1s", "x-ratelimit-remaining-requests": "98" });
    clock = 200; // 20 tokens back: 30 short of a request
    const refused = send();
    expect(refused).toMatchObject({
      status: 429,
      error: { type: "tokens", message: expect.stringMatching(/on tokens per min \(TPM\): Limit 6000, Used 80, Requested 50\. Please try again in 300ms\.$/) },
      headers: { "retry-after-ms": "300", "retry-after": "1", "x-ratelimit-remaining-tokens": "20", "x-ratelimit-reset-tokens": "800ms" },
    });
    clock = 500;
    expect(send()).toHaveProperty("reply");
    expect(api.stats.admitted).toEqual({ requests: 3, tokens: 150 });
  });

  it("refuses a request costing more tokens than the bucket can hold, even when it is full", () => {
    const api = createSimulatedApi({ reply, limits: { tpm: 6000 }, now: () => 0 });
    expect(api.handler(chatRequest(rowOf(0), 200), 0)).toMatchObject({
      status: 429,
      error: { type: "tokens", code: "rate_limit_exceeded", message: expect.stringMatching(/^Request too large for gpt-4o-mini .*Limit 6000, Requested 2\d\d\./) },
      headers: { "retry-after-ms": "0", "x-ratelimit-remaining-tokens": "100" },
    });
    expect(api.stats.rateLimited).toBe(1);
  });

  it("keeps one request admissible when rpm is below one per burst slice", () => {
    let clock = 0;
    const api = createSimulatedApi({ reply, limits: { rpm: 6 }, now: () => clock });
    expect(api.handler(chatRequest(rowOf(0)), 0)).toHaveProperty("reply");
    expect(api.handler(chatRequest(rowOf(0)), 1)).toMatchObject({ status: 429, headers: { "retry-after-ms": "10000", "retry-after": "10" } });
    clock = 10_000;
    expect(api.handler(chatRequest(rowOf(0)), 2)).toHaveProperty("reply");
  });
});

describe("formatResetDuration", () => {
  it.each([
    [0, "0s"],
    [-5, "0s"],
    [0.2, "1ms"],
    [12, "12ms"],
    [20, "20ms"],
    [999, "999ms"],
    [999.5, "1s"],
    [1000, "1s"],
    [1001, "1.001s"],
    [1500, "1.5s"],
    [12_000, "12s"],
    [17_280, "17.28s"],
    [60_000, "1m0s"],
    [61_500, "1m1.5s"],
    [360_000, "6m0s"],
    [3_600_000, "1h0m0s"],
    [3_723_000, "1h2m3s"],
  ])("formats %d ms as %s", (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });
});

describe("through the real SDK", () => {
  let server: ChatServer;
  beforeAll(async () => {
    server = await startChatServer();
  });
  afterAll(() => server.close());

  it("delivers an enforcement 429 with retry-after and x-ratelimit headers readable from the error", async () => {
    const api = createSimulatedApi({ reply, limits: { rpm: 60 }, now: () => 0 });
    server.handle(api.handler);
    const client = new OpenAI({ apiKey: "sk-test", baseURL: server.url, maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: "gpt-4o-mini", messages: chatRequest(rowOf(0)).body.messages });

    const { data, response } = await ask().withResponse();
    expect(data.choices[0]?.message.content).toBe(JSON.stringify(reply(rowOf(0))));
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("0");

    const error = await ask().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(APIError);
    const { status, headers, type, code } = error as APIError;
    expect({ status, type, code }).toEqual({ status: 429, type: "requests", code: "rate_limit_exceeded" });
    const names = ["retry-after-ms", "retry-after", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"];
    expect(Object.fromEntries(names.map((name) => [name, headers?.get(name)]))).toEqual({
      "retry-after-ms": "1000",
      "retry-after": "1",
      "x-ratelimit-limit-requests": "60",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1s",
    });
    expect(api.stats).toMatchObject({ requests: 2, rateLimited: 1, correctReplies: 1 });
  });
});
