import { isWordCharAt } from "./word-tokens.js";

/** A number as written in a cell (`1,234.50`, `$89.99`, `1.234,56`), and what it may mean. */
export interface WrittenNumber {
  /** UTF-16 offsets in the written text: the sign and a currency symbol before it included. */
  start: number;
  end: number;
  /** The value read with `.` as the decimal point, and with `,` (only the readings the grouping allows). */
  values: number[];
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
export function writtenNumbers(text: string): WrittenNumber[] {
  const numbers: WrittenNumber[] = [];
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
    const values = readings(digits, negative ? -1 : 1);
    if (values.length) numbers.push({ start, end, values });
  }
  return numbers;
}

/**
 * What digit groups may mean, times `factor`: with `.` as the decimal point, then with `,` (the
 * readings {@link POINT_DECIMAL} and {@link COMMA_DECIMAL} allow; digits alone read the same
 * either way). Read by arithmetic, not `Number()` on a copy without the separators: a reading's
 * decimal point can only be its last separator, and the digits as one integer divided by a power
 * of ten is the double `Number()` would give (both exact, so the division rounds as the parse does).
 */
function readings(digits: string, factor: number): number[] {
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
  if (lastSeparator < 0) return [factor * (exact ? integer : Number(digits))];
  const point = digits.charCodeAt(lastSeparator);
  const fraction = exact ? integer / POWERS_OF_TEN[digits.length - lastSeparator - 1]! : 0;
  const values: number[] = [];
  if (POINT_DECIMAL.test(digits)) values.push(factor * (!exact ? Number(digits.replace(/[^\d.]/g, "")) : point === 0x2e ? fraction : integer));
  if (COMMA_DECIMAL.test(digits)) values.push(factor * (!exact ? Number(digits.replace(/[^\d,]/g, "").replace(",", ".")) : point === 0x2c ? fraction : integer));
  return values;
}

function isCurrency(code: number): boolean {
  return code === 0x24 || (code >= 0xa2 && code <= 0xa5) || (code >= 0x20a0 && code <= 0x20c0);
}

/** `-` or `−`. */
function isSign(code: number): boolean {
  return code === 0x2d || code === 0x2212;
}

