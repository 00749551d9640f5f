import pLimit, { type LimitFunction } from "p-limit";
import { exhaustedResetMs, hasRoomLeft, positive, reportsNoRoom, retryAfterMs, type HeaderReader } from "./rate-limit-headers.js";
import { RateSchedule, type RateLimits } from "./rate-schedule.js";
import { SharedGate, sleep } from "./shared-gate.js";

/**
 * Request pacing shared by every call of a run: the one place that acts on rate limits (their
 * headers are read in rate-limit-headers.ts).
 *
 * Three mechanisms, each answering a different way of running into a limit:
 * - **Rate spacing.** When the requests-per-minute or tokens-per-minute limit is known (from
 *   `rpm`/`tpm`, or from the server's `x-ratelimit-limit-*` headers), requests are spaced so the
 *   run stays under it, instead of bursting and colliding with it. Spacing is a GCRA
 *   ("virtual scheduling") per limit: a request may start once the limit's theoretical arrival
 *   time is at most a small tolerance away, and then pushes it on by its cost (rate-schedule.ts).
 * - **A shared gate.** A 429 closes the gate for every request, not only the one that got it,
 *   for as long as the server asks (`retry-after-ms`, `retry-after`, else the reset time of the
 *   exhausted limit, else an exponential backoff). Waiters leave the gate at jittered times, so
 *   they do not come back in lockstep. A server reporting 0 remaining closes it too.
 * - **Isolated 429s pass.** A flaky server or a busy proxy answers an odd request 429 while the
 *   rest go through. A 429 among few others (under `SUSTAINED_SHARE` of recent answers) whose
 *   headers report no used-up limit is noise: once enough answers are in to tell (`SHARE_SPAN`),
 *   it is left to the request's own retry, which waits as the server asks; before that it closes
 *   the gate but cuts nothing. 429s that keep coming, or headers that say the budget is spent,
 *   are a limit: gate and cut as below.
 * - **An adaptive window.** At most `window` requests are in flight. It starts at 1 (unless
 *   `probe` is off), so the first answer's headers are known before the rest of the run starts;
 *   then opens to the run's concurrency, spreading the first requests over one round trip (see
 *   `RateSchedule.startRamp`); halves on a 429 (once per episode, not once per 429 in flight);
 *   and grows back by one per window's worth of answers (additive increase, as in TCP
 *   congestion control).
 *
 * Transport retries follow the SDK's rules (openai.ts); every attempt, retries included, passes
 * the pacer, so retries wait at the gate too.
 */
export interface PacerOptions {
  /** The most requests in flight: the run's concurrency. */
  concurrency: number;
  /** Requests per minute to stay under, on top of what the server advertises. */
  rpm?: number;
  /** Tokens per minute to stay under (prompt estimate plus output budget of each request). */
  tpm?: number;
  /**
   * Send one request alone first, and open the window (spread over one round trip) only once its
   * answer, with the server's limits in its headers, is in. False starts with the whole window:
   * for a server that is not expected to limit this client, the probe would cost one and a half
   * round trips of idle slots at the start of every run. @default true
   */
  probe?: boolean;
  /** Clock in milliseconds; injectable so unit tests need not sleep. @default performance.now */
  now?: () => number;
  /** Uniform random numbers in [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Waits `ms` or until the signal aborts. @default setTimeout-based */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What the pacer learned from one answer: its status and headers (undefined: no answer, e.g. a dropped connection). */
export interface PacedAnswer {
  status: number;
  headers: HeaderReader;
}

/** Counters of a run's pacing, for summaries and benchmarks. */
export interface PacingStats {
  /** Requests that went out (SDK retries included). */
  requests: number;
  /** Answers with status 429. */
  rateLimited: number;
  /** Times the window was halved. */
  windowCuts: number;
  /** The limits in force at the end of the run (undefined: none known). */
  rpm?: number;
  tpm?: number;
}

/** Backoff after a 429 that says nothing about when to come back: 0.5 s, 1 s, 2 s ... up to 8 s. */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;
/** After a 429 at a known limit, the pace drops to this share of it, then creeps back. */
const PACE_CUT = 0.9;
const PACE_FLOOR = 0.5;
// Slow on purpose: a token estimate that is 10% off costs one 429 per ~200 answers, not one per 50.
const PACE_RECOVERY_PER_ANSWER = 0.0005;
/**
 * The share of 429s is a moving average over about this many answers, and no 429 counts as
 * isolated before that many are in (until then, the pacer cannot tell noise from a limit).
 */
const SHARE_SPAN = 32;
/**
 * From this share of 429s among recent answers, they are a limit, not noise. The moving share of
 * a flaky server's random 429s has a long tail: at 0.15, 9% of 5,400-answer runs at a 3% fault
 * rate (and 84% at 5%) met it somewhere, and the cut that followed would hold the window near
 * half for the rest of the run (it grows back one slot per window's worth of answers). At 0.2:
 * 0.13% and 5% (a simulation of this average, 3,000 runs each). A limit that its headers do not
 * report, exceeded by a third (a 25% share), crosses it after about 47 answers; 50%, about 17.
 */
const SUSTAINED_SHARE = 0.2;

/** One paced request, from {@link Pacer.acquire} to {@link Pacer.settle}. */
export interface PacingTicket {
  /** The window episode the request was sent in: a 429 from an older episode does not cut again. */
  readonly episode: number;
  /** Its token cost, to tell whether a 429 was about the token limit. */
  readonly cost: number;
  /** When it went out, on the pacer's clock. */
  readonly sentAt: number;
}

export class Pacer {
  readonly stats: PacingStats = { requests: 0, rateLimited: 0, windowCuts: 0 };
  readonly #slots: LimitFunction;
  readonly #maxWindow: number;
  readonly #userLimits: { rpm?: number; tpm?: number };
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Closed by 429s for every request (shared-gate.ts). */
  readonly #gate: SharedGate;

