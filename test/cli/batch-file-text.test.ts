import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatNextStep, formatResultsRead } from "../../src/cli/batch-file-text.js";

describe("formatNextStep", () => {
  it("says what was written and gives the run-batch and extract commands, the step flags replaced", () => {
    const requestFile = path.join(process.cwd(), "requests.round2.jsonl");
    const argv = ["in.csv", "--schema", "person", "--batch-results=old.jsonl", "--resume", "-o", "out dir/out.csv", "--batch-file", "x.jsonl", "-m", "Qwen/Qwen2.5-7B-Instruct"];
    expect(formatNextStep({ requestFile, requests: 12, round: 2 }, "Qwen/Qwen2.5-7B-Instruct", argv)).toBe(
      "Wrote 12 requests (round 2) to requests.round2.jsonl: re-asks with the validator's feedback, and requests missing from the results. No model was called.\n" +
        "Run them, then read the results back:\n" +
        "  vllm run-batch -i requests.round2.jsonl -o requests.round2.results.jsonl --model Qwen/Qwen2.5-7B-Instruct\n" +
        "  extract in.csv --schema person -o 'out dir/out.csv' -m Qwen/Qwen2.5-7B-Instruct --batch-results requests.round2.results.jsonl\n",
    );
  });

  it("keeps a path outside the working directory as it is", () => {
    const text = formatNextStep({ requestFile: "/elsewhere/requests.jsonl", requests: 1, round: 1 }, "m", ["in.csv"]);
    expect(text).toContain("Wrote 1 request (round 1) to /elsewhere/requests.jsonl. No model was called.");
    expect(text).toContain("vllm run-batch -i /elsewhere/requests.jsonl -o /elsewhere/requests.results.jsonl --model m");
  });
});

describe("formatResultsRead", () => {
  it("counts the answered and missing requests", () => {
    expect(formatResultsRead({ resultsRead: { file: "/elsewhere/r.jsonl", lines: 9, answered: 9, missing: 2 } })).toBe(
      "Read /elsewhere/r.jsonl: 9 of 11 requests answered (2 missing: asked again).\n",
    );
    expect(formatResultsRead({})).toBe("");
  });
});
