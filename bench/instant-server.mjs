/**
 * A minimal Chat Completions server for benchmarks: answers every request after LATENCY_MS
 * (default 0) with a reply built from the row, so the client's own cost is what gets measured.
 * Runs as its own process so its CPU and memory are not counted in the measured one, and keeps
 * no per-request state, so a million requests cost it nothing. Prints its base URL on stdout;
 * on SIGTERM prints `{"served", "seconds", "injected"}` (answers, first request to last answer,
 * faults by kind) and exits.
 *
 * With FAULTS (JSON: `{"rateLimit": 0.03, "serverError": 0.03, "drop": 0.01, "retryAfterMs": 100}`)
 * it is a flaky server without any limit: each request is, with those probabilities, answered 429
 * (with `retry-after-ms`, no rate-limit headers: nothing is being used up), 500, or dropped
 * (the connection closed without an answer), drawn from a seeded generator. The faults go out
 * after the same latency as the answers.
 *
 *   LATENCY_MS=50 node bench/instant-server.mjs
 *   LATENCY_MS=300 FAULTS='{"rateLimit":0.03,"serverError":0.03,"drop":0.01,"retryAfterMs":100}' node bench/instant-server.mjs
 */
import http from "node:http";

const latency = Number(process.env.LATENCY_MS ?? 0);
const faults = JSON.parse(process.env.FAULTS ?? "{}");
let served = 0;
let firstAt;
let lastAt;
const injected = { rateLimit: 0, serverError: 0, drop: 0 };

/** mulberry32: a seeded generator, so a run's faults are the same from run to run (for the same arrival order). */
let seed = 1;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** The fault for the next request, if any. */
function drawFault() {
  let draw = random();
  for (const kind of ["rateLimit", "serverError", "drop"]) {
    draw -= faults[kind] ?? 0;
    if (draw < 0) return kind;
  }
  return undefined;
}

const errorBody = (message, type, code) => JSON.stringify({ error: { message, type, param: null, code } });

const server = http.createServer((req, res) => {
  firstAt ??= performance.now();
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const row = JSON.parse(body.messages[1].content);
    // The answer the bench schema (test/fixtures/schemas/person.ts) expects.
    const content = JSON.stringify({ name: String(row.text ?? "").toUpperCase(), age: Number(row.id) || null });
    const payload = JSON.stringify({
      id: `chatcmpl-${served}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 100, completion_tokens: 12, total_tokens: 112 },
    });
    const fault = drawFault();
    const send = () => {
      lastAt = performance.now();
      if (fault) injected[fault]++;
      if (fault === "drop") return void req.socket.destroy();
      if (fault === "rateLimit") {
        res.writeHead(429, { "content-type": "application/json", "retry-after-ms": String(faults.retryAfterMs ?? 100) });
        return void res.end(errorBody("Rate limit reached (injected fault).", "requests", "rate_limit_exceeded"));
      }
      if (fault === "serverError") {
        res.writeHead(500, { "content-type": "application/json" });
        return void res.end(errorBody("The server had an error (injected fault).", "server_error", null));
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(payload);
      served++;
    };
    if (latency > 0) setTimeout(send, latency);
    else send();
  });
});
server.keepAliveTimeout = 60_000;
process.on("SIGTERM", () => {
  const seconds = firstAt === undefined ? 0 : (lastAt - firstAt) / 1000;
  process.stdout.write(`${JSON.stringify({ served, seconds, injected })}\n`, () => process.exit(0));
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/v1\n`);
});
