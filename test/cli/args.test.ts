import { describe, expect, it } from "vitest";
import { explainMistake, parseCommandLine } from "../../src/cli/args.js";

describe("parseCommandLine: few-shot examples", () => {
  const base = ["in.csv", "--schema", "ticket"];

  it("--examples FILE adds a file of examples; --no-examples turns every example off; neither leaves the default", () => {
    expect(parseCommandLine([...base, "--examples", "more.jsonl"]).options.examples).toBe("more.jsonl");
    expect(parseCommandLine([...base, "--no-examples"]).options.examples).toBe(false);
    expect(parseCommandLine(base).options).not.toHaveProperty("examples");
  });

  it("explains another mistake without taking --no-examples for an unknown flag", () => {
    expect(explainMistake([...base, "--no-examples", "--concurency", "2"])).toBe("Unknown flag --concurency. Did you mean --concurrency?");
    expect(explainMistake([...base, "--no-schema"])).toMatch(/^Unknown flag --no-schema\./);
  });
});
