import { randomUUID } from "node:crypto";
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import type { ChatMessage } from "../../core/prompt.js";
import type { Usage } from "../../engine/types.js";
import { ExtractError } from "../../errors/extract-error.js";

// The durable state of a batch job: an append-only JSONL file beside the journal
// (`<journal>.batches`), one event per line, each written with one write(2) before the run waits
// on what it announces, so that a run killed at any point can be resumed without submitting a
// row that sits in a live batch. Finished rows are not kept here but in the journal.

/** A row's place in a part: where it stands between two calls ({@link RowState} without its first messages). */
export interface PlannedRow {
  /** The custom_id of its line. */
  id: string;
  /** 0-based input index (the first of identical rows). */
  i: number;
  /** Its journal key. */
  k: string;
  /** Attempts, the one in the file included. */
  a: number;
  /** The call's output budget. */
  m: number;
  /** The call's messages after the row's first messages (a re-ask's reply and feedback). */
  t: ChatMessage[];
  /** Tokens of the calls answered so far. */
  u: Usage;
}

/** One line of the job file. */
export type JobEvent =
  | { e: "job"; run: string }
  /** A file's worth of rows, about to be uploaded. */
  | { e: "part"; part: string; rows: PlannedRow[] }
  | { e: "uploaded"; part: string; file: string }
  /** About to create the batch: after a crash here, the batch is looked up by its metadata. */
  | { e: "creating"; part: string }
  | { e: "created"; part: string; batch: string }
  /** The provider refused the batch (enqueued-token limit): its rows are planned again. */
  | { e: "rejected"; part: string }
  /** Its results are in the journal; `next`: its rows that need another call, with their state. */
  | { e: "collected"; part: string; next: PlannedRow[] };

/** What the job file says of one part. */
export interface PartRecord {
  part: string;
  rows: PlannedRow[];
  file?: string;
  creating: boolean;
  batch?: string;
  /** Collected or rejected: no batch of it is live any more. */
  closed: boolean;
}

/** The job as read back: its run id, its parts in order, and rows left waiting for a next call. */
export interface JobState {
  run: string;
  parts: Map<string, PartRecord>;
  /** By row index, the latest state of a row some collected part left needing another call. */
  waiting: Map<number, PlannedRow>;
}

/** The job file of a journal. */
export function jobFileOf(journal: string): string {
  return `${journal}.batches`;
}

/** Reads a job file (a torn last line, cut by a crash mid-write, is ignored); undefined when there is none. */
export function readJobFile(file: string): JobState | undefined {
  return readJob(file)?.state;
}

/** The job file's state and the length of its whole lines (what follows is a torn tail). */
function readJob(file: string): { state: JobState | undefined; whole: number } | undefined {
  if (!existsSync(file)) return undefined;
  let state: JobState | undefined;
  const text = readFileSync(file, "utf8");
  const whole = text.lastIndexOf("\n") + 1;
  const lines = text.slice(0, whole).split("\n");
  for (const [at, line] of lines.entries()) {
    if (line === "") continue;
    let event: JobEvent;
    try {
      event = JSON.parse(line) as JobEvent;
    } catch (error) {
      throw new ExtractError("INPUT_UNREADABLE", `${file}, line ${at + 1}: not a job file line (${(error as Error).message}).`, { file, line: at + 1 });
    }
    if (event.e === "job") state = { run: event.run, parts: new Map(), waiting: new Map() };
    else if (state) apply(state, event);
  }
  return { state, whole: Buffer.byteLength(text.slice(0, whole)) };
}

function apply(state: JobState, event: Exclude<JobEvent, { e: "job" }>): void {
  if (event.e === "part") {
    state.parts.set(event.part, { part: event.part, rows: event.rows, creating: false, closed: false });
    for (const row of event.rows) state.waiting.delete(row.i);
    return;
  }
  const part = state.parts.get(event.part);
  if (!part) return;
  if (event.e === "uploaded") part.file = event.file;
  else if (event.e === "creating") part.creating = true;
  else if (event.e === "created") part.batch = event.batch;
  else {
    part.closed = true;
    const next = event.e === "rejected" ? part.rows : event.next;
    for (const row of next) state.waiting.set(row.i, row);
  }
}

/** Appends events to a job file, one write(2) each. */
export class JobFile {
  private constructor(
    readonly file: string,
    private readonly fd: number,
    private size: number,
    readonly state: JobState,
  ) {}

  /**
   * Opens the job file of `journal`: with `resume`, what it holds is read back and kept; without,
   * or when there is none, a new job starts with a new run id.
   * @throws ExtractError `OUTPUT_UNWRITABLE` when it cannot be written.
   */
  static open(journal: string, options: { resume: boolean }): JobFile {
    const file = jobFileOf(journal);
    const read = options.resume ? readJob(file) : undefined;
    const earlier = read?.state;
    let fd: number;
    try {
      fd = openSync(file, earlier ? "r+" : "w");
      // Later lines must not be glued to a line a crash cut short.
      if (earlier) ftruncateSync(fd, read!.whole);
    } catch (error) {
      throw new ExtractError("OUTPUT_UNWRITABLE", `Cannot write the batch job file ${file}: ${(error as Error).message}.`, { file, cause: error });
    }
    const job = new JobFile(file, fd, earlier ? read!.whole : 0, earlier ?? { run: randomUUID(), parts: new Map(), waiting: new Map() });
    if (!earlier) job.append({ e: "job", run: job.state.run });
    return job;
  }

  /** Writes `event` (one line, one write) and applies it to {@link state}. */
  append(event: JobEvent): void {
    const line = Buffer.from(`${JSON.stringify(event)}\n`);
    writeSync(this.fd, line, 0, line.length, this.size);
    this.size += line.length;
    if (event.e !== "job") apply(this.state, event);
  }

  close(): void {
    closeSync(this.fd);
  }
}
