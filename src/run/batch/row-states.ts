import type { ChatMessage } from "../../core/prompt.js";
import type { AttemptBudget, RowState } from "../../core/step.js";
import type { PlannedRow } from "./job-file.js";
import { customIdOf } from "./request-lines.js";

// A row's state between batch rounds, and its compact form in the job file: the first messages
// (system prompt and row) are left out there, since the input row rebuilds them.

/** A distinct row of a batch job: the first input row with its content. */
export interface JobRow {
  index: number;
  key: string;
  firstMessages: readonly ChatMessage[];
}

/** The job file's form of a row's state. */
export function plannedRow(row: JobRow, state: RowState): PlannedRow {
  return {
    id: customIdOf(row.index, state.attempts),
    i: row.index,
    k: row.key,
    a: state.attempts,
    m: state.request.maxTokens,
    t: state.request.messages.slice(row.firstMessages.length),
    u: state.usage,
  };
}

/** The state a job file's row stands for, with this run's budget. */
export function rowStateOf(row: JobRow, planned: PlannedRow, budget: AttemptBudget): RowState {
  return {
    firstMessages: row.firstMessages,
    budget,
    request: { messages: [...row.firstMessages, ...planned.t], maxTokens: planned.m },
    attempts: planned.a,
    usage: planned.u,
  };
}
