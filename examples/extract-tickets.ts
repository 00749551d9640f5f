/**
 * Extracts every ticket in examples/tickets.csv with the library API.
 *
 *   npm run build                      # once: "llm-extract" resolves to this package's dist/
 *   export OPENAI_API_KEY=sk-...       # or OPENAI_BASE_URL=http://localhost:11434/v1 for a local server
 *   npx tsx examples/extract-tickets.ts
 */
import { readFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import { extract } from "llm-extract";
import ticket, { instructions } from "../schemas/ticket.ts";

const csv = await readFile(new URL("./tickets.csv", import.meta.url), "utf8");
const rows: Record<string, string>[] = parse(csv, { columns: true });

const totals = { ok: 0, failed: 0, prompt_tokens: 0, completion_tokens: 0 };

for await (const result of extract(rows, {
  schema: ticket,
  // A zod object carries no `instructions`: pass the schema file's own (the CLI does this by itself).
  instructions,
  model: process.env.EXTRACT_MODEL ?? "gpt-4o-mini",
  concurrency: 4,
  // Only these columns are sent to the model; ticket_id stays on `result.row`.
  columns: ["channel", "subject", "body"],
})) {
  totals.prompt_tokens += result.usage.prompt_tokens;
  totals.completion_tokens += result.usage.completion_tokens;
  if (result.ok) {
    totals.ok++;
    const { urgency, category, contact, summary } = result.data;
    console.log(`${result.row.ticket_id}\t${urgency}\t${category}\t${contact.email ?? "-"}\t${summary}`);
  } else {
    totals.failed++;
    console.error(`${result.row.ticket_id}: ${result.error.code} ${result.error.message}`);
  }
}

console.error(
  `${totals.ok} ok, ${totals.failed} failed, ${totals.prompt_tokens} prompt + ${totals.completion_tokens} completion tokens`,
);