  /** Limits learned from headers (the user's own caps apply on top). */
  #serverLimits: { rpm?: number; tpm?: number } = {};
  /** The limits in force: the lower of the user's cap and the server's advertised limit. */
  #limits: RateLimits = {};
  /** Share of the known limits to pace at; below 1 after 429s at a known limit. */
  #pace = 1;
  /** When the next request may start under the limits in force (and the opening ramp). */
  readonly #schedule = new RateSchedule();
  /** Consecutive 429-started backoffs without a success in between, for the exponential fallback. */
  #backoffs = 0;
  #window: number;
  /** Answers so far, and the moving share of 429s among them (see `SHARE_SPAN`). */
  #answers = 0;
  #share429 = 0;
  #episode = 0;
  #probing: boolean;
  /** FIFO of requests waiting for a rate slot: only the head sleeps, so spacing costs one timer. */
  #turn: Promise<void> = Promise.resolve();

  constructor(options: PacerOptions) {
    this.#maxWindow = options.concurrency;
    this.#userLimits = { rpm: options.rpm, tpm: options.tpm };
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? sleep;
    this.#gate = new SharedGate({ now: this.#now, random: options.random ?? Math.random, sleep: this.#sleep });
    this.#probing = options.probe ?? true;
    this.#window = this.#probing ? 1 : this.#maxWindow;
    this.#slots = pLimit(this.#window);
    this.#refreshLimits();
  }

  /** Requests allowed in flight right now. */
  get window(): number {
    return this.#slots.concurrency;
  }

