import { describe, expect, it } from "vitest";
import type { JobState, PartRecord, PlannedRow } from "../../../src/run/batch/job-file.js";
import { checkResultsFile } from "../../../src/run/batch/results-file.js";

const planned = (id: string, i: number): PlannedRow => ({ id, i, k: `k${i}`, a: 1, m: 256, t: [], u: { prompt_tokens: 0, completion_tokens: 0 } });
const part = (name: string, ids: string[], closed: boolean): PartRecord => ({
  part: name,
  rows: ids.map((id, n) => planned(id, n)),
  file: `/tmp/${name}.jsonl`,
  creating: false,
  batch: `file:/tmp/${name}.jsonl`,
  closed,
});
const job: JobState = {
  run: "run-1",
  parts: new Map([
    ["p1", part("p1", ["r0-a1", "r1-a1", "r2-a1"], true)],
    ["p2", part("p2", ["r0-a2", "r2-a2", "r3-a2"], false)],
  ]),
  waiting: new Map(),
};
const line = (customId: string) => JSON.stringify({ id: "vllm-1", custom_id: customId, response: { status_code: 200, request_id: "x", body: {} }, error: null });

describe("checkResultsFile", () => {
  it("counts the requests waited on that have a line, in any order, blank lines skipped", () => {
    const text = `${line("r3-a2")}\n\n${line("r0-a2")}\n`;
    expect(checkResultsFile(text, "results.jsonl", job)).toEqual({ lines: 2, answered: 2, missing: 1 });
  });

  it.each([
    ["a damaged line", `${line("r0-a2")}\n{"custom_id": "r2-a`, /^results\.jsonl, line 2: not a JSON line/],
    ["a line without custom_id", `${line("r0-a2")}\n{"id": "vllm-2"}`, /^results\.jsonl, line 2: no custom_id/],
    ["an earlier round's request", `${line("r0-a2")}\n${line("r1-a1")}`, /^results\.jsonl, line 2: custom_id "r1-a1" was asked in an earlier round.*Give the results of \/tmp\/p2\.jsonl\./],
    ["another job's request", `${line("request-1")}`, /^results\.jsonl, line 1: custom_id "request-1" is not a request of this job/],
  ])("refuses %s, naming the file and line", (_name, text, message) => {
    expect(() => checkResultsFile(text, "results.jsonl", job)).toThrow(message);
    try {
      checkResultsFile(text, "results.jsonl", job);
    } catch (error) {
      expect(error).toMatchObject({ code: "INPUT_UNREADABLE", file: "results.jsonl" });
    }
  });
});
