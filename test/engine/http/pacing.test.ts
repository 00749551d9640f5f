import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Pacer, type PacedAnswer } from "../../../src/engine/http/pacing.js";
import { parseResetDuration, retryAfterMs } from "../../../src/engine/http/rate-limit-headers.js";

// The pacer's logic runs on a fake clock: vitest's fake timers drive both Date.now (its clock
// here) and setTimeout (its sleeps), so these tests never wait and never depend on timing.
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

function answer(status: number, headers: Record<string, string> = {}): PacedAnswer {
  const lower = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { status, headers: { get: (name: string) => lower.get(name.toLowerCase()) ?? null } };
}

/** A ticket for calling settle() directly, as if a request of `cost` tokens had been sent at 0. */
const ticket = (cost = 0) => ({ episode: 0, cost, sentAt: 0 });

function pacer(options: Partial<ConstructorParameters<typeof Pacer>[0]> = {}): Pacer {
  return new Pacer({ concurrency: 8, now: () => Date.now(), random: () => 0.5, ...options });
}

/**
 * Starts `count` requests through the pacer; each is answered by `reply` (which may wait on
 * the fake clock). Returns the fake-clock times at which each one was sent, in sending order.
 */
function launch(target: Pacer, count: number, reply: (i: number) => PacedAnswer | Promise<PacedAnswer>, cost = 0) {
  const sent: number[] = [];
  const inFlight = { now: 0, max: 0 };
  const done = Promise.all(
    Array.from({ length: count }, (_, i) =>
      target.run(cost, undefined, async () => {
        sent.push(Date.now());
        inFlight.max = Math.max(inFlight.max, ++inFlight.now);
        try {
          return await reply(i);
        } finally {
          inFlight.now--;
        }
      }),
    ),
  );
  return { sent, inFlight, done };
}

const later = (ms: number, value: PacedAnswer) => new Promise<PacedAnswer>((resolve) => setTimeout(() => resolve(value), ms));

describe("Pacer: rate spacing", () => {
  it("spaces requests to stay under --rpm instead of bursting", async () => {
    const run = launch(pacer({ rpm: 600 }), 30, () => answer(200));
    await vi.advanceTimersByTimeAsync(10_000);
    await run.done;
    expect(run.sent).toHaveLength(30);
    // 600 per minute is one per 100 ms; each may start up to 50 ms early (timer slack).
    run.sent.forEach((time, i) => expect(time).toBeGreaterThanOrEqual(i * 100 - 50));
    expect(run.sent.filter((time) => time < 1000).length).toBeLessThanOrEqual(11);
  });

  it("spaces requests by their token cost under --tpm", async () => {
    // 6,000 tokens per minute = 100 per second; each request costs 50: two per second.
    const run = launch(pacer({ tpm: 6000 }), 10, () => answer(200), 50);
    await vi.advanceTimersByTimeAsync(10_000);
    await run.done;
    run.sent.forEach((time, i) => expect(time).toBeGreaterThanOrEqual(i * 500 - 50));
    expect(run.sent.at(-1)).toBeLessThanOrEqual(9 * 500);
  });

  it("learns the limits from x-ratelimit-limit-* headers, keeping a lower user cap", async () => {
    const limited = pacer({ tpm: 1000 });
    const run = launch(limited, 12, () => answer(200, { "x-ratelimit-limit-requests": "600", "x-ratelimit-limit-tokens": "90000" }));
    await vi.advanceTimersByTimeAsync(5_000);
    await run.done;
    expect(limited.stats).toMatchObject({ rpm: 600, tpm: 1000, requests: 12, rateLimited: 0 });
    // The first answer taught the pacer 600 RPM: the rest went out 100 ms apart.
    run.sent.slice(1).forEach((time, i) => expect(time).toBeGreaterThanOrEqual(i * 100 - 50));
  });

  it("sends without delay when no limit is known", async () => {
    const run = launch(pacer(), 50, () => answer(200));
    await vi.advanceTimersByTimeAsync(0);
    await run.done;
    expect(new Set(run.sent)).toEqual(new Set([0]));
  });
});

