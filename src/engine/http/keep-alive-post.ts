import http from "node:http";
import type https from "node:https";
import { createRequire } from "node:module";
import type { HeaderReader } from "./rate-limit-headers.js";

// The fast path's HTTP: POSTs over Node's own http client with a keep-alive agent. Chosen over
// undici's Pool (issue 14) by measurement on 2 cores, 10,000 requests at c = 64 to a loopback
// server: the same CPU per request within noise (cold 180-210 µs both, warm 86-103), while
// undici's pool, client and HTTP/2 modules cost 50-60 ms of every start and node:http is part
// of Node's start already. It also takes a dependency away.

/** An HTTP answer with its whole body: what the pacer and the SDK's `shouldRetry` read (a status and `headers.get`). */
export interface Answer {
  status: number;
  headers: HeaderReader;
  /** The headers as Node parsed them (names in lower case). */
  raw: http.IncomingHttpHeaders;
  /** The body; "" for a redirect, whose body is not read. */
  text: string;
}

/** Codes of the errors a post fails with when time runs out (the connection's own errors keep theirs). */
export const TIMEOUT = {
  /** No connection within the timeout: like a refused one, the address may be wrong (see first-contact.ts). */
  connect: "LLM_EXTRACT_CONNECT_TIMEOUT",
  /** Connected, and the request sent, but no response headers within the timeout. */
  headers: "LLM_EXTRACT_HEADERS_TIMEOUT",
  /** Headers came, then the body stalled for {@link BODY_IDLE_MS}. */
  body: "LLM_EXTRACT_BODY_TIMEOUT",
} as const;

/** How long a response body may stall between chunks: undici's default body timeout, the one Node's `fetch` (the SDK path) has. */
const BODY_IDLE_MS = 300_000;

/**
 * Idle keep-alive connections are closed after this: servers close theirs after about 5 s
 * (Node's default, uvicorn's), and a request sent on a connection the server is closing fails
 * with a reset that costs a retry with backoff.
 */
const IDLE_SOCKET_MS = 4_000;

/** Posts to one server over at most `connections` keep-alive connections. */
export class KeepAlivePoster {
  readonly #request: typeof http.request;
  readonly #agent: http.Agent;
  readonly #host: string;
  readonly #port: string;
  /** The Host header: the origin's host, with its port when not the protocol's default. */
  readonly #hostHeader: string;
  /** Per headers object, its entries as a flat name/value list: the form Node writes without copying them one by one (a run sends the same object each time). */
  readonly #headerLists = new WeakMap<Record<string, string>, string[]>();
  readonly #timeout: number;
  /** Per caller's signal, its requests in flight: one abort listener per signal, not one per request (a run shares one signal). */
  readonly #live = new WeakMap<AbortSignal, Set<http.ClientRequest>>();

  /**
   * @param origin `http:` or `https:` URL of the server.
   * @param options.timeout Milliseconds from sending a request until its response headers (connecting included).
   */
  constructor(origin: URL, options: { connections: number; timeout: number }) {
    // https (and with it tls) only for an https server: a local server's run does not load it.
    const transport: typeof http | typeof https = origin.protocol === "https:" ? (createRequire(import.meta.url)("node:https") as typeof https) : http;
    this.#request = transport.request as typeof http.request;
    this.#agent = new transport.Agent({ keepAlive: true, maxSockets: options.connections, timeout: IDLE_SOCKET_MS });
    this.#host = origin.hostname.replace(/^\[|\]$/g, ""); // an IPv6 address without its brackets
    this.#port = origin.port;
    this.#hostHeader = origin.host;
    this.#timeout = options.timeout;
  }

  /**
   * One POST; resolves to the answer with its whole body, rejects with the connection's error
   * (its `code`: `ECONNREFUSED`, `ECONNRESET`...) or one of {@link TIMEOUT}, or, when `signal`
   * aborts, with an error whose cause is the signal's reason.
   */
  post(path: string, headers: Record<string, string>, body: string, signal: AbortSignal | undefined): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      // Headers as a flat list: Node then writes them as given, where an object costs a `setHeader`
      // per name (each checked and stored, then read back), about a tenth of the request's CPU.
      // Node adds no Host header to a list, so it is in it.
      let list = this.#headerLists.get(headers);
      if (!list) this.#headerLists.set(headers, (list = [...Object.entries(headers).flat(), "host", this.#hostHeader]));
      const request = this.#request({
        agent: this.#agent,
        host: this.#host,
        port: this.#port,
        path,
        method: "POST",
        headers: [...list, "content-length", String(Buffer.byteLength(body))],
      });
      const fail = (code: string, message: string) => request.destroy(Object.assign(new Error(message), { code }));
      // Connected means a socket that is done connecting (a kept-alive one always is): read when
      // the timer fires, not tracked with a listener on every request.
      const connected = () => request.socket?.connecting === false;
      let timer = setTimeout(() => (connected() ? fail(TIMEOUT.headers, `No response headers within ${this.#timeout} ms`) : fail(TIMEOUT.connect, `No connection within ${this.#timeout} ms`)), this.#timeout);
      const untrack = signal ? this.#track(signal, request) : () => undefined;
      const settle = () => {
        clearTimeout(timer);
        untrack();
      };
      request.on("error", (error) => {
        settle();
        reject(error);
      });
      request.on("response", (response) => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        const answer = (text: string): Answer => ({ status, headers: headerReader(response.headers), raw: response.headers, text });
        // A redirect is left to the SDK path (`fetch` follows it): its body is not needed.
        if (status >= 300 && status < 400) {
          settle();
          response.resume();
          resolve(answer(""));
          return;
        }
        timer = setTimeout(() => fail(TIMEOUT.body, `The response body stalled for ${BODY_IDLE_MS} ms`), BODY_IDLE_MS);
        // Bytes kept as they come and decoded once at the end (a reply is one chunk or a few):
        // no string decoder per response.
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          timer.refresh();
        });
        response.on("end", () => {
          settle();
          resolve(answer((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8")));
        });
        // A connection lost (or destroyed by the timer) mid-body.
        const lost = (error?: Error) => {
          settle();
          reject(error ?? Object.assign(new Error("The connection closed before the response ended"), { code: "ECONNRESET" }));
        };
        response.on("error", lost);
        response.on("close", () => response.complete || lost());
      });
      request.end(body);
    });
  }

  /** Adds `request` to the ones `signal` aborts; returns the way to take it out again. */
  #track(signal: AbortSignal, request: http.ClientRequest): () => void {
    if (signal.aborted) {
      request.destroy(abortError(signal));
      return () => undefined;
    }
    let live = this.#live.get(signal);
    if (!live) {
      const requests = new Set<http.ClientRequest>();
      signal.addEventListener("abort", () => requests.forEach((each) => each.destroy(abortError(signal))), { once: true });
      this.#live.set(signal, (live = requests));
    }
    const requests = live.add(request);
    return () => requests.delete(request);
  }
}

function abortError(signal: AbortSignal): Error {
  return new Error("The request was aborted", { cause: signal.reason });
}

/** `headers.get(name)` over Node's parsed headers, repeated ones joined as the Fetch standard joins them. */
function headerReader(raw: http.IncomingHttpHeaders): HeaderReader {
  return {
    get(name: string) {
      const value = raw[name];
      return value === undefined ? null : typeof value === "string" ? value : value.join(", ");
    },
  };
}
