import { createHash } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { Journal, MemoryStore, rowKey, runFingerprint } from "../../src/run/journal.js";
import type { RowResult as StoredResult } from "../../src/core/row-result.js";
import type { AttemptBudget as RowBudget } from "../../src/core/step.js";
import { stillStands } from "../../src/run/reuse.js";

const ok = (n: number): Extract<StoredResult, { ok: true }> => ({ ok: true, data: { n }, attempts: 1, usage: { prompt_tokens: 10, completion_tokens: 2 }, repaired: false, coerced: [] });
const failed = (code: "SCHEMA_MISMATCH" | "RATE_LIMITED"): StoredResult => ({
  ok: false,
  error: { code, message: "x" },
  attempts: 3,
  usage: { prompt_tokens: 30, completion_tokens: 6 },
  repaired: false,
  coerced: [],
});

let file: string;
beforeEach(async () => {
  file = path.join(await mkdtemp(path.join(os.tmpdir(), "journal-")), "out.csv.journal");
});

describe("rowKey", () => {
  it("changes with the row and with the run fingerprint, and is stable otherwise", () => {
    const run = runFingerprint({ systemPrompt: "s", model: "m" });
    expect(rowKey(run, { a: "1" })).toBe(rowKey(run, { a: "1" }));
    expect(rowKey(run, { a: "1" })).not.toBe(rowKey(run, { a: "2" }));
    expect(rowKey(runFingerprint({ systemPrompt: "s", model: "other" }), { a: "1" })).not.toBe(rowKey(run, { a: "1" }));
    expect(rowKey(run, { a: "1" })).toMatch(/^[0-9a-f]{32}$/);
  });

  it("is the key journals were written with: sha256 of the fingerprint, a newline and the row's JSON", () => {
    // Written out the way earlier versions computed it, so a faster hash call cannot orphan their journals.
    const run = runFingerprint({ systemPrompt: "s", model: "m" });
    expect(run).toBe(createHash("sha256").update(JSON.stringify({ systemPrompt: "s", model: "m" })).digest("hex"));
    const earlier = createHash("sha256").update(run).update("\n").update(JSON.stringify({ a: "1", b: "é" })).digest("hex").slice(0, 32);
    expect(rowKey(run, { a: "1", b: "é" })).toBe(earlier);
  });
});

describe("Journal", () => {
  it("returns what was recorded, in this run and after reopening with resume", async () => {
    const journal = await Journal.open(file, { resume: false });
    journal.record("a".repeat(32), 0, ok(0));
    journal.record("b".repeat(32), 1, ok(1));
    expect(journal.lookup("a".repeat(32))).toEqual(ok(0));
    journal.close();

    const again = await Journal.open(file, { resume: true });
    expect(again.resumedCount).toBe(2);
    expect(again.lookup("b".repeat(32))).toEqual(ok(1));
    expect(again.lookup("c".repeat(32))).toBeUndefined();
    again.close();
  });

  it("starts empty without resume", async () => {
    const journal = await Journal.open(file, { resume: false });
    journal.record("a".repeat(32), 0, ok(0));
    journal.close();
    const fresh = await Journal.open(file, { resume: false });
    expect(fresh.lookup("a".repeat(32))).toBeUndefined();
    fresh.close();
    expect(readFileSync(file, "utf8")).toBe("");
  });

  it("ignores a torn last line and cuts it off, so later lines start clean", async () => {
    const journal = await Journal.open(file, { resume: false });
    journal.record("a".repeat(32), 0, ok(0));
    journal.close();
    appendFileSync(file, `{"k":"${"b".repeat(32)}","i":1,"ok":tr`);

    const resumed = await Journal.open(file, { resume: true });
    expect(resumed.resumedCount).toBe(1);
    expect(resumed.lookup("b".repeat(32))).toBeUndefined();
    resumed.record("c".repeat(32), 2, ok(2));
    resumed.close();
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line).i)).toEqual([0, 2]);
  });

  it("skips lines that are not its own", async () => {
    writeFileSync(file, `garbage\n{"k":"short"}\n{"k":"${"d".repeat(32)}","i":0,"ok":true,"data":1,"attempts":1,"usage":{"prompt_tokens":1,"completion_tokens":1},"repaired":false}\n`);
    const journal = await Journal.open(file, { resume: true });
    expect(journal.resumedCount).toBe(1);
    expect(journal.lookup("d".repeat(32))).toMatchObject({ ok: true, data: 1 });
    journal.close();
  });

  it("keeps model-output failures but offers transport failures for another try", async () => {
    const journal = await Journal.open(file, { resume: false });
    journal.record("a".repeat(32), 0, failed("SCHEMA_MISMATCH"));
    journal.record("b".repeat(32), 1, failed("RATE_LIMITED"));
    expect(journal.lookup("a".repeat(32))).toMatchObject({ ok: false, error: { code: "SCHEMA_MISMATCH" } });
    expect(journal.lookup("b".repeat(32))).toBeUndefined();
    journal.close();
  });

  it("does not confuse two keys that share their first 52 bits", async () => {
    const journal = await Journal.open(file, { resume: false });
    const first = `${"e".repeat(13)}${"0".repeat(19)}`;
    const second = `${"e".repeat(13)}${"1".repeat(19)}`;
    journal.record(first, 0, ok(0));
    expect(journal.lookup(second)).toBeUndefined();
    journal.close();
  });

  it("keeps only this run's latest rows findable, so memory stays flat; a resume finds them all", async () => {
    const journal = await Journal.open(file, { resume: false, recentRows: 2 });
    for (const [i, key] of ["a", "b", "c"].entries()) journal.record(key.repeat(32), i, ok(i));
    expect(journal.lookup("a".repeat(32))).toBeUndefined();
    expect(journal.lookup("c".repeat(32))).toEqual(ok(2));
    journal.close();
    const resumed = await Journal.open(file, { resume: true, recentRows: 2 });
    expect(resumed.lookup("a".repeat(32))).toEqual(ok(0));
    resumed.close();
  });

  it("reads back lines longer than one read buffer", async () => {
    const journal = await Journal.open(file, { resume: false });
    const big: StoredResult = { ...ok(0), data: { text: "x".repeat(20_000) } };
    journal.record("f".repeat(32), 0, big);
    expect(journal.lookup("f".repeat(32))).toEqual(big);
    journal.close();
  });
});

