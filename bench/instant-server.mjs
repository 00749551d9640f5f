/**
 * A minimal Chat Completions server for benchmarks: answers every request after LATENCY_MS
 * (default 0) with a reply built from the row, so the client's own cost is what gets measured.
 * Runs as its own process so its CPU and memory are not counted in the measured one, and keeps
 * no per-request state, so a million requests cost it nothing. Prints its base URL on stdout;
 * on SIGTERM prints `{"served", "seconds"}` (first request to last answer) and exits.
 *
 *   LATENCY_MS=50 node bench/instant-server.mjs
 */
import http from "node:http";

const latency = Number(process.env.LATENCY_MS ?? 0);
let served = 0;
let firstAt;
let lastAt;

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
    const send = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(payload);
      served++;
      lastAt = performance.now();
    };
    if (latency > 0) setTimeout(send, latency);
    else send();
  });
});
server.keepAliveTimeout = 60_000;
process.on("SIGTERM", () => {
  const seconds = firstAt === undefined ? 0 : (lastAt - firstAt) / 1000;
  process.stdout.write(`${JSON.stringify({ served, seconds })}\n`, () => process.exit(0));
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/v1\n`);
});
