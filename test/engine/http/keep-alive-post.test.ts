import { getEventListeners } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { KeepAlivePoster, TIMEOUT } from "../../../src/engine/http/keep-alive-post.js";

// The fast path's HTTP, against a plain loopback server scripted per test.

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A server answering each request with `handle`; resolves to its URL and the client ports it saw. */
async function serve(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const ports: number[] = [];
  server = http.createServer((req, res) => {
    ports.push(req.socket.remotePort!);
    req.resume();
    req.on("end", () => handle(req, res));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), ports };
}

const poster = (url: URL, timeout = 5_000) => new KeepAlivePoster(url, { connections: 4, timeout });

describe("KeepAlivePoster", () => {
  it("returns the status, the headers (repeated ones joined) and the body, over one kept-alive connection", async () => {
    const { url, ports } = await serve((req, res) => {
      res.setHeader("x-ratelimit-limit-requests", "60");
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.end(JSON.stringify({ path: req.url, length: req.headers["content-length"], auth: req.headers.authorization, host: req.headers.host, connection: req.headers.connection }));
    });
    const client = poster(url);
    const first = await client.post("/v1/chat/completions", { authorization: "Bearer sk-x" }, '{"é":1}', undefined);
    const second = await client.post("/v1/chat/completions", { authorization: "Bearer sk-x" }, "{}", undefined);
    expect(first.status).toBe(200);
    // content-length counts bytes, not UTF-16 units.
    expect(JSON.parse(first.text)).toEqual({ path: "/v1/chat/completions", length: "8", auth: "Bearer sk-x", host: url.host, connection: "keep-alive" });
    expect(JSON.parse(second.text)).toMatchObject({ length: "2", host: url.host });
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("60");
    expect(first.headers.get("set-cookie")).toBe("a=1, b=2");
    expect(first.headers.get("retry-after")).toBeNull();
    expect(second.status).toBe(200);
    expect(ports[1]).toBe(ports[0]);
  });

  it("decodes a character whose bytes arrive in two chunks", async () => {
    const bytes = Buffer.from('{"name":"Zoë"}');
    const split = bytes.indexOf(0xc3) + 1; // between the two bytes of ë
    const { url } = await serve((_req, res) => {
      res.write(bytes.subarray(0, split));
      setTimeout(() => res.end(bytes.subarray(split)), 20);
    });
    const answer = await poster(url).post("/v1/chat/completions", {}, "{}", undefined);
    expect(answer.text).toBe('{"name":"Zoë"}');
  });

  it("does not read a redirect's body", async () => {
    const { url } = await serve((_req, res) => res.writeHead(307, { location: "/elsewhere" }).end("moved"));
    const answer = await poster(url).post("/v1/chat/completions", {}, "{}", undefined);
    expect(answer).toMatchObject({ status: 307, text: "" });
    expect(answer.headers.get("location")).toBe("/elsewhere");
  });

  it("fails with the headers timeout's code when the server is silent", async () => {
    const { url } = await serve(() => undefined); // never answers
    const failure = await poster(url, 100).post("/v1/chat/completions", {}, "{}", undefined).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: TIMEOUT.headers });
  });

  it("fails with the connect timeout's code when no connection is had in time", async () => {
    // Loopback cannot leave a connection attempt unanswered, so the second request is kept from
    // connecting another way: the only connection is held by a reply whose body never ends. Its
    // timer fires with no connected socket; Node reports the error once the connection frees up.
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{");
      holding();
    });
    const client = new KeepAlivePoster(url, { connections: 1, timeout: 1000 });
    const first = client.post("/v1/chat/completions", {}, "{}", undefined).catch((error: unknown) => error);
    await held;
    const second = client.post("/v1/chat/completions", {}, "{}", undefined).catch((error: unknown) => error);
    // Set after the second's timer and longer, so it fires after it.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    server?.closeAllConnections();
    expect(await first).toMatchObject({ code: "ECONNRESET" });
    expect(await second).toMatchObject({ code: TIMEOUT.connect });
  });

  it("fails with ECONNRESET when the connection closes mid-body", async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write('{"partial":');
      setImmediate(() => res.socket?.destroy());
    });
    const failure = await poster(url).post("/v1/chat/completions", {}, "{}", undefined).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ECONNRESET" });
  });

  it("aborts every request in flight on a shared signal, with one listener on it whatever their number", async () => {
    const { url } = await serve(() => undefined);
    const client = poster(url);
    const controller = new AbortController();
    const calls = [1, 2, 3].map(() => client.post("/v1/chat/completions", {}, "{}", controller.signal).catch((error: Error) => error));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    const reason = new Error("stop");
    controller.abort(reason);
    for (const failure of await Promise.all(calls)) expect((failure as Error).cause).toBe(reason);
  });

  it("sends nothing for a signal aborted before the call", async () => {
    const { url, ports } = await serve((_req, res) => res.end("{}"));
    const controller = new AbortController();
    controller.abort(new Error("already"));
    await expect(poster(url).post("/v1/chat/completions", {}, "{}", controller.signal)).rejects.toThrow("aborted");
    expect(ports).toEqual([]);
  });
});
