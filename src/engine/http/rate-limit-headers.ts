/**
 * Reading OpenAI's rate-limit headers: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`,
 * `retry-after-ms` and `retry-after`. Pure functions; the pacer decides what to do with them.
 */

/** What a response's headers offer: `Headers`, or anything with the same `get`. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** True when the answer reports a remaining count, and every reported one has room for another request like this one. */
export function hasRoomLeft(headers: HeaderReader, cost: number): boolean {
  if (headers.get("x-ratelimit-remaining-requests") === null && headers.get("x-ratelimit-remaining-tokens") === null) return false;
  return !reportsNoRoom(headers, cost);
}

/** True when a remaining count the answer reports (requests or tokens) has no room for another request like this one. */
export function reportsNoRoom(headers: HeaderReader, cost: number): boolean {
  const requests = headers.get("x-ratelimit-remaining-requests");
  const tokens = headers.get("x-ratelimit-remaining-tokens");
  return (requests !== null && Number(requests) < 1) || (tokens !== null && Number(tokens) < cost);
}

export function positive(value: string | null): number | undefined {
  if (value === null) return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
}

/** `retry-after-ms` (OpenAI's), else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: HeaderReader): number | undefined {
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * When the server reports a limit used up (`x-ratelimit-remaining-*` of 0), the time until it
 * has room again: its `x-ratelimit-reset-*` duration (the longer one if both are used up).
 */
export function exhaustedResetMs(headers: HeaderReader): number | undefined {
  let wait: number | undefined;
  for (const kind of ["requests", "tokens"] as const) {
    const remaining = headers.get(`x-ratelimit-remaining-${kind}`);
    if (remaining === null || Number(remaining) > 0) continue;
    const reset = parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`));
    if (reset !== undefined) wait = Math.max(wait ?? 0, reset);
  }
  return wait;
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses OpenAI's reset durations (`12ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`) into milliseconds;
 * a bare number is taken as seconds. Undefined for anything else.
 */
export function parseResetDuration(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}
