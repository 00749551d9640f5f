import { describe, expect, it } from "vitest";
import { z } from "zod";
import { renderForCli } from "../../src/cli/render.js";
import { ExtractError } from "../../src/errors/extract-error.js";
import { toPromptJsonSchema } from "../../src/schema/json-schema.js";
import { toStrictJsonSchema } from "../../src/schema/strict-schema.js";

describe("renderForCli", () => {
  it.each([
    ["Raise `maxTokens` / `maxTokensCap`, or make the schema's strings shorter.", "Raise --max-tokens / --max-tokens-cap, or make the schema's strings shorter."],
    ["Send fewer `columns`, or raise `maxInputTokens`.", "Send fewer --columns, or raise --max-input-tokens."],
    ["Expected `concurrency` to be a whole number from 1 and up, got 0.", "Expected --concurrency to be a whole number from 1 and up, got 0."],
    ["Check `baseURL`, or pass `apiKey`.", "Check --base-url, or pass --api-key."],
    ["Or run with `mode` json_object.", "Or run with --mode json_object."],
    ["record such rows as failed with `skipBadRows`", "record such rows as failed with --skip-bad-rows"],
    ["or set `schemasDir`", "or set $EXTRACT_SCHEMAS_DIR"],
  ])("renders option names as flags: %s", (library, cli) => {
    expect(renderForCli(library)).toBe(cli);
  });

  it.each([
    "The key `response_format` was refused.",
    "Field `contact.email` may be left out.",
    "`signal` was aborted; `journal` is kept.",
    "use `z.string().nullable()` instead",
    "`maxtokens` is not an option name",
  ])("leaves other backticked text as it is: %s", (text) => {
    expect(renderForCli(text)).toBe(text);
  });

  it("keeps a field that shares an option's name: fields are quoted, not backticked", () => {
    let error: unknown;
    try {
      toStrictJsonSchema(toPromptJsonSchema(z.object({ model: z.string().optional() })));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExtractError);
    expect(renderForCli((error as ExtractError).message)).toMatch(/^Field "model" may be left out.*\(--mode json_schema\).*Or run with --mode json_object/);
  });
});
