import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildCorrectionMessages, buildMessages } from "../../../src/core/prompt.js";
import { chatBodyJson, chatRequestBody } from "../../../src/engine/http/chat-body.js";
import type { ReplyFormat } from "../../../src/engine/types.js";
import { preparePrompt } from "../../../src/run/context.js";

// chatBodyJson must write the bytes JSON.stringify writes (the batch path's lines use the latter,
// and both must send the same request), while reusing what is the same for every row.

const schema = z.object({ name: z.string().nullable(), urgency: z.enum(["low", "high"]) });
const examples = [
  { input: { text: "Ana here, the site is down!" }, output: { name: "Ana", urgency: "high" } },
  { input: { text: "no rush" }, output: { name: null, urgency: "low" } },
];

describe("chatBodyJson", () => {
  it.each(["json_object", "json_schema", "tools"] as const)("writes what JSON.stringify writes, %s mode, with and without examples, first attempt and re-ask", async (mode) => {
    for (const withExamples of [false, true]) {
      const context = await preparePrompt({ schema, model: "m", mode, examples: withExamples ? examples : false });
      const replyFormat: ReplyFormat = context.replyFormat;
      for (const row of [{ text: 'Bo: "quoted", new\nline, ünïcode' }, { text: "Cy" }]) {
        const first = buildMessages(context.systemPrompt, row, context.exampleMessages);
        const reask = buildCorrectionMessages(first, "{not json", "Unexpected token");
        for (const messages of [first, reask]) {
          for (const temperature of [undefined, 0.2]) {
            const body = chatRequestBody("m", { messages, maxTokens: 100, replyFormat, temperature }, "max_tokens");
            expect(chatBodyJson(body)).toBe(JSON.stringify(body));
          }
        }
      }
    }
  });

  it("gets the same frozen system message and example answers for every row, so they are written once", async () => {
    const context = await preparePrompt({ schema, model: "m", mode: "tools", examples });
    const bodies = [{ text: "a" }, { text: "b" }].map((row) =>
      chatRequestBody("m", { messages: buildMessages(context.systemPrompt, row, context.exampleMessages), maxTokens: 10, replyFormat: context.replyFormat }, "max_tokens"),
    );
    const [a, b] = bodies.map((body) => body.messages);
    expect(a!.length).toBe(b!.length);
    // Everything but the row's own message is the very same object, frozen.
    for (let i = 0; i < a!.length - 1; i++) {
      expect(a![i]).toBe(b![i]);
      expect(Object.isFrozen(a![i])).toBe(true);
    }
    expect(a!.at(-1)).not.toBe(b!.at(-1));
    expect((bodies[0] as { tools?: unknown }).tools).toBe((bodies[1] as { tools?: unknown }).tools);
  });
});
