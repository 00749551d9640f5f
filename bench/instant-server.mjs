/**
 * A minimal Chat Completions server for benchmarks: answers every request at once (or after
 * LATENCY_MS) with a reply built from the row, so the pipeline's own cost is what gets measured.
 * Runs as its own process so its CPU and memory are not counted in the measured one.
 * Prints its base URL on stdout, then serves until killed.
 *
 *   node bench/instant-server.mjs            # LATENCY_MS=0
 */
import http from "node:http";

const latency = Number(process.env.LATENCY_MS ?? 0);
let served = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const row = JSON.parse(body.messages[1].content);
    const content = JSON.stringify({ name: String(row.text ?? "").toUpperCase(), age: Number(row.id) || null });
    const payload = JSON.stringify({
      id: `chatcmpl-${++served}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 100, completion_tokens: 12, total_tokens: 112 },
    });
    const send = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(payload);
    };
    if (latency > 0) setTimeout(send, latency);
    else send();
  });
});
server.keepAliveTimeout = 60_000;
// The request count, for scripts that check how many calls a run made.
process.on("SIGTERM", () => {
  process.stderr.write(`served ${served}\n`);
  process.exit(0);
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/v1\n`);
});
