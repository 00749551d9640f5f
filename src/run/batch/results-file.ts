import { ExtractError } from "../../errors/extract-error.js";
import type { JobState } from "./job-file.js";

// A results file handed in by the user (vLLM's `run-batch` output) is checked whole before any
// of it is used: a line that cannot be read, or that answers a request the job is not waiting
// on, means the wrong file was given, and reading the rest would journal rows from it.

/** What a checked results file holds for the requests the job waits on. */
export interface ResultsCount {
  /** Lines that are not blank. */
  lines: number;
  /** Requests waited on with a line in the file. */
  answered: number;
  /** Requests waited on with no line: they are asked again. */
  missing: number;
}

/**
 * Checks each line of `text` (the results file `file`): JSON with a string `custom_id` naming a
 * request of a part the job waits on (not collected yet). Blank lines are skipped, any order.
 * @throws ExtractError `INPUT_UNREADABLE` naming the file and line: a damaged line, or a
 * custom_id of an earlier round or of no request of this job.
 */
export function checkResultsFile(text: string, file: string, job: JobState): ResultsCount {
  const waitedOn = new Map<string, string | undefined>();
  const earlier = new Set<string>();
  for (const part of job.parts.values()) {
    for (const row of part.rows) {
      if (part.closed) earlier.add(row.id);
      else waitedOn.set(row.id, part.file);
    }
  }
  const files = [...new Set(waitedOn.values())].filter(Boolean).join(", ");
  const fail = (line: number, what: string) => new ExtractError("INPUT_UNREADABLE", `${file}, line ${line}: ${what}`, { file, line });
  const answered = new Set<string>();
  let lines = 0;
  text.split("\n").forEach((raw, at) => {
    if (raw.trim() === "") return;
    lines++;
    let customId: unknown;
    try {
      customId = (JSON.parse(raw) as { custom_id?: unknown } | null)?.custom_id;
    } catch (error) {
      throw fail(at + 1, `not a JSON line (${(error as Error).message}). Give the file vLLM's run-batch wrote with -o, unchanged.`);
    }
    if (typeof customId !== "string") throw fail(at + 1, "no custom_id: not a line of a batch results file ({id, custom_id, response, error}).");
    if (waitedOn.has(customId)) {
      answered.add(customId);
      return;
    }
    const which = `the results of ${files || "the request file this job waits on"}`;
    if (earlier.has(customId)) {
      throw fail(at + 1, `custom_id "${customId}" was asked in an earlier round, whose results were read already. Give ${which}.`);
    }
    throw fail(at + 1, `custom_id "${customId}" is not a request of this job (results of another job, or other settings?). Give ${which}.`);
  });
  return { lines, answered: answered.size, missing: waitedOn.size - answered.size };
}
