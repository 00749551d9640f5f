/**
 * The pacer's shared gate: a 429 closes it for every request of the run, for as long as the
 * server asks; waiters leave it at jittered times, so they do not come back in lockstep.
 */

/** Waiters leave an opened gate spread over this share of the wait (at most one second). */
const JITTER_SHARE = 0.5;
const JITTER_MAX_MS = 1_000;

/** The clock, randomness and sleep a gate runs on (injectable, so unit tests need not sleep). */
export interface GateClock {
  now: () => number;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class SharedGate {
  /** Closed until this time; waiters add a jitter of up to `#spread`. */
  #until = -Infinity;
  #spread = 0;

  readonly #clock: GateClock;

  constructor(clock: GateClock) {
    this.#clock = clock;
  }

  /** True while the gate is closed. */
  closedAt(now: number): boolean {
    return now < this.#until;
  }

  /** Closes the gate for `waitMs` from now, unless it is closed for longer already. */
  close(waitMs: number): void {
    const until = this.#clock.now() + waitMs;
    if (until <= this.#until) return;
    this.#until = until;
    this.#spread = Math.min(waitMs * JITTER_SHARE, JITTER_MAX_MS);
  }

  /** Resolves once the gate is open (plus this waiter's jitter); rejects when `signal` aborts. */
  async pass(signal: AbortSignal | undefined): Promise<void> {
    let jitter: number | undefined;
    for (;;) {
      const now = this.#clock.now();
      if (now >= this.#until + (jitter ?? 0)) return;
      jitter ??= this.#clock.random() * this.#spread;
      await this.#clock.sleep(this.#until + jitter - now, signal);
    }
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
