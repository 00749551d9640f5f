import { describe, expect, it } from "vitest";
import { formatBatchProgress, formatProgress, formatResume, formatSummary, ProgressLine, type ProgressSnapshot } from "../../src/cli/progress.js";

const base: ProgressSnapshot = {
  rowsDone: 1200,
  rowsOk: 1190,
  rowsFailed: 10,
  rowsReused: 0,
  modelCalls: 1230,
  valuesCoerced: 0,
  usage: { prompt_tokens: 1_000_000, completion_tokens: 200_000 },
  elapsedMs: 34_091, // 35.2 rows/s
};

describe("formatProgress", () => {
  it("shows rows, outcomes, rate and tokens, with thousands separators, when the input size is unknown", () => {
    expect(formatProgress(base)).toBe("1,200 rows · 1,190 ok · 10 failed · 35.2 rows/s · 1.2M tokens");
  });

  it("adds the percentage and an ETA extrapolated from the bytes read", () => {
    // 25% read in 40 s: 120 s to go.
    const line = formatProgress({ ...base, elapsedMs: 40_000, bytesRead: 250, totalBytes: 1000 });
    expect(line).toBe("1,200 rows (25%) · 1,190 ok · 10 failed · 30.0 rows/s · 1.2M tokens · ETA 2m 0s");
  });

  it.each([
    [500, 1000, 10_000, "ETA 10s"],
    [100, 1000, 14_500, "ETA 2m 11s"],
    [10, 1000, 40_000, "ETA 1h 6m"],
    [1, 3, 3_600_000, "ETA 2h 0m"],
  ])("formats the ETA of %d/%d bytes after %d ms as %s", (bytesRead, totalBytes, elapsedMs, eta) => {
    expect(formatProgress({ ...base, bytesRead, totalBytes, elapsedMs }).endsWith(eta)).toBe(true);
  });

  it("leaves out percentage and ETA when nothing was read yet or the size is unknown", () => {
    expect(formatProgress({ ...base, bytesRead: 0, totalBytes: 1000 })).not.toMatch(/%|ETA/);
    expect(formatProgress({ ...base, bytesRead: 500 })).not.toMatch(/%|ETA/);
  });

  it("shows 100% without an ETA once the whole input was read", () => {
    const line = formatProgress({ ...base, bytesRead: 1000, totalBytes: 1000 });
    expect(line).toContain("(100%)");
    expect(line).not.toContain("ETA");
  });

  it("mentions reused rows only when there are some", () => {
    expect(formatProgress({ ...base, rowsReused: 3 })).toContain("10 failed · 3 reused ·");
    expect(formatProgress(base)).not.toContain("reused");
  });

  it("writes small token totals in full and mid-sized ones in thousands", () => {
    expect(formatProgress({ ...base, usage: { prompt_tokens: 900, completion_tokens: 50 } })).toContain("· 950 tokens");
    expect(formatProgress({ ...base, usage: { prompt_tokens: 12_000, completion_tokens: 300 } })).toContain("· 12.3k tokens");
  });

  it("has no rate before any time has passed, and says 1 row in the singular", () => {
    const line = formatProgress({ ...base, rowsDone: 1, rowsOk: 1, rowsFailed: 0, elapsedMs: 0 });
    expect(line.startsWith("1 row ·")).toBe(true);
    expect(line).not.toContain("rows/s");
  });
});

describe("formatSummary", () => {
  const totals = {
    rowsDone: 16,
    rowsOk: 15,
    rowsFailed: 1,
    rowsReused: 3,
    modelCalls: 18,
    valuesCoerced: 0,
    usage: { prompt_tokens: 12_345, completion_tokens: 2_345 },
    elapsedMs: 12_300,
  };

  it("summarises rows, reused rows, calls, tokens, cost and time for a priced model", () => {
    expect(formatSummary({ ...totals, model: "gpt-4o-mini" })).toBe(
      "16 rows: 15 ok, 1 failed (3 reused) · 18 model calls · 12,345 prompt + 2,345 completion tokens · ~$0.0033 (gpt-4o-mini) · 12.3 s",
    );
  });

  it("leaves out the cost for a model without a known price, and reused rows when there are none", () => {
    expect(formatSummary({ ...totals, rowsReused: 0, model: "llama3.1:8b" })).toBe(
      "16 rows: 15 ok, 1 failed · 18 model calls · 12,345 prompt + 2,345 completion tokens · 12.3 s",
    );
  });

  it("adds the HTTP requests and 429s when retries happened, and nothing when every call was one request", () => {
    expect(formatSummary({ ...totals, model: "x", transport: { requests: 25, rateLimited: 4 } })).toContain(
      "· 18 model calls (25 HTTP requests, 4 answered 429) ·",
    );
    expect(formatSummary({ ...totals, model: "x", transport: { requests: 18, rateLimited: 0 } })).toContain("· 18 model calls ·");
  });

  it("counts the values coerced instead of a re-ask, only when there are some", () => {
    expect(formatSummary({ ...totals, valuesCoerced: 2, model: "x" })).toContain("· 18 model calls · 2 values coerced · 12,345 prompt");
    expect(formatSummary({ ...totals, valuesCoerced: 1, model: "x" })).toContain("· 1 value coerced ·");
    expect(formatSummary({ ...totals, model: "x" })).not.toContain("coerced");
  });

  it("writes long runs in minutes and a single call in the singular", () => {
    const line = formatSummary({ ...totals, modelCalls: 1, elapsedMs: 130_000, model: "x" });
    expect(line).toContain("· 1 model call ·");
    expect(line.endsWith("· 2m 10s")).toBe(true);
  });
});

