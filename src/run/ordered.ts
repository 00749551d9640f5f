import { setMaxListeners } from "node:events";
import { ExtractError } from "../errors/extract-error.js";

/** Rows in any form a caller may have them. */
export type RowSource<T> = Iterable<T> | AsyncIterable<T>;

/** Options of {@link runOrdered}. */
export interface RunOrderedOptions {
  /** Tasks running at once. */
  concurrency: number;
  /**
   * Items pulled from the source but not yet yielded (running, or finished and waiting for an
   * earlier one). Bounds memory and reading: the source is not read past it.
   * @default {@link readAheadWindow}(concurrency)
   */
  window?: number;
  /** Aborting it cancels running tasks (through the signal they get) and ends the iteration. */
  signal?: AbortSignal;
  /**
   * A gentler stop: once aborted, no new item is read or started; items already started finish
   * and are yielded (as far as they are contiguous), then the iteration ends normally.
   */
  stopSignal?: AbortSignal;
}

/**
 * The default window: wide enough that one slow item holds back only the output, not the work
 * behind it; narrow enough that memory stays a few MB (finished rows are small). A row through
 * the SDK's transport retries (backoffs of 0.5 s and 1 s, three round trips) takes 2-3 s: 4,096
 * rows cover that at up to ~1,500 rows/s. At 1,024, one such row in a flaky run (3% 500s, 1%
 * drops: a few rows per 5,000) stopped every request for a second or more once the rows behind
 * it filled the window (rows/s 304-336 against 342-344 at 4,096, C = 128, L = 300 ms).
 */
export function readAheadWindow(concurrency: number): number {
  return Math.max(4096, concurrency * 16);
}

/**
 * Runs `task` over a (possibly endless, possibly async) source with bounded concurrency and
 * yields the results in input order. The source is read lazily: an item is read when a task slot
 * is free for it and the window allows, so memory stays flat whatever its length; a slow item
 * holds back output, not work, until the window is full.
 *
 * A task that rejects ends the run: the others are cancelled and the iteration throws that
 * error. Tasks that can fail per item should return their failure as a value instead. A source
 * that throws ends the run more gently: the items read before it still run and are yielded,
 * then the iteration throws the source's error.
 */
export async function* runOrdered<T, R>(
  source: RowSource<T>,
  task: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: RunOrderedOptions,
): AsyncGenerator<R, void, undefined> {
  const window = options.window ?? readAheadWindow(options.concurrency);
  const controller = new AbortController();
  // Every in-flight call listens to this one signal; the default cap of 10 listeners would warn.
  setMaxListeners(0, controller.signal);
  const stop = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();

  const iterator = toAsyncIterator(source);
  // Items are pulled only when they can start: at most `concurrency` running, so no queue (and
  // no p-limit: its queue would always be empty). An item pulled ahead of a free slot (as pushing
  // every item into a p-limit queue did, a window's worth at a time) waits in memory with its
  // task's closures and promises, surviving young collections that must copy it.
  const pending: { result: Promise<R>; settled: boolean }[] = [];
  let running = 0;
  let firstFailure: { error: unknown } | undefined;
  let sourceFailure: { error: unknown } | undefined;
  let exhausted = false;
  let feeding = true;
  let nextIndex = 0;

  /** The feeder and the consumer each wait for a change: a task settled, a result taken, a stop. */
  let waiters: (() => void)[] = [];
  const changed = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  const nextChange = () => new Promise<void>((resolve) => waiters.push(resolve));
  controller.signal.addEventListener("abort", changed, { once: true });
  options.stopSignal?.addEventListener("abort", changed, { once: true });
  const stopping = () => options.stopSignal?.aborted === true || controller.signal.aborted;

  const start = (item: T) => {
    const entry = { settled: false } as (typeof pending)[number];
    running++;
    try {
      entry.result = task(item, nextIndex++, controller.signal);
    } catch (error) {
      entry.result = Promise.reject(error); // a task that throws before its first await
    }
    const settle = () => {
      entry.settled = true;
      running--;
      changed();
    };
    entry.result.then(settle, (error: unknown) => {
      firstFailure ??= { error };
      controller.abort(error);
      settle();
    });
    pending.push(entry);
  };

  // The feeder reads and starts items while the consumer is away (writing the last result, or a
  // caller's own slow loop body): work goes on up to the window whether or not results are taken.
  // Once stopping, it reads and starts nothing more; the items started finish and are yielded.
  const feeder = (async () => {
    try {
      while (!exhausted && !stopping()) {
        if (running >= options.concurrency || pending.length >= window) {
          await nextChange();
          continue;
        }
        let next: IteratorResult<T>;
        try {
          next = await iterator.next();
        } catch (error) {
          // A source that breaks (a malformed line, bytes that are not UTF-8) ends the reading,
          // not the items read before it: they finish and are yielded, then the error is thrown.
          sourceFailure = { error };
          exhausted = true;
          break;
        }
        if (next.done) exhausted = true;
        else if (!stopping()) start(next.value);
      }
    } finally {
      feeding = false;
      changed();
    }
  })();

  try {
    for (;;) {
      if (firstFailure) throw firstFailure.error;
      if (controller.signal.aborted) throw abortError(options.signal);
      const head = pending[0];
      if (head?.settled) {
        pending.shift();
        changed(); // room in the window for the feeder
        yield await head.result;
      } else if (!head && !feeding) {
        if (sourceFailure) throw sourceFailure.error;
        return;
      } else {
        await nextChange();
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    options.stopSignal?.removeEventListener("abort", changed);
    controller.abort();
    // The feeder ends at its next turn; a read it has under way finishes first, as a return would wait for it.
    await feeder;
    if (!exhausted) await iterator.return?.();
  }
}

function abortError(signal: AbortSignal | undefined): ExtractError {
  return new ExtractError("ABORTED", "The run was aborted before every row was done.", { cause: signal?.reason });
}

function toAsyncIterator<T>(source: RowSource<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const iterator = source[Symbol.iterator]();
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? { done: true, value: undefined },
  };
}
