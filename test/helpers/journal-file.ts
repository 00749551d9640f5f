import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls a run's journal (no deadline: the test's timeout is the limit) until it holds `count`
 * complete lines: a server handler awaits it to hold an answer until the rows before it are
 * written, whatever order the client's requests and writes take.
 */
export async function untilJournalHas(file: string, count: number): Promise<void> {
  while (!existsSync(file) || readFileSync(file, "utf8").split("\n").length - 1 < count) await sleep(5);
}