  /**
   * Runs `send` when the window, the gate and the rate limits allow a request of `cost` tokens,
   * then hands its answer to {@link settle}. `send` resolves to the answer, or rejects (no answer).
   */
  async run<T extends PacedAnswer>(cost: number, signal: AbortSignal | undefined, send: () => Promise<T>): Promise<T> {
    return this.#slots(async () => {
      // Most requests of a fast run meet no gate and no rate limit: no wait, no extra promise.
      const ticket = this.#mustWait() ? await this.acquire(cost, signal) : this.#issue(cost);
      let answer: T | undefined;
      try {
        answer = await send();
        return answer;
      } finally {
        this.settle(ticket, answer);
      }
    });
  }

  /** Waits for the gate and a rate slot (the caller holds a window slot). */
  async acquire(cost: number, signal?: AbortSignal): Promise<PacingTicket> {
    await this.#gate.pass(signal);
    if (this.#spaced()) await this.#takeRateSlot(cost, signal);
    return this.#issue(cost);
  }

  /** True when a request may have to wait: the gate is closed, or requests are being spaced. */
  #mustWait(): boolean {
    return this.#gate.closedAt(this.#now()) || this.#spaced();
  }

  #spaced(): boolean {
    return this.#limits.rpm !== undefined || this.#limits.tpm !== undefined || this.#schedule.ramping(this.#now());
  }

  #issue(cost: number): PacingTicket {
    this.stats.requests++;
    return { episode: this.#episode, cost, sentAt: this.#now() };
  }

  /** Learns from an answer: limits from its headers, and 429s close the gate and cut the window. */
  settle(ticket: PacingTicket, answer: PacedAnswer | undefined): void {
    if (!answer) return; // a connection error or timeout says nothing about the limits
    const headers = answer.headers;
    const rpm = positive(headers.get("x-ratelimit-limit-requests"));
    const tpm = positive(headers.get("x-ratelimit-limit-tokens"));
    if (rpm !== this.#serverLimits.rpm || tpm !== this.#serverLimits.tpm) {
      if (rpm !== undefined || tpm !== undefined) {
        this.#serverLimits = { rpm: rpm ?? this.#serverLimits.rpm, tpm: tpm ?? this.#serverLimits.tpm };
        this.#refreshLimits();
      }
    }
    const limited = answer.status === 429;
    this.#answers++;
    this.#share429 += ((limited ? 1 : 0) - this.#share429) / SHARE_SPAN;
    if (limited) return this.#onRateLimited(ticket, headers);

    this.#backoffs = 0;
    this.#pace = Math.min(1, this.#pace + PACE_RECOVERY_PER_ANSWER);
    this.#closeGateIfExhausted(headers);
    if (this.#probing) {
      // The first answer is in, with the limits if the server tells them: open the window.
      this.#probing = false;
      this.#setWindow(this.#maxWindow);
      const now = this.#now();
      this.#schedule.startRamp(now, now - ticket.sentAt, this.#maxWindow);
    } else if (this.#window < this.#maxWindow) {
      this.#setWindow(this.#window + 1 / this.#window);
    }
  }

  #onRateLimited(ticket: PacingTicket, headers: HeaderReader): void {
    this.stats.rateLimited++;
    // A limit: the headers say the budget is spent, or 429s make up a good share of the answers.
    const sustained = reportsNoRoom(headers, ticket.cost) || this.#share429 >= SUSTAINED_SHARE;
    // Isolated, with enough answers in to tell: only the request that got it waits (its retry).
    if (!sustained && this.#answers > SHARE_SPAN) return;
    const wait =
      retryAfterMs(headers) ??
      exhaustedResetMs(headers) ??
      Math.min(BACKOFF_BASE_MS * 2 ** this.#backoffs, BACKOFF_MAX_MS);
    this.#backoffs++;
    this.#gate.close(wait);
    // Too early to tell a limit from noise: everyone waits as asked, but the window stays (and a
    // probe stays a probe: the next success still opens the window).
    if (!sustained) return;
    this.#probing = false;
    // A 429 whose headers show room left under both limits is not about this run's pace (the
    // server is busy, or something else throttles): wait as asked, but keep the window and pace.
    if (hasRoomLeft(headers, ticket.cost)) return;
    // Answers to requests sent before the last cut describe the old window: cut once per episode.
    if (ticket.episode === this.#episode) {
      this.#episode++;
      this.stats.windowCuts++;
      this.#setWindow(Math.max(1, this.#window / 2));
      if (this.#limits.rpm !== undefined || this.#limits.tpm !== undefined) {
        // Hitting a known limit means the estimate of it (or of the token cost) is off.
        this.#pace = Math.max(PACE_FLOOR, this.#pace * PACE_CUT);
      }
    }
  }

  /** A server at 0 remaining requests, or without room for a small request, will answer 429: wait first. */
  #closeGateIfExhausted(headers: HeaderReader): void {
    const wait = exhaustedResetMs(headers);
    if (wait !== undefined) this.#gate.close(wait);
  }

  async #takeRateSlot(cost: number, signal: AbortSignal | undefined): Promise<void> {
    const before = this.#turn;
    let done!: () => void;
    this.#turn = new Promise((resolve) => (done = resolve));
    try {
      await before;
      for (;;) {
        const now = this.#now();
        const start = this.#schedule.earliestStart(now);
        if (now >= start) {
          this.#schedule.book(now, cost, this.#limits, this.#pace);
          return;
        }
        await this.#sleep(start - now, signal);
        // The gate may have closed while this request waited for its slot.
        await this.#gate.pass(signal);
      }
    } finally {
      done();
    }
  }

  #setWindow(size: number): void {
    this.#window = size;
    const slots = Math.max(1, Math.floor(size));
    if (this.#slots.concurrency !== slots) this.#slots.concurrency = slots;
  }

  #refreshLimits(): void {
    const lower = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
    this.#limits = {
      rpm: lower(this.#userLimits.rpm, this.#serverLimits.rpm),
      tpm: lower(this.#userLimits.tpm, this.#serverLimits.tpm),
    };
    this.stats.rpm = this.#limits.rpm;
    this.stats.tpm = this.#limits.tpm;
  }
}
