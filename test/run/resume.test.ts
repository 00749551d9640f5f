import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { extract, type ExtractOptions, type ResumeInfo } from "../../src/index.js";
import { rowKey } from "../../src/run/journal.js";
import { preparePrompt } from "../../src/run/context.js";
import { jsonReply, startChatServer, type ChatServer, rowOf } from "../servers/chat-server.js";

const schema = z.object({ id: z.string(), upper: z.string() });
let server: ChatServer;
let journal: string;

beforeEach(async () => {
  server = await startChatServer();
  // Echo each row back in upper case, so results can be checked against the input.
  server.handle((request) => {
    const row = rowOf(request);
    return jsonReply({ id: String(row.id), upper: String(row.text).toUpperCase() });
  });
  journal = path.join(await mkdtemp(path.join(os.tmpdir(), "resume-")), "out.journal");
});
afterEach(() => server.close());

function options(extra: Partial<ExtractOptions<typeof schema>> = {}): ExtractOptions<typeof schema> {
  return { schema, model: "m", baseURL: server.url, apiKey: "k", ...extra };
}

async function run(rows: Record<string, string>[], extra: Partial<ExtractOptions<typeof schema>> = {}) {
  const results = [];
  for await (const result of extract(rows, options(extra))) results.push(result);
  return results;
}

const rows = (n: number, text = (i: number) => `row ${i}`) => Array.from({ length: n }, (_, i) => ({ id: String(i), text: text(i) }));

describe("identical rows", () => {
  it("are sent once, the result reused for every copy, without a journal", async () => {
    const input = [...rows(3), ...rows(3), ...rows(3)];
    const results = await run(input, { concurrency: 4 });

    expect(server.requests).toHaveLength(3);
    expect(results.map((r) => r.ok && r.data.upper)).toEqual(input.map((row) => row.text.toUpperCase()));
    expect(results.filter((r) => r.reused)).toHaveLength(6);
  });

  it("count their tokens once in the progress totals", async () => {
    let last: { modelCalls: number; rowsReused: number; rowsDone: number } | undefined;
    await run([...rows(2), ...rows(2)], { concurrency: 1, onProgress: (event) => (last = event) });
    expect(last).toMatchObject({ rowsDone: 4, rowsReused: 2, modelCalls: 2 });
  });
});

describe("journal and resume", () => {
  it("a resumed run sends nothing for rows already finished and gives the same results", async () => {
    const input = rows(20);
    const first = await run(input, { journal });
    expect(server.requests).toHaveLength(20);

    server.reset();
    const second = await run(input, { journal, resume: true });
    expect(server.requests).toHaveLength(0);
    expect(second.map((r) => r.data)).toEqual(first.map((r) => r.data));
    expect(second.every((r) => r.reused)).toBe(true);
  });

  it("grounds reused rows again, and keeps no spans in the journal", async () => {
    const input = rows(3);
    const first = await run(input, { journal });
    expect(readFileSync(journal, "utf8")).not.toContain("spans");
    server.reset();
    const second = await run(input, { journal, resume: true });
    expect(second.every((r) => r.reused)).toBe(true);
    expect(second.map((r) => [r.spans, r.ungrounded])).toEqual(first.map((r) => [r.spans, r.ungrounded]));
    expect(second[1]!.spans).toEqual([
      { path: "id", column: "id", start: 0, end: 1, match: "exact" },
      { path: "upper", column: "text", start: 0, end: 5, match: "normalized" },
    ]);
  });

  it("re-does only the rows whose content changed", async () => {
    await run(rows(10), { journal });
    server.reset();
    const changed = rows(10, (i) => (i === 3 || i === 7 ? `edited ${i}` : `row ${i}`));
    const results = await run(changed, { journal, resume: true });

    expect(server.requests.map((request) => rowOf(request).id).sort()).toEqual(["3", "7"]);
    expect(results[3]).toMatchObject({ ok: true, reused: false, data: { upper: "EDITED 3" } });
  });

  it("re-does every row when the schema's prompt or the model changes", async () => {
    await run(rows(3), { journal });
    server.reset();
    await run(rows(3), { journal, resume: true, model: "another-model" });
    expect(server.requests).toHaveLength(3);
    server.reset();
    await run(rows(3), { journal, resume: true, model: "another-model", instructions: "Be brief." });
    expect(server.requests).toHaveLength(3);
  });

  it("without resume, starts the journal afresh", async () => {
    await run(rows(3), { journal });
    server.reset();
    await run(rows(3), { journal });
    expect(server.requests).toHaveLength(3);
  });

  it("tries again rows that failed on transport errors, but not rows the model failed", async () => {
    server.handle((request) => {
      const row = rowOf(request);
      if (row.id === "1") return { status: 503, headers: { "retry-after": "0" } };
      if (row.id === "2") return jsonReply({ id: 2 }); // wrong shape every time
      return jsonReply({ id: String(row.id), upper: "X" });
    });
    const first = await run(rows(3), { journal, maxRetries: 0, maxAttempts: 2 });
    expect(first.map((r) => r.error?.code)).toEqual([undefined, "MODEL_ERROR", "SCHEMA_MISMATCH"]);

    server.reset();
    await run(rows(3), { journal, resume: true, maxRetries: 0, maxAttempts: 2 });
    expect(server.requests.map((request) => rowOf(request).id)).toEqual(["1"]);
  });
});

