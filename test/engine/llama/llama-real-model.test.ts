/**
 * The embedded engine on a real instruct model: SmolLM2-135M-Instruct, the model of
 * `npm run bench:accuracy`, which fetches it once into a cache outside the repository
 * (bench/accuracy-model.mjs). Where the tiny random model of llama.test.ts can only show that the
 * grammar holds, this one shows what only real weights can: the GGUF's chat template is applied
 * (the model answers the question it was asked), its end-of-turn token stops the reply, and the
 * grammar steers a real vocabulary to the schema's JSON with the right value in it.
 * Greedy decoding (temperature 0), so the replies are the same on every run.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createLlamaEngine } from "../../../src/engine/llama/llama.js";
import { extract, toPromptJsonSchema } from "../../../src/index.js";
import { cachedModelPath } from "../../../bench/accuracy-model.mjs";
import { collect } from "../../helpers/collect.js";

const modelFile = cachedModelPath();
const haveModel = existsSync(modelFile);
if (!haveModel) {
  console.warn(`Skipping the real-model test of the embedded engine: ${modelFile} is not cached (npm run bench:accuracy fetches it).`);
}
const model = `local:${modelFile}`;

const contact = z.object({ name: z.string(), email: z.string().nullable(), age: z.int().nullable() });

describe.skipIf(!haveModel)("embedded engine on a real instruct model (SmolLM2-135M-Instruct)", () => {
  it("applies the model's chat template and stops at its end-of-turn token", async () => {
    const engine = await createLlamaEngine({ model, jsonSchema: toPromptJsonSchema(contact), concurrency: 1, grammar: false });
    try {
      const reply = await engine.complete({
        messages: [{ role: "user", content: "What is the capital of France? Answer in one word." }],
        maxTokens: 64,
        temperature: 0,
      });

      expect(reply.content).toContain("Paris");
      expect(reply.finishReason).toBe("stop");
      expect(reply.usage.completion_tokens).toBeLessThan(64); // ended by the model, not the budget
      expect(reply.content).not.toMatch(/<\|im_(start|end)\|>/); // ChatML's markers are not text
    } finally {
      await engine.close();
    }
  }, 180_000);

  it("decodes a schema-valid record under the grammar, with the value the row gives", async () => {
    const [result] = await collect(extract(["Ana Lima, 34 years old, email ana.lima@example.com"], { schema: contact, model, temperature: 0, concurrency: 1 }));

    expect(result!.error).toBeUndefined();
    expect(result!.attempts).toBe(1);
    expect(contact.safeParse(result!.data).success).toBe(true);
    expect(result!.data!.email).toBe("ana.lima@example.com");
  }, 180_000);
});
