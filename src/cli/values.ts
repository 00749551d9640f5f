/**
 * Converters from a flag's text to its option's value. They check only what the library cannot
 * (numbers, durations, files named by flags); ranges are checked once, by the library.
 * Each throws `INVALID_OPTION` naming the flag the user typed.
 */
import { readFileSync } from "node:fs";
import { ExtractError } from "../errors/extract-error.js";

/** An `INVALID_OPTION` error about the command line itself. */
export function usageError(message: string): ExtractError {
  return new ExtractError("INVALID_OPTION", message);
}

/** A whole number: `8`. */
export function integer(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw usageError(`${flag} expects a whole number, got "${value}".`);
  return Number(value);
}

/** Any finite number: `0.2`, `1e5`. */
export function number(value: string, flag: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) throw usageError(`${flag} expects a number, got "${value}".`);
  return parsed;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `500ms`, `30s`, `2m`, or a bare number of milliseconds (the library's unit). */
export function duration(value: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
  if (!match) throw usageError(`${flag} expects a duration such as 30s, 2m or 500ms, got "${value}".`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]!);
}

/** `a, b,c` -> `["a", "b", "c"]`. */
export function columnList(value: string): string[] {
  return value.split(",").map((column) => column.trim()).filter(Boolean);
}

/** The text itself, or `@file`: the file's content. */
export function instructions(value: string, flag: string): string {
  if (!value.startsWith("@")) return value;
  const file = value.slice(1);
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw usageError(`${flag} ${value}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
}
