import { describe, expect, it } from "vitest";
import { USAGE } from "../../src/cli/args.js";
import { CLI_NAME_OF_OPTION, FLAGS, flagOf, parseArgsOptions } from "../../src/cli/flags.js";

describe("the flags table", () => {
  it("is the one source of the usage list, the parseArgs options and the option -> flag names", () => {
    const parseArgs = parseArgsOptions();
    for (const spec of FLAGS) {
      expect(USAGE).toContain(flagOf(spec));
      expect(parseArgs[spec.name]).toMatchObject({ type: spec.type });
      if (spec.option) expect(CLI_NAME_OF_OPTION.get(spec.option)).toBe(flagOf(spec));
    }
    expect(CLI_NAME_OF_OPTION.get("maxTokensCap")).toBe("--max-tokens-cap");
    expect(CLI_NAME_OF_OPTION.get("formulaGuard")).toBe("--no-formula-guard");
  });

  it("lays the usage list out in two columns", () => {
    expect(USAGE).toContain("  -s, --schema <name|path>  a schema in ./schemas");
    expect(USAGE).toContain("      --max-input-tokens <n>  fail rows whose prompt is longer");
    expect(USAGE).toContain("\n                            optionally AZURE_OPENAI_DEPLOYMENT, OPENAI_API_VERSION\n");
  });
});
