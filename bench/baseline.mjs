/**
 * The baseline every benchmark figure is compared with: the plainest correct program for the
 * job, as a user would write it in an afternoon. It reads the whole CSV, sends one Chat
 * Completions request per row through the openai SDK with p-limit, parses the reply with
 * JSON.parse and zod, asks again (up to 3 calls) when either fails, and writes JSONL. No pacing,
 * no journal, no streaming, no repair, no feedback in re-asks.
 *
 *   node bench/baseline.mjs <in.csv> <out.jsonl> <concurrency> <baseURL>
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import OpenAI from "openai";
import pLimit from "p-limit";
import { z } from "zod";

const [input, output, concurrency, baseURL] = process.argv.slice(2);
// The bench schema (test/fixtures/schemas/person.ts), inline as a user would write it.
const schema = z.object({
  name: z.string().describe("Full name"),
  age: z.int().nullable().describe("Age in years; null if not stated"),
});
const system = `Extract the record's data as a JSON object matching this JSON Schema:\n${JSON.stringify(z.toJSONSchema(schema))}`;
const client = new OpenAI({ baseURL, apiKey: "bench", maxRetries: 4 });
const limit = pLimit(Number(concurrency));
const rows = parse(readFileSync(input), { columns: true });

const usage = { prompt_tokens: 0, completion_tokens: 0 };
const results = await Promise.all(
  rows.map((row) =>
    limit(async () => {
      let error;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const completion = await client.chat.completions.create({
            model: "bench",
            messages: [
              { role: "system", content: system },
              { role: "user", content: JSON.stringify(row) },
            ],
            response_format: { type: "json_object" },
            max_tokens: 100,
          });
          usage.prompt_tokens += completion.usage?.prompt_tokens ?? 0;
          usage.completion_tokens += completion.usage?.completion_tokens ?? 0;
          return { ok: true, data: schema.parse(JSON.parse(completion.choices[0].message.content ?? "")) };
        } catch (caught) {
          error = caught;
          if (caught instanceof OpenAI.APIError || caught instanceof OpenAI.APIConnectionError) break;
        }
      }
      return { ok: false, error: String(error) };
    }),
  ),
);
writeFileSync(output, results.map((result) => JSON.stringify(result)).join("\n") + "\n");
process.stderr.write(`${JSON.stringify({ rows: rows.length, ok: results.filter((result) => result.ok).length, usage })}\n`);