describe("Pacer: window", () => {
  it("sends one request first, then spreads the full window over the next round trip", async () => {
    const run = launch(pacer({ concurrency: 8 }), 20, () => later(100, answer(200)));
    await vi.advanceTimersByTimeAsync(50);
    expect(run.sent).toHaveLength(1);
    // The probe took 100 ms: the 8 slots open 100 / 8 = 12.5 ms apart, not in one burst.
    await vi.advanceTimersByTimeAsync(150);
    const ramp = run.sent.slice(1, 9);
    expect(ramp).toHaveLength(8);
    // On schedule, give or take the fake clock's whole milliseconds.
    ramp.forEach((time, i) => expect(time - (100 + 12.5 * i)).toBeGreaterThanOrEqual(0));
    ramp.forEach((time, i) => expect(time - (100 + 12.5 * i)).toBeLessThan(1));
    await vi.advanceTimersByTimeAsync(1000);
    await run.done;
    expect(run.inFlight.max).toBe(8);
  });

  it("without the probe, sends the whole window at once, and still halves it when 429s keep coming", async () => {
    const target = pacer({ concurrency: 8, probe: false });
    expect(target.window).toBe(8);
    // The first window is answered 429 (a limit after all): the gate closes and the window halves.
    const run = launch(target, 40, (i) => later(10, i < 8 ? answer(429, { "retry-after-ms": "100" }) : answer(200)));
    await vi.advanceTimersByTimeAsync(0);
    expect(run.sent).toEqual(Array(8).fill(0));
    await vi.advanceTimersByTimeAsync(20);
    expect(target.stats.rateLimited).toBe(8);
    expect(target.stats.windowCuts).toBe(1);
    expect(target.window).toBe(4);
    // Nothing else left while the gate was closed (100 ms asked, plus its jitter).
    expect(run.sent.filter((time) => time > 0 && time < 110)).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    await run.done;
    expect(run.sent).toHaveLength(40);
  });

  it("halves the window once for a burst of 429s, then grows it back by one per window of answers", async () => {
    const target = pacer({ concurrency: 8 });
    // Request 0 is the probe; requests 1-8 are the first full window, all answered 429.
    const run = launch(target, 200, (i) => later(10, i >= 1 && i <= 8 ? answer(429, { "retry-after-ms": "100" }) : answer(200)));
    await vi.advanceTimersByTimeAsync(60);
    expect(target.stats.rateLimited).toBe(8);
    expect(target.stats.windowCuts).toBe(1);
    expect(target.window).toBe(4);
    await vi.advanceTimersByTimeAsync(10_000);
    await run.done;
    expect(target.window).toBe(8);
  });
});

