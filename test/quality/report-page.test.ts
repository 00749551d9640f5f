/**
 * The HTML report in a real browser: Debian's chromium (or $CHROMIUM_PATH) driven by
 * playwright-core. Skipped, saying why, only where the browser cannot start.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReport } from "../../src/quality/report.js";
import { writeReportOutput } from "../helpers/report-output.js";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let browser: Browser | undefined;
try {
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
} catch (error) {
  console.warn(`Skipping the report's browser tests: chromium did not start from ${executablePath} (${(error as Error).message.split("\n")[0]}). Install it (apt-get install chromium) or set CHROMIUM_PATH.`);
}

let dir: string;
let page: Page;
const problems: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "report-page-"));
  if (!browser) return;
  const html = path.join(dir, "report.html");
  await writeFile(html, await createReport(writeReportOutput(dir), { model: "gpt-4o-mini" }));
  page = await browser.newPage();
  page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("request", (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(html).href);
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

const text = (selector: string) => page.locator(selector).innerText();

/** What the tests read of a `<mark>` (the project compiles without the DOM library). */
type Mark = { dataset: Record<string, string>; textContent: string; title: string; style: { background: string } };

describe.skipIf(!browser)("the HTML report in chromium", () => {
  it("loads from disk with no console error and no request but its own file", () => {
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith("file:"))).toEqual([]);
  });

  it("shows the run's totals", async () => {
    expect(await text("#tile-rows .value")).toBe("5");
    expect(await text("#tile-ok .value")).toBe("2");
    expect(await text("#tile-failed .value")).toBe("3");
    expect(await text("#tile-attempts .value")).toBe("2.40");
    expect(await text("#tile-tokens .value")).toBe("4,180");
    // The fixture's lines predate repairs and coercion being written down.
    expect(await text("#tile-repairs .value")).toBe("not recorded");
    expect(await text("#tile-coercions .value")).toBe("not recorded");
    expect(await text("#tile-cost")).toContain("gpt-4o-mini");
    expect(await text("#failures")).toMatch(/SCHEMA_MISMATCH · 2 rows[\s\S]*OUTPUT_TRUNCATED · 1 row/);
    expect(await text("#pager-text")).toBe("Rows 1–5 of 5");
  });

  it("highlights a clicked row's values where they are in the source, by code points", async () => {
    await page.locator("#row-list tr", { hasText: "Ana Silva" }).click();
    const marks = await page.locator("#row-detail mark").evaluateAll((nodes) => (nodes as unknown as Mark[]).map((node) => [node.dataset.path, node.textContent, node.title]));
    expect(marks).toEqual([
      ["contact.name", "Ana Silva", "contact.name = Ana Silva (exact)"],
      ["city", "東京", "city = 東京 (exact)"],
      ["tags[0]", "cafe\u0301", "tags[0] = café (normalized)"],
      ["total", "$1,234.50", "total = 1234.5 (normalized)"],
    ]);
    // One colour per field: both names share contact.name's colour, other fields differ.
    const colours = await page.locator("#row-detail mark").evaluateAll((nodes) => (nodes as unknown as Mark[]).map((node) => node.style.background));
    expect(new Set(colours).size).toBe(4);
  });

  it("flags ungrounded values and keeps markup in the source as text", async () => {
    await page.locator("#row-list tr", { hasText: "Bo Li" }).click();
    expect(await text("#row-detail .ungrounded-list")).toContain("contact.email = bo@made.up");
    expect(await text("#row-detail")).toContain("</script><script>window.pwned = 1</script>");
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
  });

  it("shows the error of a failed row", async () => {
    await page.locator("#row-list tr", { hasText: "long" }).click();
    expect(await text("#row-detail .error")).toBe("OUTPUT_TRUNCATED: cut off at 1024 tokens");
  });

  it("filters failed rows, rows with ungrounded values, and a field", async () => {
    await page.selectOption("#filter-status", "failed");
    expect(await text("#pager-text")).toBe("Rows 1–3 of 3 (filtered from 5)");
    await page.selectOption("#filter-status", "ungrounded");
    expect(await page.locator("#row-list tr").count()).toBe(1);
    await page.selectOption("#filter-status", "all");
    await page.selectOption("#filter-field", { label: "city" });
    expect(await page.locator("#row-list tr").allInnerTexts()).toEqual([expect.stringContaining("Ana Silva")]);
    expect(problems).toEqual([]);
  });
});
