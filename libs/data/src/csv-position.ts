/**
 * Where in a CSV file a problem sits, found only once a problem is known (never on the happy
 * path): the first byte that is not UTF-8, and the quote that opened a field which never closes.
 * Both give a 1-based physical line and the 0-based cell index on that line, so the caller can
 * name the column from the header; neither ever returns content.
 */

/** A 1-based line and the 0-based index of the cell on it. */
export interface CsvPosition {
  line: number;
  cell: number;
}

/**
 * Byte offset of the first invalid UTF-8 sequence (RFC 3629 §4: no overlongs, no surrogates,
 * nothing past U+10FFFF), or -1 when every byte is valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b === 0xe0) [need, min] = [2, 0xa0];
    else if (b === 0xed) [need, min, max] = [2, 0x80, 0x9f];
    else if (b >= 0xe1 && b <= 0xef) [need, min] = [2, 0x80];
    else if (b === 0xf0) [need, min] = [3, 0x90];
    else if (b === 0xf4) [need, min, max] = [3, 0x80, 0x8f];
    else if (b >= 0xf1 && b <= 0xf3) [need, min] = [3, 0x80];
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      const [lo, hi] = k === 1 ? [min, max] : [0x80, 0xbf];
      if (c === undefined || c < lo || c > hi) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Line and cell of byte `offset` (cells split at commas outside quotes). */
export function positionOfByte(bytes: Uint8Array, offset: number): CsvPosition {
  let line = 1;
  let cell = 0;
  let quoted = false;
  for (let i = 0; i < offset; i++) {
    const b = bytes[i];
    if (b === 0x22) quoted = !quoted;
    else if (b === 0x0a) {
      if (!quoted) cell = 0;
      line++;
    } else if (b === 0x2c && !quoted) cell++;
  }
  return { line, cell };
}

/**
 * Where the quoted field that never closes was opened, as csv-parse reads quotes (a quote opens
 * a field only at its start, after optional blanks; `""` inside a quoted field is a quote), or
 * undefined when every quoted field closes.
 */
export function unclosedQuote(text: string): CsvPosition | undefined {
  let line = 1;
  let cell = 0;
  let atFieldStart = true;
  let open: CsvPosition | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (open) {
      if (ch === 0x0a) line++;
      else if (ch === 0x22) {
        if (text.charCodeAt(i + 1) === 0x22) i++;
        else open = undefined;
      }
      continue;
    }
    if (ch === 0x0a) {
      line++;
      cell = 0;
      atFieldStart = true;
    } else if (ch === 0x2c) {
      cell++;
      atFieldStart = true;
    } else if (ch === 0x22 && atFieldStart) {
      open = { line, cell };
      atFieldStart = false;
    } else if (ch !== 0x20 && ch !== 0x09 && ch !== 0x0d) {
      atFieldStart = false;
    }
  }
  return open;
}

/**
 * The column a position falls in: the header's name for that cell, from the first non-blank
 * line; undefined for a position on the header line itself or past the header's width.
 */
export function columnAt(text: string, at: CsvPosition): string | undefined {
  const lines = text.split('\n', 64);
  const index = lines.findIndex((l) => l.trim() !== '');
  if (index < 0 || at.line <= index + 1) return undefined;
  const name = lines[index].split(',')[at.cell];
  return name === undefined ? undefined : name.trim().replace(/^"(.*)"$/, '$1');
}
