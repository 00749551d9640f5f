import { isWordCharAt } from "./word-index.js";

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
/** Up to this many digits, adding them up gives exactly what `Number()` reads (all below 2^53). */
const EXACT_DIGITS = 15;

/**
 * Every number written in `text`, in order: an optional sign, an optional currency symbol, digit
 * groups (`/([-−]?)([$¢-¥₠-⃀]?)(\d+(?:[.,'’\u00a0\u202f]\d+)*)/g`), not glued to a word. Scanned
 * by hand, one pass and no match object per number: a cell is scanned once per row, and numbers
 * (dates, times, ids) are most of what some cells hold.
 */
export function writtenNumbers(text: string): WrittenNumber[] {
  const numbers: WrittenNumber[] = [];
  let from = 0;
  for (let first = nextDigit(text, 0); first >= 0; first = nextDigit(text, from)) {
    // The groups from the first digit, then the symbol and sign before it, back no further than the previous number's end.
    let end = first;
    let grouped = false;
    let plain = 0;
    for (;;) {
      for (let code = text.charCodeAt(end); isDigit(code); code = text.charCodeAt(++end)) if (!grouped) plain = plain * 10 + (code - 0x30);
      if (!(end + 1 < text.length && isGroupSeparator(text.charCodeAt(end)) && isDigit(text.charCodeAt(end + 1)))) break;
      grouped = true;
      end++;
    }
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
    if (!grouped) values.push(factor * (end - first <= EXACT_DIGITS ? plain : Number(text.slice(first, end))));
    else {
      const digits = text.slice(first, end);
      if (POINT_DECIMAL.test(digits)) values.push(factor * Number(digits.replace(/[^\d.]/g, "")));
      if (COMMA_DECIMAL.test(digits)) values.push(factor * Number(digits.replace(/[^\d,]/g, "").replace(",", ".")));
    }
    if (values.length) numbers.push({ start, end, values });
  }
  return numbers;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** The offset of the first ASCII digit at or after `from`, or -1. */
function nextDigit(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (isDigit(text.charCodeAt(i))) return i;
  return -1;
}

function isCurrency(code: number): boolean {
  return code === 0x24 || (code >= 0xa2 && code <= 0xa5) || (code >= 0x20a0 && code <= 0x20c0);
}

/** `-` or `−`. */
function isSign(code: number): boolean {
  return code === 0x2d || code === 0x2212;
}

/** `.`, `,`, `'`, `’`, a no-break space or a narrow one. */
function isGroupSeparator(code: number): boolean {
  return code === 0x2e || code === 0x2c || code === 0x27 || code === 0x2019 || code === 0xa0 || code === 0x202f;
}