describe("Pacer: shared gate", () => {
  it("holds every request, not only the one that got the 429, for retry-after-ms, with jitter", async () => {
    const target = pacer({ concurrency: 4, random: () => 0.999 });
    let first = true;
    const run = launch(target, 6, () => {
      if (!first) return later(10, answer(200));
      first = false;
      return later(10, answer(429, { "retry-after-ms": "1000" }));
    });
    await vi.advanceTimersByTimeAsync(5_000);
    await run.done;
    // The probe got a 429 at t=10: nothing else left before 10 + 1000 ms plus its jitter (up to 500 ms).
    expect(run.sent[0]).toBe(0);
    for (const time of run.sent.slice(1)) expect(time).toBeGreaterThanOrEqual(1010 + 499);
  });

  it("keeps the window and the pace for a 429 whose headers show room left under the limits", async () => {
    const target = pacer({ concurrency: 8, rpm: 600 });
    target.settle(ticket(10), answer(200)); // past the probe
    target.settle(
      ticket(10),
      answer(429, { "retry-after-ms": "100", "x-ratelimit-remaining-requests": "40", "x-ratelimit-remaining-tokens": "5000" }),
    );
    expect(target.window).toBe(8);
    expect(target.stats).toMatchObject({ rateLimited: 1, windowCuts: 0 });
    // The gate still closed: the server asked for 100 ms.
    const run = launch(target, 1, () => answer(200));
    await vi.advanceTimersByTimeAsync(1_000);
    await run.done;
    expect(run.sent[0]).toBeGreaterThanOrEqual(100);
  });

  it("cuts the window for a 429 whose headers show a limit used up", async () => {
    const target = pacer({ concurrency: 8 });
    target.settle(ticket(10), answer(200));
    target.settle(ticket(10), answer(429, { "x-ratelimit-remaining-requests": "40", "x-ratelimit-remaining-tokens": "5" }));
    expect(target.window).toBe(4);
  });

  it("spreads the waiters over the jitter window instead of releasing them at once", async () => {
    let draws = 0;
    const target = pacer({ concurrency: 8, random: () => (draws++ % 4) / 4 });
    target.settle(ticket(), answer(200)); // past the probe: eight may go at once, four after the 429
    target.settle(ticket(), answer(429, { "retry-after-ms": "2000" }));
    const run = launch(target, 4, () => answer(200));
    await vi.advanceTimersByTimeAsync(5_000);
    await run.done;
    // Spread over [2000, 3000): 1 s of jitter (half the wait, at most one second).
    expect(run.sent).toEqual([2000, 2250, 2500, 2750]);
  });

  it("without retry-after, waits for the reset of the exhausted limit", async () => {
    const target = pacer();
    target.settle(
      ticket(),
      answer(429, { "x-ratelimit-remaining-requests": "5", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.5s" }),
    );
    const run = launch(target, 1, () => answer(200));
    await vi.advanceTimersByTimeAsync(5_000);
    await run.done;
    expect(run.sent[0]).toBeGreaterThanOrEqual(1500);
  });

  it("without any hint, backs off exponentially: 0.5 s, then 1 s", async () => {
    const target = pacer({ random: () => 0 });
    target.settle(ticket(), answer(429));
    const one = launch(target, 1, () => answer(429));
    await vi.advanceTimersByTimeAsync(600);
    await one.done;
    expect(one.sent).toEqual([500]);
    const two = launch(target, 1, () => answer(200));
    await vi.advanceTimersByTimeAsync(2_000);
    await two.done;
    expect(two.sent).toEqual([1500]);
  });

  it("waits before sending when a success reports 0 remaining requests", async () => {
    const target = pacer();
    target.settle(ticket(), answer(200, { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "250ms" }));
    const run = launch(target, 1, () => answer(200));
    await vi.advanceTimersByTimeAsync(1_000);
    await run.done;
    expect(run.sent[0]).toBeGreaterThanOrEqual(250);
    expect(target.stats.rateLimited).toBe(0);
  });

  it("stops waiting when the signal aborts", async () => {
    const target = pacer();
    target.settle(ticket(), answer(429, { "retry-after": "60" }));
    const controller = new AbortController();
    const waiting = target.run(0, controller.signal, async () => answer(200));
    const outcome = expect(waiting).rejects.toThrow("stop");
    controller.abort(new Error("stop"));
    await outcome;
    expect(target.stats.requests).toBe(0);
  });
});

describe("Pacer: isolated 429s", () => {
  /** A pacer past its probe that has seen `count` successes. */
  function warmed(count = 40): Pacer {
    const target = pacer({ concurrency: 8 });
    for (let i = 0; i < count; i++) target.settle(ticket(10), answer(200));
    return target;
  }

  it("lets an odd 429 among many successes pass: no gate for the others, no cut, counted", async () => {
    const target = warmed();
    target.settle(ticket(10), answer(429, { "retry-after-ms": "1000" }));
    expect(target.window).toBe(8);
    expect(target.stats).toMatchObject({ rateLimited: 1, windowCuts: 0 });
    const run = launch(target, 1, () => answer(200));
    await vi.advanceTimersByTimeAsync(0);
    await run.done;
    expect(run.sent).toEqual([0]);
  });

  it("before enough answers are in, holds everyone for an odd 429 but cuts nothing: the next success still opens the window", () => {
    const target = pacer({ concurrency: 8 });
    target.settle(ticket(10), answer(429, { "retry-after-ms": "100" })); // the probe's answer
    expect(target.stats).toMatchObject({ rateLimited: 1, windowCuts: 0 });
    target.settle(ticket(10), answer(200));
    expect(target.window).toBe(8);
  });

  it("does not take a flaky server's random 429s (3%) for a limit, over twenty runs of 5,400 answers", () => {
    for (let seed = 1; seed <= 20; seed++) {
      let state = seed; // the same draws every time
      const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
      const target = warmed();
      for (let i = 0; i < 5400; i++) target.settle(ticket(10), random() < 0.03 ? answer(429, { "retry-after-ms": "100" }) : answer(200));
      // A cut here would hold the window near half for the rest of a run: growing back takes a window's worth of answers per slot.
      expect([seed, target.stats.windowCuts]).toEqual([seed, 0]);
    }
  });

  it("takes 429s that keep coming as a limit: the gate closes and the window is cut", async () => {
    const target = warmed();
    for (let i = 0; i < 8; i++) target.settle({ episode: target.stats.windowCuts, cost: 10, sentAt: 0 }, answer(429, { "retry-after-ms": "1000" }));
    expect(target.stats.windowCuts).toBeGreaterThanOrEqual(1);
    expect(target.window).toBeLessThan(8);
    const run = launch(target, 1, () => answer(200));
    await vi.advanceTimersByTimeAsync(5_000);
    await run.done;
    expect(run.sent[0]).toBeGreaterThanOrEqual(1000);
  });

  it("takes a single 429 whose headers say the budget is spent as a limit, however many successes came before", () => {
    const target = warmed();
    target.settle(ticket(10), answer(429, { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s" }));
    expect(target.window).toBe(4);
    expect(target.stats.windowCuts).toBe(1);
  });
});

describe("rate-limit headers", () => {
  it.each([
    ["12ms", 12],
    ["1s", 1000],
    ["1.5s", 1500],
    ["6m0s", 360_000],
    ["1h2m3s", 3_723_000],
    ["20", 20_000],
    ["soon", undefined],
    ["", undefined],
  ])("parses the reset duration %j", (text, ms) => {
    expect(parseResetDuration(text)).toBe(ms);
  });

  it("prefers retry-after-ms, then retry-after in seconds or as a date", () => {
    expect(retryAfterMs(answer(429, { "retry-after-ms": "20", "retry-after": "1" }).headers)).toBe(20);
    expect(retryAfterMs(answer(429, { "retry-after": "2" }).headers)).toBe(2000);
    expect(retryAfterMs(answer(429, { "retry-after": new Date(Date.now() + 3000).toUTCString() }).headers)).toBe(3000);
    expect(retryAfterMs(answer(429, {}).headers)).toBeUndefined();
  });
});
