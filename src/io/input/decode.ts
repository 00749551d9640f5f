import { isUtf8 } from "node:buffer";
import { Transform, type TransformCallback } from "node:stream";
import { TextDecoder } from "node:util";
import { ExtractError } from "../../errors/extract-error.js";

/** How one supported encoding is recognised, cut at chunk boundaries, and checked. */
interface Codec {
  /** WHATWG encoding label for `TextDecoder`. */
  label: "utf-8" | "utf-16le" | "utf-16be";
  /** Name used in messages. */
  display: string;
  bom: readonly number[];
  /** Length of the longest prefix that ends on a character boundary; the rest waits for the next chunk. */
  completeLength(bytes: Buffer): number;
  /** Offset of the first byte that is not part of a valid character (the input is known to be invalid). */
  invalidOffset(bytes: Buffer): number;
  /** Names what is wrong at that offset, for the message. */
  describeInvalid(bytes: Buffer, at: number): string;
}

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, "0")}`;
}

const utf8: Codec = {
  label: "utf-8",
  display: "UTF-8",
  bom: [0xef, 0xbb, 0xbf],
  completeLength(bytes) {
    // Walk back over at most 3 continuation bytes to the lead byte of the last character.
    const end = bytes.length;
    for (let i = end - 1; i >= 0 && i >= end - 4; i--) {
      const byte = bytes[i]!;
      if ((byte & 0xc0) === 0x80) continue;
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return i + needed > end ? i : end;
    }
    return end;
  },
  invalidOffset(bytes) {
    for (let i = 0; i < bytes.length; ) {
      const byte = bytes[i]!;
      // Lead bytes by sequence length; 0x80-0xC1 and 0xF5-0xFF never start a character.
      const length = byte < 0x80 ? 1 : byte < 0xc2 ? 0 : byte < 0xe0 ? 2 : byte < 0xf0 ? 3 : byte < 0xf5 ? 4 : 0;
      if (length === 0 || !isUtf8(bytes.subarray(i, i + length))) return i;
      i += length;
    }
    return bytes.length;
  },
  describeInvalid: (bytes, at) => `byte ${hex(bytes[at]!, 2)}`,
};

function utf16(littleEndian: boolean): Codec {
  const unitAt = (bytes: Buffer, i: number) => (littleEndian ? bytes.readUInt16LE(i) : bytes.readUInt16BE(i));
  const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
  const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;
  return {
    label: littleEndian ? "utf-16le" : "utf-16be",
    display: littleEndian ? "UTF-16 LE" : "UTF-16 BE",
    bom: littleEndian ? [0xff, 0xfe] : [0xfe, 0xff],
    completeLength(bytes) {
      const even = bytes.length - (bytes.length % 2);
      // A high surrogate at the end waits for its low half.
      return even >= 2 && isHigh(unitAt(bytes, even - 2)) ? even - 2 : even;
    },
    invalidOffset(bytes) {
      for (let i = 0; i + 1 < bytes.length; i += 2) {
        const unit = unitAt(bytes, i);
        if (isLow(unit)) return i;
        if (isHigh(unit)) {
          if (i + 3 >= bytes.length || !isLow(unitAt(bytes, i + 2))) return i;
          i += 2;
        }
      }
      return bytes.length - (bytes.length % 2);
    },
    describeInvalid: (bytes, at) =>
      at + 1 < bytes.length ? `unpaired surrogate ${hex(unitAt(bytes, at), 4)}` : `a lone last byte ${hex(bytes[at]!, 2)}`,
  };
}

const CODECS_BY_BOM: readonly Codec[] = [utf8, utf16(true), utf16(false)];
const RESAVE = "Re-save the file as UTF-8 (or UTF-16 with BOM).";
/** Enough bytes to see any BOM we know. */
const SNIFF_LENGTH = 3;
/** How far into the file a NUL byte is taken as a sign of UTF-16 without a BOM. */
const NUL_SNIFF_LENGTH = 4096;

function startsWith(bytes: Buffer, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

/**
 * The decoding stage of CSV input: a Transform from bytes to validated text. It also counts
 * `bytesRead` (bytes taken in so far), which drives progress reports.
 */
export class CsvDecoder extends Transform {
  /** Bytes taken in so far, BOM included. */
  bytesRead = 0;
  private codec: Codec | undefined;
  private textDecoder: TextDecoder | undefined;
  /** Bytes held back: an incomplete character at a chunk end, or the start of the file while sniffing. */
  private pending: Buffer = Buffer.alloc(0);
  /** File offset of `pending[0]`. */
  private offset = 0;
  /** Line breaks in the text sent on so far, for the line number in error messages. */
  private newlines = 0;

  constructor(private readonly name: string) {
    // One decoded chunk waiting downstream is enough; more would only weaken backpressure.
    super({ readableObjectMode: true, readableHighWaterMark: 1 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytesRead += chunk.length;
    const bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    callback(this.decode(bytes, false));
  }

  override _flush(callback: TransformCallback): void {
    callback(this.pending.length === 0 ? undefined : this.decode(this.pending, true));
  }

  /** Sends on the complete characters of `bytes` and keeps the rest; returns the error to fail with, if any. */
  private decode(bytes: Buffer, atEnd: boolean): ExtractError | undefined {
    if (this.codec === undefined) {
      if (bytes.length < SNIFF_LENGTH && !atEnd) {
        this.pending = bytes;
        return undefined;
      }
      const sniffed = this.sniff(bytes);
      if (sniffed instanceof ExtractError) return sniffed;
      bytes = bytes.subarray(sniffed);
      this.offset += sniffed;
    }
    const codec = this.codec!;
    const complete = atEnd ? bytes.length : codec.completeLength(bytes);
    const text = this.textOf(bytes.subarray(0, complete));
    if (text === undefined) return this.invalid(bytes.subarray(0, complete));
    // Copy what is kept so the whole chunk it came from is not retained.
    this.pending = Buffer.from(bytes.subarray(complete));
    this.send(text, complete);
    return undefined;
  }

  /** Picks the codec from the BOM; returns the BOM's length, or the error for text that is surely not UTF-8. */
  private sniff(head: Buffer): number | ExtractError {
    this.codec = CODECS_BY_BOM.find((codec) => startsWith(head, codec.bom)) ?? utf8;
    this.textDecoder = new TextDecoder(this.codec.label, { fatal: true, ignoreBOM: true });
    const bomLength = startsWith(head, this.codec.bom) ? this.codec.bom.length : 0;
    const nul = bomLength === 0 ? head.subarray(0, NUL_SNIFF_LENGTH).indexOf(0) : -1;
    if (nul === -1) return bomLength;
    const line = countNewlines(head.subarray(0, nul).toString("latin1")) + 1;
    return new ExtractError(
      "INVALID_ENCODING",
      `${this.name} line ${line} has a NUL byte (offset ${nul}): it looks like UTF-16 without a byte order mark, ` +
        `or not a text file. ${RESAVE}`,
      { file: this.name, line },
    );
  }

  private textOf(bytes: Buffer): string | undefined {
    try {
      return this.textDecoder!.decode(bytes);
    } catch {
      return undefined;
    }
  }

  private send(text: string, byteLength: number): void {
    this.offset += byteLength;
    this.newlines += countNewlines(text);
    if (text.length > 0) this.push(text);
  }

  /** Sends on the valid text before the bad byte (so rows before it still arrive), then describes the bad byte. */
  private invalid(bytes: Buffer): ExtractError {
    const codec = this.codec!;
    const at = codec.invalidOffset(bytes);
    this.send(this.textOf(bytes.subarray(0, at)) ?? "", at);
    const line = this.newlines + 1;
    return new ExtractError(
      "INVALID_ENCODING",
      `${this.name} line ${line} is not valid ${codec.display} ` +
        `(${codec.describeInvalid(bytes, at)} at offset ${this.offset}). ${RESAVE}`,
      { file: this.name, line },
    );
  }
}

/**
 * Creates the decoding stage of CSV input: a Transform (Buffer in, string out) that sniffs a
 * byte order mark. A UTF-8 BOM is dropped; UTF-16 LE/BE with a BOM are decoded; anything else
 * must be valid UTF-8. Invalid bytes fail the stream with an `INVALID_ENCODING` ExtractError
 * naming the file, the line (line breaks decoded so far + 1) and the byte offset, after the text
 * before them has been sent on. No replacement characters are ever sent onward. NUL bytes near
 * the start without a BOM (UTF-16 saved without one) are rejected the same way.
 *
 * @param name The file name used in error messages.
 * @example
 * pipeline(fs.createReadStream("data.csv"), createDecoder("data.csv"), parser, done);
 */
export function createDecoder(name: string): CsvDecoder {
  return new CsvDecoder(name);
}
