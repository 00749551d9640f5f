import { appendFileSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { JobFile, jobFileOf, readJobFile, type PlannedRow } from "../../../src/run/batch/job-file.js";

const row = (i: number, a = 1): PlannedRow => ({ id: `r${i}-a${a}`, i, k: `key${i}`, a, m: 100, t: [], u: { prompt_tokens: 0, completion_tokens: 0 } });

async function journalPath(): Promise<string> {
  return path.join(await mkdtemp(path.join(os.tmpdir(), "job-file-")), "out.csv.journal");
}

describe("JobFile", () => {
  it("reads back parts, files, batches, and the rows a collected part left waiting", async () => {
    const journal = await journalPath();
    const job = JobFile.open(journal, { resume: false });
    job.append({ e: "part", part: "p1", rows: [row(0), row(1)] });
    job.append({ e: "uploaded", part: "p1", file: "file-1" });
    job.append({ e: "creating", part: "p1" });
    job.append({ e: "created", part: "p1", batch: "batch_1" });
    job.append({ e: "part", part: "p2", rows: [row(2)] });
    job.append({ e: "uploaded", part: "p2", file: "file-2" });
    job.append({ e: "creating", part: "p2" });
    job.append({ e: "collected", part: "p1", next: [row(1, 2)] });
    job.close();

    const state = readJobFile(jobFileOf(journal))!;
    expect(state.run).toBe(job.state.run);
    expect(state.parts.get("p1")).toMatchObject({ file: "file-1", batch: "batch_1", closed: true });
    expect(state.parts.get("p2")).toMatchObject({ file: "file-2", creating: true, closed: false });
    expect([...state.waiting.values()]).toEqual([row(1, 2)]);

    const resumed = JobFile.open(journal, { resume: true });
    expect(resumed.state.run).toBe(job.state.run);
    resumed.append({ e: "part", part: "p3", rows: [row(1, 2)] });
    resumed.close();
    expect(readJobFile(jobFileOf(journal))!.waiting.size).toBe(0);
  });

  it("puts a rejected part's rows back to waiting as they were", async () => {
    const journal = await journalPath();
    const job = JobFile.open(journal, { resume: false });
    job.append({ e: "part", part: "p1", rows: [row(0), row(1)] });
    job.append({ e: "rejected", part: "p1" });
    job.close();
    expect([...readJobFile(jobFileOf(journal))!.waiting.keys()]).toEqual([0, 1]);
  });

  it("cuts off a line torn by a crash before appending", async () => {
    const journal = await journalPath();
    const job = JobFile.open(journal, { resume: false });
    job.append({ e: "part", part: "p1", rows: [row(0)] });
    job.close();
    appendFileSync(jobFileOf(journal), '{"e":"uploaded","part":"p1","fi');
    const resumed = JobFile.open(journal, { resume: true });
    resumed.append({ e: "uploaded", part: "p1", file: "file-9" });
    resumed.close();
    expect(readFileSync(jobFileOf(journal), "utf8").split("\n").filter(Boolean)).toHaveLength(3);
    expect(readJobFile(jobFileOf(journal))!.parts.get("p1")!.file).toBe("file-9");
  });

  it("starts a new job without resume", async () => {
    const journal = await journalPath();
    const first = JobFile.open(journal, { resume: false });
    first.append({ e: "part", part: "p1", rows: [row(0)] });
    first.close();
    const second = JobFile.open(journal, { resume: false });
    second.close();
    expect(second.state.run).not.toBe(first.state.run);
    expect(readJobFile(jobFileOf(journal))!.parts.size).toBe(0);
  });
});
