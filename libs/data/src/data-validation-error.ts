/**
 * Typed error for everything that can be wrong with a party's input table.
 *
 * Messages name the file (basename only), the 1-based line and the column so an
 * operator can fix the file, but they never contain a cell's content: the message
 * crosses to the coordinator, its API and the audit trail, and IDs, features and
 * labels must not.
 */
import { basename } from 'node:path';

export type DataErrorCode =
  | 'FILE_NOT_FOUND'
  | 'EMPTY'
  | 'MISSING_COLUMN'
  | 'DUPLICATE_COLUMN'
  | 'RAGGED_ROW'
  | 'MISSING_ID'
  | 'DUPLICATE_ID'
  | 'ID_TOO_LONG'
  | 'NON_NUMERIC'
  | 'NOT_FINITE'
  | 'BAD_LABEL'
  | 'MALFORMED_CSV'
  | 'NOT_UTF8'
  | 'TOO_MANY_COLUMNS'
  | 'OUTSIDE_DATA_ROOT'
  | 'BAD_PATH'
  | 'UNEXPECTED_COLUMNS';

/** Where in the input a problem was found. All fields optional. */
export interface DataErrorLocation {
  /** File path or name; only its basename is kept. */
  file?: string;
  /** 1-based physical line number in the file. */
  line?: number;
  /** Column (header) name. */
  column?: string;
}

const MAX_COLUMN_CHARS = 64;

/**
 * Quote a cell value for an error message: truncated to 20 characters and
 * JSON-escaped so control characters cannot garble logs. Never use for IDs.
 */
function quoteColumn(column: string): string {
  const short = column.length > MAX_COLUMN_CHARS ? `${column.slice(0, MAX_COLUMN_CHARS)}…` : column;
  return JSON.stringify(short);
}

/**
 * A problem with a party's data file. `message` reads like
 * `bank.csv line 17, column "income": "abc" is not a number`.
 */
export class DataValidationError extends Error {
  readonly code: DataErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly column?: string;
  /** The problem without its place (the message is place and problem). */
  readonly problem: string;

  /**
   * @param code machine-readable error kind
   * @param problem human-readable description, must not contain ID values
   * @param where file / line / column the problem refers to
   */
  constructor(code: DataErrorCode, problem: string, where: DataErrorLocation = {}) {
    const file = where.file === undefined ? undefined : basename(where.file);
    let prefix = file ?? '';
    if (where.line !== undefined) prefix += `${prefix ? ' ' : ''}line ${where.line}`;
    if (where.column !== undefined) prefix += `${prefix ? ', ' : ''}column ${quoteColumn(where.column)}`;
    super(prefix ? `${prefix}: ${problem}` : problem);
    this.name = 'DataValidationError';
    this.code = code;
    this.problem = problem;
    if (file !== undefined) this.file = file;
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
  }
}
