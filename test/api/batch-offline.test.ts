import { describe, expect, it } from "vitest";
import { nextRoundFile, resultsFileFor } from "../../src/api/batch-offline.js";

describe("offline batch file names", () => {
  it.each([
    ["/d/requests.jsonl", 2, "/d/requests.round2.jsonl"],
    ["/d/requests.round2.jsonl", 3, "/d/requests.round3.jsonl"],
    ["requests", 2, "requests.round2"],
  ])("the round after %s is %s's file", (previous, round, next) => {
    expect(nextRoundFile(previous, round)).toBe(next);
  });

  it("suggests the results file beside the request file", () => {
    expect(resultsFileFor("/d/requests.jsonl")).toBe("/d/requests.results.jsonl");
    expect(resultsFileFor("requests.round2.jsonl")).toBe("requests.round2.results.jsonl");
    expect(resultsFileFor("requests")).toBe("requests.results.jsonl");
  });
});
