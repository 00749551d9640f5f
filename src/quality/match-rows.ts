import { invalidOption } from "../config/options.js";
import type { EvalRecord } from "./eval-records.js";

/** Output rows paired with gold rows, and what could not be paired. */
export interface RowMatch {
  /** The key column the rows were matched by; null when matched by position. */
  key: string | null;
  pairs: Array<{ label: string; gold: EvalRecord; output: EvalRecord }>;
  /** Gold rows with no output row (their labels). */
  missingFromOutput: string[];
  /** Output rows with no gold row. */
  notInGold: string[];
  /** Keys that more than one gold or output row has; only the first of each is matched. */
  duplicateKeys: string[];
}

/**
 * Pairs output rows with gold rows by `key`; without one, by a column named `id` when both sides
 * have it, else by the one column both sides have (a gold JSONL's `{"ticket_id": ..., "data": ...}`
 * against an output's input column `ticket_id`), else by position. A row is labelled by its key,
 * or by its 1-based position (`#3`).
 *
 * @throws ExtractError `INVALID_OPTION` when `key` is not a column of both sides.
 */
export function matchRows(output: readonly EvalRecord[], gold: readonly EvalRecord[], key: string | undefined): RowMatch {
  const column = key ?? detectKey(output, gold);
  if (key !== undefined) {
    for (const [side, records] of [["the output", output], ["the gold file", gold]] as const) {
      if (records.length > 0 && !records.some((record) => Object.hasOwn(record.keys, key))) {
        throw invalidOption("key", `a column of ${side} (it has ${Object.keys(records[0]!.keys).join(", ")})`, key);
      }
    }
  }
  const labelOf = (record: EvalRecord): string => (column === null ? `#${record.position + 1}` : String(record.keys[column] ?? `#${record.position + 1}`));
  const duplicateKeys = new Set<string>();
  const byLabel = (records: readonly EvalRecord[]): Map<string, EvalRecord> => {
    const map = new Map<string, EvalRecord>();
    for (const record of records) {
      const label = labelOf(record);
      if (map.has(label)) duplicateKeys.add(label);
      else map.set(label, record);
    }
    return map;
  };
  const goldRows = byLabel(gold);
  const outputRows = byLabel(output);
  const pairs: RowMatch["pairs"] = [];
  const missingFromOutput: string[] = [];
  for (const [label, record] of goldRows) {
    const found = outputRows.get(label);
    if (found) pairs.push({ label, gold: record, output: found });
    else missingFromOutput.push(label);
  }
  const notInGold = [...outputRows.keys()].filter((label) => !goldRows.has(label));
  return { key: column, pairs, missingFromOutput, notInGold, duplicateKeys: [...duplicateKeys] };
}

function detectKey(output: readonly EvalRecord[], gold: readonly EvalRecord[]): string | null {
  if (output.length === 0 || gold.length === 0) return null;
  const outputKeys = new Set(Object.keys(output[0]!.keys));
  const shared = Object.keys(gold[0]!.keys).filter((name) => outputKeys.has(name) && name !== "index");
  if (shared.includes("id")) return "id";
  return shared.length === 1 ? shared[0]! : null;
}
