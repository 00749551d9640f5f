import { distance as levenshtein } from "fastest-levenshtein";

/**
 * The known name closest to a mistyped one, for "Did you mean ...?", or undefined when none is
 * close enough to be a likely typo. Case is ignored, so `--maxTokens` finds `--max-tokens`.
 *
 * @example closestName("--concurency", ["--concurrency", "--columns"]) // "--concurrency"
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const wanted = typed.toLowerCase();
  // About one edit per three characters, rounded up so that a swapped pair (`--mdoel`, two edits)
  // still counts: a typo, not a different word.
  const limit = Math.max(1, Math.ceil(wanted.replace(/^-+/, "").length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = levenshtein(wanted, name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}
