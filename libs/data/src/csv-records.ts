/**
 * Turns CSV bytes into raw records, each tagged with the 1-based line it ends
 * on. Quote-free files (the usual numeric export) take a fast split-based path;
 * anything with quotes or bare CR line ends goes through csv-parse. Both paths
 * skip blank lines, strip a BOM and leave cell trimming / validation to callers.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { columnAt, firstInvalidUtf8, positionOfByte, unclosedQuote } from './csv-position';
import { DataValidationError } from './data-validation-error';

/** One CSV record and the physical line it ends on. */
export interface CsvRecord {
  record: string[];
  info: { lines: number };
}

const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'unexpected character after a closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'unexpected character after a closing quote',
  CSV_MAX_RECORD_SIZE: 'record is too large',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the whole field, and double quotes inside it)',
};

/**
 * Split CSV bytes into records (header included), at most `maxRecords` of them.
 *
 * @param content raw UTF-8 file content, or already-decoded text
 * @param file file name for error messages
 * @param maxRecords stop after this many records (default: all)
 * @throws {DataValidationError} MALFORMED_CSV for unbalanced quotes and similar syntax
 *   errors (an unclosed quote on the line where it opened), NOT_UTF8 for bytes that are not
 *   UTF-8 (never replaced: an ID would silently change and drop out of the intersection); the
 *   message never echoes file content
 */
export function readCsvRecords(content: string | Buffer, file: string, maxRecords = Infinity): CsvRecord[] {
  let text = typeof content === 'string' ? content : decodeUtf8(content, file);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return isSimpleCsv(text) ? splitSimpleCsv(text, maxRecords) : parseWithCsvParse(text, file, maxRecords);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes to text, refusing (by line and column) any byte sequence that is not UTF-8. */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8(bytes));
    const at = positionOfByte(bytes, offset);
    const column = columnAt(bytes.toString('utf8'), at);
    const where = column === undefined ? ` (cell ${at.cell + 1})` : '';
    throw new DataValidationError('NOT_UTF8', `bytes that are not valid UTF-8${where}: save the file as UTF-8`, {
      file,
      line: at.line,
      column,
    });
  }
}

/** No quotes and every CR is part of a CRLF: plain splitting is exact. */
function isSimpleCsv(text: string): boolean {
  if (text.includes('"')) return false;
  for (let i = text.indexOf('\r'); i !== -1; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) !== 0x0a) return false;
  }
  return true;
}

function splitSimpleCsv(text: string, maxRecords: number): CsvRecord[] {
  const lines = text.split('\n');
  const records: CsvRecord[] = [];
  for (let i = 0; i < lines.length && records.length < maxRecords; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    // Blank or whitespace-only lines are skipped, as csv-parse does with skip_empty_lines + trim.
    if (line.length === 0 || (line.charCodeAt(0) <= 0x20 && line.trim() === '')) continue;
    records.push({ record: line.split(','), info: { lines: i + 1 } });
  }
  return records;
}

function parseWithCsvParse(text: string, file: string, maxRecords: number): CsvRecord[] {
  try {
    return parse(text, {
      info: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      ...(Number.isFinite(maxRecords) ? { to: maxRecords } : {}),
    }) as CsvRecord[];
  } catch (err) {
    const { code, lines } = err as { code?: unknown; lines?: unknown };
    if (code === 'CSV_QUOTE_NOT_CLOSED') {
      // csv-parse notices at the end of the file; the operator needs the line the quote opened on.
      const open = unclosedQuote(text);
      if (open) {
        const column = columnAt(text, open);
        const problem = `${CSV_PROBLEMS[code]}: the quote opens here${column === undefined ? ` (cell ${open.cell + 1})` : ''}`;
        throw new DataValidationError('MALFORMED_CSV', problem, { file, line: open.line, column });
      }
    }
    // Every csv-parse error is mapped: their messages quote the offending value ("value is …").
    if (err instanceof CsvError && typeof code === 'string') {
      const problem = CSV_PROBLEMS[code] ?? `not valid CSV (${code})`;
      const line = typeof lines === 'number' && lines > 0 ? lines : undefined;
      throw new DataValidationError('MALFORMED_CSV', problem, { file, line });
    }
    throw err;
  }
}
