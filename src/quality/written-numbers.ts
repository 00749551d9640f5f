import { isWordCharAt } from "./word-tokens.js";

/**
 * The numbers written in a text (`1,234.50`, `$89.99`, `1.234,56`), in order, and what each may
 * mean: parallel arrays, not an object per number, so that a value is compared with all of them
 * in one tight loop (most values are: a row writes a few dozen numbers, a record holds several).
 */
export class WrittenNumbers {
  /** UTF-16 offsets of each number in the written text: the sign and a currency symbol before it included. */
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** The value read with `.` as the decimal point; NaN where the grouping rules that reading out. */
  readonly pointValues: number[] = [];
  /** The value read with `,` as the decimal point; NaN where ruled out (and for digits alone, which read the same either way). */
  readonly commaValues: number[] = [];

  /** The first number starting at or after offset `from` that reads as `value` (within 1e-9 of it, relatively), or -1. */
  find(value: number, from: number): number {
    const tolerance = 1e-9 * Math.max(1, Math.abs(value));
    const { starts, pointValues, commaValues } = this;
    for (let index = 0; index < starts.length; index++) {
      if (starts[index]! < from) continue;
      if (Math.abs(pointValues[index]! - value) <= tolerance || Math.abs(commaValues[index]! - value) <= tolerance) return index;
    }
    return -1;
  }
}

/** Groupings where `.` is the decimal point: `1,234.50`, `1'250.50`, Indian `1,23,456`. */
const POINT_DECIMAL = /^\d{1,3}(?:[,'\u2019\u00a0\u202f]\d{2,3})+(?:\.\d+)?$|^\d+(?:\.\d+)?$/;
/** Groupings where `,` is the decimal point: `1.234,56`, `12,5`. */
const COMMA_DECIMAL = /^\d{1,3}(?:[.'\u2019\u00a0\u202f]\d{3})+(?:,\d+)?$|^\d+,\d+$/;
/** Digit groups: digits, then any more after a separator (`1,234.50`). */
const DIGIT_GROUPS = /\d+(?:[.,'\u2019\u00a0\u202f]\d+)*/g;
/** The most digits whose integer is exact in a double (below 2^53): up to this many, a number is read by arithmetic. */
const EXACT_DIGITS = 15;
/** 10^0 to 10^15, each exact. */
const POWERS_OF_TEN = Array.from({ length: EXACT_DIGITS + 1 }, (_, power) => Number(`1e${power}`));

/**
 * Every number written in `text`, in order: an optional sign, an optional currency symbol, digit
 * groups, not glued to a word. The digit groups are found by a native regex scan (a cell's text
 * is mostly not digits, and a regex skips them faster than a loop); the sign and symbol are
 * looked for before them by hand, back no further than the previous number's end.
 */
export function writtenNumbers(text: string): WrittenNumbers {
  const numbers = new WrittenNumbers();
  let from = 0;
  DIGIT_GROUPS.lastIndex = 0;
  for (let match = DIGIT_GROUPS.exec(text); match !== null; match = DIGIT_GROUPS.exec(text)) {
    const digits = match[0];
    const first = match.index;
    const end = DIGIT_GROUPS.lastIndex;
    let start = first;
    if (start > from && isCurrency(text.charCodeAt(start - 1))) start--;
    if (start > from && isSign(text.charCodeAt(start - 1))) start--;
    from = end;
    let negative = isSign(text.charCodeAt(start));
    // Glued to a word (`A-12`, `US$5`, `x12`): the digits alone, if nothing but the sign or symbol joins them to it.
    if (start > 0 && isWordCharAt(text, start - 1)) {
      if (start === first) continue;
      start = first;
      negative = false;
    }
    const factor = negative ? -1 : 1;
    const [point, comma] = readings(digits);
    if (Number.isNaN(point) && Number.isNaN(comma)) continue;
    numbers.starts.push(start);
    numbers.ends.push(end);
    numbers.pointValues.push(factor * point);
    numbers.commaValues.push(factor * comma);
  }
  return numbers;
}

/**
 * What digit groups may mean: with `.` as the decimal point, then with `,` (NaN for a reading
 * that {@link POINT_DECIMAL} or {@link COMMA_DECIMAL} rules out; digits alone read the same
 * either way, given once). Read by arithmetic, not `Number()` on a copy without the separators:
 * a reading's decimal point can only be its last separator, and the digits as one integer divided
 * by a power of ten is the double `Number()` would give (both exact, so the division rounds as
 * the parse does).
 */
function readings(digits: string): [point: number, comma: number] {
  let integer = 0;
  let count = 0;
  let lastSeparator = -1;
  for (let at = 0; at < digits.length; at++) {
    const code = digits.charCodeAt(at);
    if (code >= 0x30 && code <= 0x39) {
      integer = integer * 10 + code - 0x30;
      count++;
    } else lastSeparator = at;
  }
  const exact = count <= EXACT_DIGITS;
  if (lastSeparator < 0) return [exact ? integer : Number(digits), NaN];
  const separator = digits.charCodeAt(lastSeparator);
  const fraction = exact ? integer / POWERS_OF_TEN[digits.length - lastSeparator - 1]! : 0;
  const point = !POINT_DECIMAL.test(digits) ? NaN : !exact ? Number(digits.replace(/[^\d.]/g, "")) : separator === 0x2e ? fraction : integer;
  const comma = !COMMA_DECIMAL.test(digits) ? NaN : !exact ? Number(digits.replace(/[^\d,]/g, "").replace(",", ".")) : separator === 0x2c ? fraction : integer;
  return [point, comma];
}

function isCurrency(code: number): boolean {
  return code === 0x24 || (code >= 0xa2 && code <= 0xa5) || (code >= 0x20a0 && code <= 0x20c0);
}

/** `-` or `−`. */
function isSign(code: number): boolean {
  return code === 0x2d || code === 0x2212;
}

