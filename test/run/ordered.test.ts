import { describe, expect, it } from "vitest";
import { runOrdered } from "../../src/run/ordered.js";

/** A task per item whose promise the test settles by hand. */
function manualTasks() {
  const started: number[] = [];
  const finish = new Map<number, (value: string) => void>();
  const task = (item: number) => {
    started.push(item);
    return new Promise<string>((resolve) => finish.set(item, resolve));
  };
  return { started, finish, task };
}

const ticks = () => new Promise((resolve) => setImmediate(resolve));

/** The items 0 .. count - 1, counting in `pulled.count` how many were read. */
function countingSource(count: number) {
  const pulled = { count: 0 };
  function* items() {
    for (let item = 0; item < count; item++) {
      pulled.count++;
      yield item;
    }
  }
  return { pulled, items: items() };
}

describe("runOrdered", () => {
  it("reads an item only when a task slot is free, and yields in input order", async () => {
    const { pulled, items } = countingSource(6);
    const { started, finish, task } = manualTasks();
    const results: string[] = [];
    const run = (async () => {
      for await (const result of runOrdered(items, task, { concurrency: 2, window: 100 })) results.push(result);
    })();
    await ticks();
    // Two running, none read ahead of them (the window would allow 100).
    expect(started).toEqual([0, 1]);
    expect(pulled.count).toBe(2);
    finish.get(1)!("b"); // the second finishes first: a slot frees, the next item is read
    await ticks();
    expect(started).toEqual([0, 1, 2]);
    expect(results).toEqual([]); // "b" waits for "a"
    finish.get(0)!("a");
    await ticks();
    expect(results).toEqual(["a", "b"]);
    for (const item of [2, 3, 4, 5]) {
      await ticks();
      finish.get(item)!(String.fromCharCode(97 + item));
    }
    await run;
    expect(results).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(pulled.count).toBe(6);
  });

  it("holds at most the window of items behind a slow first one", async () => {
    const { pulled, items } = countingSource(50);
    const { finish, task } = manualTasks();
    const run = (async () => {
      const out: string[] = [];
      for await (const result of runOrdered(items, (item: number) => (item === 0 ? task(item) : Promise.resolve(String(item))), { concurrency: 4, window: 10 })) out.push(result);
      return out;
    })();
    for (let i = 0; i < 20; i++) await ticks();
    expect(pulled.count).toBe(10); // item 0 holds the output; nine done behind it, nothing more read
    finish.get(0)!("0");
    const out = await run;
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  it("keeps starting items while the consumer is busy with a result, up to the window", async () => {
    const { items } = countingSource(30);
    const started: number[] = [];
    let startedWhileBusy = 0;
    const results: number[] = [];
    for await (const result of runOrdered(items, async (item: number) => (started.push(item), await ticks(), item), { concurrency: 2, window: 10 })) {
      if (result === 0) {
        for (let i = 0; i < 20; i++) await ticks(); // a slow consumer: a database insert, say
        startedWhileBusy = started.length;
      }
      results.push(result);
    }
    // Item 0 taken, nine done behind it, and one more started in the room it left.
    expect(startedWhileBusy).toBe(11);
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it("after the stop signal, starts nothing new and yields the items already started", async () => {
    const stop = new AbortController();
    const { started, finish, task } = manualTasks();
    const results: string[] = [];
    const run = (async () => {
      for await (const result of runOrdered([0, 1, 2, 3, 4], task, { concurrency: 2, stopSignal: stop.signal })) results.push(result);
    })();
    await ticks();
    stop.abort();
    finish.get(0)!("a");
    finish.get(1)!("b");
    await run;
    expect(started).toEqual([0, 1]);
    expect(results).toEqual(["a", "b"]);
  });

  it("ends with the first task's failure, cancelling the others through their signal", async () => {
    const signals: AbortSignal[] = [];
    const task = (item: number, _index: number, signal: AbortSignal) => {
      signals.push(signal);
      return item === 1 ? Promise.reject(new Error("boom")) : new Promise<string>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    };
    const consume = async () => {
      for await (const _result of runOrdered([0, 1, 2], task, { concurrency: 3 })) void _result;
    };
    await expect(consume()).rejects.toThrow("boom");
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });
});
