import { ExtractError, redactSecrets } from "../../errors/extract-error.js";
import { TIMEOUT } from "./keep-alive-post.js";

// Telling "the server went away for a moment" from "there is no server": before the first HTTP
// answer of a run, a connection that cannot even be opened almost always means a wrong URL or a
// server that is not up, and every row would fail the same way after the SDK's full backoff
// (about 7 s per row with the default 4 retries). After the first answer, the same error is an
// outage that may pass, and stays a matter of one row.

/**
 * Codes of a connection that could not be opened at all: nothing listens on the port, no such
 * host, no route. A connection reset or a timeout is not among them: something answered there.
 */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  // No connection within the timeout: `fetch`'s (the SDK path), and the fast path's own.
  "UND_ERR_CONNECT_TIMEOUT",
  TIMEOUT.connect,
]);

/**
 * HTTP attempts of one call that may fail to connect before the run gives up on the server: the
 * first, and one quick retry (the SDK's first backoff, about half a second) for a server that is
 * still starting.
 */
const FIRST_CONTACT_TRIES = 2;

/** Carries a call's {@link CallGuard} from `complete()` to the fetch, like the pacing cost. */
export const CALL_GUARD = Symbol("llm-extract.callGuard");

/** One call's count of failed connections, and how to stop its retries. */
export interface CallGuard {
  failures: number;
  /** Ends the call's retries (by aborting its signal), remembering the connection error. */
  giveUp(error: Error): void;
  /** The connection error the call gave up on, once it has. */
  gaveUpOn?: Error;
}

/**
 * Watches the HTTP attempts of one engine (one run): whether any answer has come back yet, and,
 * until one has, stops a call whose connection cannot be opened after {@link FIRST_CONTACT_TRIES}.
 */
export class FirstContact {
  /** True once any HTTP answer (of any status) has arrived in this run. */
  answered = false;

  /** A guard for one call; `abort` stops that call (the SDK does not retry an aborted call). */
  guard(abort: (reason: Error) => void): CallGuard {
    const guard: CallGuard = {
      failures: 0,
      giveUp(error) {
        guard.gaveUpOn = error;
        abort(error);
      },
    };
    return guard;
  }

  /** Runs one HTTP attempt of a call, noting an answer, or a failed connection before any. */
  async track<T>(guard: CallGuard | undefined, send: () => Promise<T>): Promise<T> {
    try {
      const answer = await send();
      this.answered = true;
      return answer;
    } catch (error) {
      if (guard && !this.answered && unreachableCause(error) && ++guard.failures >= FIRST_CONTACT_TRIES) guard.giveUp(error as Error);
      throw error;
    }
  }

  /**
   * The connection error that makes `error` (what a call threw) the end of the run: the call gave
   * up on first contact, or it failed to connect with no retry left and nothing has answered yet.
   */
  runEndingCause(error: unknown, guard: CallGuard): Error | undefined {
    if (guard.gaveUpOn) return unreachableCause(guard.gaveUpOn);
    if (this.answered || !(error instanceof Error)) return undefined;
    return unreachableCause(error.cause);
  }
}

/**
 * The innermost error with an unreachable code in `error`'s chain: undici wraps it as the cause
 * of "fetch failed", and a host with several addresses gives an AggregateError of them.
 */
export function unreachableCause(error: unknown, depth = 0): Error | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const inner = unreachableCause(error.cause, depth + 1);
  if (inner) return inner;
  // The attempts of an AggregateError carry the messages that name the address; it has none itself.
  if (error instanceof AggregateError) {
    for (const each of error.errors) {
      const found = unreachableCause(each, depth + 1);
      if (found) return found;
    }
  }
  if (isBlockedPort(error)) return error;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && UNREACHABLE_CODES.has(code) ? error : undefined;
}

/**
 * Node's fetch refuses ports the Fetch standard blocks (1, 25, 6000...) before connecting, with
 * the standard's own words and no code: "bad port".
 */
function isBlockedPort(error: Error): boolean {
  return error.message === "bad port";
}

/**
 * `CONNECTION_FAILED` that ends the run: the server never answered and its address cannot be
 * reached, so every row would fail the same way, each after a full round of retries.
 */
export function unreachableServer(baseURL: string, connection: Error, error: unknown, secrets: readonly (string | null | undefined)[]): ExtractError {
  const code = (connection as { code?: string }).code;
  const detail = isBlockedPort(connection)
    ? "fetch never connects to that port (the Fetch standard blocks it; choose another)"
    : connection.message || code || "the connection failed";
  const codeNote = code && !detail.includes(code) ? ` (${code})` : "";
  return new ExtractError(
    "CONNECTION_FAILED",
    redactSecrets(
      `Could not connect to ${baseURL}: ${detail}${codeNote}. Nothing has answered there in this run, so no row can be done. ` +
        "Check `baseURL` (or OPENAI_BASE_URL) and that the server is up.",
      secrets,
    ),
    { cause: error, fatal: true },
  );
}