describe("stillStands", () => {
  const budget: RowBudget = { maxAttempts: 3, maxTokens: 1024, maxTokensCap: 8192, coerce: true };
  const failure = (code: string, attempts: number, maxTokens?: number): StoredResult => ({
    ok: false,
    error: { code: code as "SCHEMA_MISMATCH", message: "x" },
    attempts,
    usage: { prompt_tokens: 1, completion_tokens: 1 },
    repaired: false,
    coerced: [],
    ...(maxTokens === undefined ? {} : { maxTokens }),
  });

  it.each([
    ["a success, whatever the budget", ok(0), { ...budget, maxAttempts: 9, maxTokens: 4096 }, true],
    ["a transport failure", failure("TIMEOUT", 1, 1024), budget, false],
    ["SCHEMA_MISMATCH after as many attempts as allowed now", failure("SCHEMA_MISMATCH", 3, 4096), budget, true],
    ["SCHEMA_MISMATCH once `maxAttempts` is raised", failure("SCHEMA_MISMATCH", 3, 4096), { ...budget, maxAttempts: 4 }, false],
    ["INVALID_JSON once `maxAttempts` is raised", failure("INVALID_JSON", 1, 1024), { ...budget, maxAttempts: 2 }, false],
    ["OUTPUT_TRUNCATED at the largest budget reachable now", failure("OUTPUT_TRUNCATED", 3, 4096), budget, true],
    ["OUTPUT_TRUNCATED once `maxTokens` is raised", failure("OUTPUT_TRUNCATED", 3, 4096), { ...budget, maxTokens: 2048 }, false],
    ["OUTPUT_TRUNCATED at the cap, cap unchanged", failure("OUTPUT_TRUNCATED", 3, 100), { maxAttempts: 3, maxTokens: 100, maxTokensCap: 100, coerce: true }, true],
    ["OUTPUT_TRUNCATED at the cap, once the cap is raised", failure("OUTPUT_TRUNCATED", 3, 100), { maxAttempts: 3, maxTokens: 100, maxTokensCap: 400, coerce: true }, false],
    ["OUTPUT_TRUNCATED from an earlier version (no budget stored)", failure("OUTPUT_TRUNCATED", 3), { ...budget, maxTokensCap: 99_999 }, true],
    ["REFUSED, whatever the budget", failure("REFUSED", 1, 1024), { ...budget, maxAttempts: 9 }, true],
    ["a success with coerced values, while `coerce` is on", { ...ok(0), coerced: ["n"] }, budget, true],
    ["a success with coerced values, once `coerce` is off", { ...ok(0), coerced: ["n"] }, { ...budget, coerce: false }, false],
    ["a success without coerced values, once `coerce` is off", ok(0), { ...budget, coerce: false }, true],
  ])("%s: %s", (_, result, rowBudget, stands) => {
    expect(stillStands(result, rowBudget)).toBe(stands);
  });
});

describe("Journal.resumeInfo", () => {
  it("counts the rows done under the run's fingerprint, ok and failed, apart from other runs' and untagged ones", async () => {
    const fingerprint = runFingerprint({ systemPrompt: "s", model: "m" });
    const first = await Journal.open(file, { resume: false, fingerprint });
    first.record("a".repeat(32), 0, ok(0));
    first.record("b".repeat(32), 1, failed("SCHEMA_MISMATCH"));
    first.record("a".repeat(32), 0, ok(0)); // done again: one row
    first.close();
    const other = await Journal.open(file, { resume: true, fingerprint: runFingerprint({ systemPrompt: "s", model: "other" }) });
    other.record("c".repeat(32), 2, ok(2));
    other.close();
    appendFileSync(file, `{"k":"${"d".repeat(32)}","i":3,"ok":true,"data":1,"attempts":1,"usage":{"prompt_tokens":1,"completion_tokens":1},"repaired":false}\n`);

    const resumed = await Journal.open(file, { resume: true, fingerprint });
    expect(resumed.resumeInfo).toEqual({ journal: file, found: true, rows: 4, reusable: 1, failed: 1, earlierVersion: 1 });
    expect(resumed.lookup("d".repeat(32))).toMatchObject({ ok: true, data: 1 });
    expect(resumed.lookup("a".repeat(32))).toEqual(ok(0));
    resumed.close();
  });
});

describe("MemoryStore", () => {
  it("forgets the oldest results past its capacity", () => {
    const store = new MemoryStore(2);
    store.record("a", 0, ok(0));
    store.record("b", 1, ok(1));
    store.record("c", 2, ok(2));
    expect(store.lookup("a")).toBeUndefined();
    expect(store.lookup("c")).toEqual(ok(2));
  });
});
