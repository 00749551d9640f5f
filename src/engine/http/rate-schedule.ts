/**
 * When the next request may start under the known rate limits: a GCRA ("virtual scheduling") per
 * limit, plus the ramp that spreads a window's first requests over one round trip. Pure
 * arithmetic on a clock the caller passes in; the waiting (and its queue) is the Pacer's.
 */

/**
 * How close a request may start to its limit's theoretical arrival time. Absorbs timer lateness
 * (a timer fires a millisecond or two late, and spacing should catch up rather than drift) and
 * allows a small burst after an idle spell; servers enforce per-minute limits over slices of
 * about a second, so a burst of 50 ms worth of quota stays well inside them.
 */
const TOLERANCE_MS = 50;

/** The limits to space requests under: requests and tokens per minute. */
export interface RateLimits {
  rpm?: number;
  tpm?: number;
}

export class RateSchedule {
  /** Theoretical arrival times (GCRA) of the request and token limits. */
  #requestTat = -Infinity;
  #tokenTat = -Infinity;
  /** Until this time, requests are spaced `#rampInterval` apart (GCRA without tolerance). */
  #rampUntil = -Infinity;
  #rampInterval = 0;
  #rampTat = -Infinity;

  /**
   * Opened at once, a window would send its requests in one burst; their answers would then
   * come back together, each waiting for the CPU the others need, and every round trip after
   * would repeat the crowd. Spread over one round trip instead, they stay spread.
   */
  startRamp(now: number, roundTripMs: number, window: number): void {
    if (roundTripMs <= 0 || window <= 1) return;
    this.#rampInterval = roundTripMs / window;
    this.#rampTat = now;
    this.#rampUntil = now + roundTripMs;
  }

  /** True while the ramp spaces requests. */
  ramping(now: number): boolean {
    return now < this.#rampUntil;
  }

  /** The earliest time a request may start. */
  earliestStart(now: number): number {
    const limited = Math.max(this.#requestTat, this.#tokenTat) - TOLERANCE_MS;
    return this.ramping(now) ? Math.max(limited, this.#rampTat) : limited;
  }

  /** Books a request of `cost` tokens starting at `now` (at or after {@link earliestStart}), at `pace` (a share of the limits). */
  book(now: number, cost: number, { rpm, tpm }: RateLimits, pace: number): void {
    // On schedule, not from `now`: a timer firing a millisecond late must not delay the rest.
    if (this.ramping(now)) this.#rampTat += this.#rampInterval;
    if (rpm !== undefined) this.#requestTat = Math.max(this.#requestTat, now) + 60_000 / (rpm * pace);
    if (tpm !== undefined) this.#tokenTat = Math.max(this.#tokenTat, now) + (60_000 * cost) / (tpm * pace);
  }
}
