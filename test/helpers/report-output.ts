/**
 * A small llm-extract JSONL output for the report's tests: successful rows with spans (after an
 * emoji, CJK text and a combining accent, so that code point offsets differ from UTF-16 ones),
 * an ungrounded value, failed rows of two codes, and markup in the source that must stay text.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { OutputLine, OutputSpan } from "../../src/quality/output-file.js";

/** The span of `value` at its first occurrence in `text`, counted in code points. */
export function spanOf(text: string, value: string, at: Omit<OutputSpan, "start" | "end">): OutputSpan {
  const utf16 = text.indexOf(value);
  if (utf16 < 0) throw new Error(`${value} is not in ${text}`);
  const start = Array.from(text.slice(0, utf16)).length;
  return { ...at, start, end: start + Array.from(value).length };
}

const usage = (prompt: number, completion: number) => ({ prompt_tokens: prompt, completion_tokens: completion });

const first = "Ana Silva 😀 wrote from 東京: the café (cafe\u0301) bill is $1,234.50.";
const second = "Order <b>#A-17</b> </script><script>window.pwned = 1</script> from Bo Li.";

/** The lines, as the JSONL output would hold them. */
export const REPORT_LINES: OutputLine[] = [
  {
    index: 0,
    input: { id: "1", text: first },
    data: { contact: { name: "Ana Silva", email: null }, city: "東京", total: 1234.5, tags: ["café"] },
    error: null,
    attempts: 1,
    usage: usage(100, 20),
    spans: [
      spanOf(first, "Ana Silva", { path: "contact.name", column: "text", match: "exact" }),
      spanOf(first, "東京", { path: "city", column: "text", match: "exact" }),
      spanOf(first, "$1,234.50", { path: "total", column: "text", match: "normalized" }),
      spanOf(first, "cafe\u0301", { path: "tags[0]", column: "text", match: "normalized" }),
    ],
    ungrounded: [],
  },
  {
    index: 1,
    input: { id: "2", text: second },
    data: { contact: { name: "Bo Li", email: "bo@made.up" }, city: null, total: null, tags: [] },
    error: null,
    attempts: 2,
    usage: usage(200, 40),
    spans: [spanOf(second, "Bo Li", { path: "contact.name", column: "text", match: "exact" })],
    ungrounded: ["contact.email"],
  },
  { index: 2, input: { id: "3", text: "???" }, data: null, error: { code: "SCHEMA_MISMATCH", message: "total: expected number" }, attempts: 3, usage: usage(300, 60) },
  { index: 3, input: { id: "4", text: "..." }, data: null, error: { code: "SCHEMA_MISMATCH", message: "city: expected string" }, attempts: 3, usage: usage(300, 60) },
  { index: 4, input: { id: "5", text: "long" }, data: null, error: { code: "OUTPUT_TRUNCATED", message: "cut off at 1024 tokens" }, attempts: 3, usage: usage(100, 3000) },
];

/** Writes {@link REPORT_LINES} (or `lines`) as `out.jsonl` in `dir`; returns its path. */
export function writeReportOutput(dir: string, lines: readonly OutputLine[] = REPORT_LINES): string {
  const file = path.join(dir, "out.jsonl");
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return file;
}