describe("resume and budgets", () => {
  it("reuses every finished row after the budgets changed, and reports what the journal holds first", async () => {
    await run(rows(10), { journal, maxAttempts: 2, maxTokens: 100 });
    server.reset();
    const events: string[] = [];
    let info: ResumeInfo | undefined;
    const results = await run(rows(10), {
      journal,
      resume: true,
      maxAttempts: 5,
      maxTokens: 300,
      maxTokensCap: 600,
      timeout: 60_000,
      maxRetries: 1,
      onResume: (resumed) => {
        info = resumed;
        events.push("resume");
      },
      onProgress: () => events.push("progress"),
    });
    expect(server.requests).toHaveLength(0);
    expect(results.every((r) => r.ok && r.reused)).toBe(true);
    expect(info).toEqual({ journal, found: true, rows: 10, reusable: 10, failed: 0, earlierVersion: 0 });
    expect(events[0]).toBe("resume");
  });

  it("tells onResume when there is no journal yet", async () => {
    let info: ResumeInfo | undefined;
    await run(rows(1), { journal, resume: true, onResume: (resumed) => (info = resumed) });
    expect(info).toMatchObject({ found: false, rows: 0 });
  });

  it("still reads a journal written before budgets left the key, as long as no setting changed", async () => {
    const settings = { maxAttempts: 2, maxTokens: 100 };
    await run(rows(5), { journal, ...settings });
    // Rewrite it as version 0.1.0 wrote it: keyed by the fingerprint with budgets, no tag.
    const { legacyFingerprint } = await preparePrompt(options(settings));
    const legacy = readFileSync(journal, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const { k: _k, f: _f, ok, i, ...rest } = JSON.parse(line);
        return JSON.stringify({ k: rowKey(legacyFingerprint, rows(5)[i]), i, ok, ...rest });
      });
    writeFileSync(journal, `${legacy.join("\n")}\n`);

    server.reset();
    let info: ResumeInfo | undefined;
    await run(rows(5), { journal, resume: true, ...settings, onResume: (resumed) => (info = resumed) });
    expect(server.requests).toHaveLength(0);
    expect(info).toMatchObject({ rows: 5, reusable: 0, earlierVersion: 5 });
  });
});

describe("stopSignal", () => {
  it("stops reading new rows, yields the rows already started in order, and ends without error", async () => {
    const stop = new AbortController();
    const seen: number[] = [];
    for await (const result of extract(rows(100), options({ concurrency: 2, stopSignal: stop.signal, journal }))) {
      seen.push(result.index);
      if (result.index === 4) stop.abort();
    }
    expect(seen.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(seen).toEqual(seen.map((_, i) => i));
    expect(seen.length).toBeLessThan(10);
    // Everything that was sent is in the journal: a resume sends only the rest.
    const sent = server.requests.length;
    server.reset();
    const resumed = await run(rows(100), { journal, resume: true, concurrency: 2 });
    expect(resumed.filter((r) => !r.reused)).toHaveLength(100 - sent);
    expect(server.requests).toHaveLength(100 - sent);
  });
});