function fakeStream(columns?: number) {
  const writes: string[] = [];
  const stream = { write: (chunk: string) => (writes.push(chunk), true), columns } as unknown as NodeJS.WritableStream;
  return { stream, writes };
}

describe("formatResume", () => {
  const info = { journal: "out.csv.journal", found: true, rows: 300, reusable: 300, failed: 0, earlierVersion: 0 };
  it.each([
    ["every row reusable", info, "Resuming from out.csv.journal: 300 of its 300 rows can be reused (done with this schema, prompt and model)."],
    [
      "some failed, some from another run, some from an earlier version",
      { ...info, reusable: 280, failed: 1, earlierVersion: 4 },
      "Resuming from out.csv.journal: 280 of its 300 rows can be reused (done with this schema, prompt and model). " +
        "1 failed row is tried again if the failure may pass (a transport error, or attempts or output tokens raised since). " +
        "15 were done with another schema, prompt, examples, model, mode or temperature and are sent again. " +
        "4 were written by an earlier version: reused only if no setting changed.",
    ],
    ["no journal yet", { ...info, found: false, rows: 0, reusable: 0 }, "Resuming: there is no journal at out.csv.journal yet, so every row is sent."],
  ])("%s", (_, resumeInfo, line) => {
    expect(formatResume(resumeInfo)).toBe(line);
  });
});

describe("ProgressLine", () => {
  it("writes nothing when disabled", () => {
    const { stream, writes } = fakeStream();
    const line = new ProgressLine(stream, { enabled: false, now: () => 0 });
    line.update(base);
    line.finish();
    expect(writes).toEqual([]);
  });

  it("redraws in place with a carriage return and a clear-line sequence", () => {
    const { stream, writes } = fakeStream();
    new ProgressLine(stream, { enabled: true, now: () => 0 }).update(base);
    expect(writes).toEqual([`\r\u001b[2K${formatProgress(base)}`]);
    expect(writes[0]).not.toContain("\n");
  });

  it("redraws at most once per 100 ms of the injected clock", () => {
    let clock = 1000;
    const { stream, writes } = fakeStream();
    const line = new ProgressLine(stream, { enabled: true, now: () => clock });
    line.update(base); // drawn
    clock += 50;
    line.update({ ...base, rowsDone: 1201 }); // too soon
    clock += 49;
    line.update({ ...base, rowsDone: 1202 }); // 99 ms after the first: still too soon
    clock += 1;
    line.update({ ...base, rowsDone: 1203 }); // 100 ms: drawn
    expect(writes).toHaveLength(2);
    expect(writes[1]).toContain("1,203 rows");
  });

  it("clears the line on finish, and only if it drew something", () => {
    const idle = fakeStream();
    new ProgressLine(idle.stream, { enabled: true, now: () => 0 }).finish();
    expect(idle.writes).toEqual([]);

    const { stream, writes } = fakeStream();
    const line = new ProgressLine(stream, { enabled: true, now: () => 0 });
    line.update(base);
    line.finish();
    expect(writes.at(-1)).toBe("\r\u001b[2K");
  });

  it("cuts the line to the terminal width so that it never wraps", () => {
    const { stream, writes } = fakeStream(40);
    new ProgressLine(stream, { enabled: true, now: () => 0 }).update(base);
    const text = writes[0]!.replace("\r\u001b[2K", "");
    expect(text.length).toBeLessThan(40);
    expect(text.endsWith("…")).toBe(true);
  });
});

describe("batch runs", () => {
  it("shows the round, the rows done and each live batch's status and request counts", () => {
    const line = formatBatchProgress({
      round: 2,
      rowsDone: 1950,
      rowsTotal: 2000,
      batches: [
        { id: "batch_ab12", status: "in_progress", completed: 30, failed: 2, total: 50 },
        { id: "batch_cd34", status: "validating", completed: 0, failed: 0, total: 0 },
      ],
    });
    expect(line).toBe("round 2 · 1,950 of 2,000 rows done · batch_ab12 in_progress 30/50 (2 failed) · batch_cd34 validating 0/0");
  });

  it("sums up with the batches and rounds, priced at Batch prices", () => {
    const totals = { rowsDone: 10, rowsOk: 10, rowsFailed: 0, rowsReused: 0, modelCalls: 12, valuesCoerced: 0, usage: { prompt_tokens: 1_000_000, completion_tokens: 0 }, elapsedMs: 1000, model: "gpt-4o-mini" };
    expect(formatSummary({ ...totals, batch: { batchesCreated: 2, rounds: 2 } })).toContain("12 model calls in 2 batches, 2 rounds · 1,000,000 prompt + 0 completion tokens · ~$0.075 (gpt-4o-mini, batch)");
    expect(formatSummary(totals)).toContain("~$0.15 (gpt-4o-mini)");
  });

  it("gives an offline job's rounds of request files, not the batches it never created", () => {
    const totals = { rowsDone: 16, rowsOk: 16, rowsFailed: 0, rowsReused: 13, modelCalls: 6, valuesCoerced: 0, usage: { prompt_tokens: 600, completion_tokens: 120 }, elapsedMs: 100, model: "gpt-4o-mini" };
    const line = formatSummary({ ...totals, batch: { batchesCreated: 0, rounds: 2, offline: { waitingOn: undefined } } });
    expect(line).toContain("6 model calls in 2 rounds of request files ·");
    expect(line).not.toContain("batches");
  });
});
