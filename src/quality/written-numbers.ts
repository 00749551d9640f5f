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
/** Digit groups: the plain digits, then any groups after a separator (`1` and `,234.50`). */
const DIGIT_GROUPS = /(\d+)((?:[.,'\u2019\u00a0\u202f]\d+)*)/g;

/**
 * Every number written in `text`, in order: an optional sign, an optional currency symbol, digit
 * groups, not glued to a word. The digit groups are found by a native regex scan (a cell's text
 * is mostly not digits); the sign and symbol are looked for before them by hand, back no further
 * than the previous number's end.
 */
export function writtenNumbers(text: string): WrittenNumber[] {
  const numbers: WrittenNumber[] = [];
  let from = 0;
  DIGIT_GROUPS.lastIndex = 0;
  for (let match = DIGIT_GROUPS.exec(text); match !== null; match = DIGIT_GROUPS.exec(text)) {
    const digits = match[0];
    const first = match.index;
    const end = first + digits.length;
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
    const values: number[] = [];
    // Digits alone (most numbers) read the same either way: `.` grouping needs a separator, `,` decimals a comma.
    if (match[2] === "") values.push(factor * Number(digits));
    else {
      if (POINT_DECIMAL.test(digits)) values.push(factor * Number(digits.replace(/[^\d.]/g, "")));
      if (COMMA_DECIMAL.test(digits)) values.push(factor * Number(digits.replace(/[^\d,]/g, "").replace(",", ".")));
    }
    if (values.length) numbers.push({ start, end, values });
  }
  return numbers;
}

function isCurrency(code: number): boolean {
  return code === 0x24 || (code >= 0xa2 && code <= 0xa5) || (code >= 0x20a0 && code <= 0x20c0);
}

/** `-` or `−`. */
function isSign(code: number): boolean {
  return code === 0x2d || code === 0x2212;
}

