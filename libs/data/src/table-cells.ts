/**
 * One cell of a party's table: a feature (a finite decimal number) or a 0/1 label. Every error
 * describes the cell (empty, its length, a non-finite word) and never repeats it: messages cross
 * to the coordinator, its API and the audit trail, and a mis-declared column could hold IDs.
 */
import { DataValidationError } from './data-validation-error';

const NON_FINITE_WORDS = /^[+-]?(nan|inf|infinity)$/i;

/**
 * A decimal number as a CSV export writes it: sign, digits, point, exponent. `Number()` also
 * reads `0x1F`, `0b11` and `0o17` (and would turn a hexadecimal ID column read as a feature into
 * numbers without a word): those are refused.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Says what kind of value a bad cell holds without repeating it: error messages cross to the
 * coordinator, its API and the audit trail, and a mis-declared column could hold IDs.
 */
function describeCell(cell: string): string {
  if (cell === '') return 'an empty cell';
  if (NON_FINITE_WORDS.test(cell)) return `"${cell}"`;
  return `a value of ${cell.length} character${cell.length === 1 ? '' : 's'}`;
}

/** Lines where a 0 and a -1 label were first seen, to reject mixed encodings. 0 = not seen. */
export interface LabelEncoding {
  zeroLine: number;
  minusOneLine: number;
}

/** Map 0/1 and -1/+1 to 0/1. Anything else, or a file mixing 0 and -1, is BAD_LABEL. */
export function parseLabel(cell: string, line: number, file: string, column: string, encoding: LabelEncoding): number {
  const value = DECIMAL.test(cell) ? Number(cell) : NaN;
  if (value === 1) return 1;
  if (value === 0) {
    if (encoding.zeroLine === 0) encoding.zeroLine = line;
  } else if (value === -1) {
    if (encoding.minusOneLine === 0) encoding.minusOneLine = line;
  } else {
    throw new DataValidationError('BAD_LABEL', `not a label: expected 0/1 or -1/+1, found ${describeCell(cell)}`, {
      file,
      line,
      column,
    });
  }
  if (encoding.zeroLine !== 0 && encoding.minusOneLine !== 0) {
    throw new DataValidationError(
      'BAD_LABEL',
      `labels mix 0 and -1 (first 0 on line ${encoding.zeroLine}, first -1 on line ${encoding.minusOneLine})`,
      { file, line, column },
    );
  }
  return 0;
}

/**
 * A finite decimal number, or NON_NUMERIC / NOT_FINITE describing (never quoting) the offending
 * cell; an empty cell is NaN (missing) when `missing` is allowed, an error otherwise.
 */
export function parseFeature(cell: string, line: number, file: string, column: string, missing = false): number {
  const value = Number(cell);
  const decimal = DECIMAL.test(cell);
  if (decimal && Number.isFinite(value)) return value;
  const where = { file, line, column };
  if (cell === '' && missing) return NaN;
  if (cell === '') throw new DataValidationError('NON_NUMERIC', `empty cell, expected a number${FILL_HINT}`, where);
  if (NON_FINITE_WORDS.test(cell))
    throw new DataValidationError('NOT_FINITE', `not a finite number (${describeCell(cell)})`, where);
  if (decimal) throw new DataValidationError('NOT_FINITE', 'not a finite number (overflows a double)', where);
  if (Number.isFinite(value))
    throw new DataValidationError(
      'NON_NUMERIC',
      `not a decimal number (${describeCell(cell)}; hexadecimal, binary and octal notation are refused)`,
      where,
    );
  throw new DataValidationError('NON_NUMERIC', `not a number (${describeCell(cell)})${CATEGORY_HINT}`, where);
}

/** What fixes an empty cell: a missing-value strategy for the column (docs/data.md). */
export const FILL_HINT =
  ' (fill empty cells: data.missing "mean", "median", "zero", … in the job, or --missing mean in the demo)';

/** What fixes a text column: encoding it as a category, or leaving it out (docs/data.md). */
export const CATEGORY_HINT =
  ' (a text column: declare it categorical with data.columns.<name>.encoding "one-hot" or set data.detectCategorical, or leave it out with data.excludeColumns; in the demo --categorical detect or --exclude-columns)';

/** A cell a feature column reads as a number (a finite decimal). */
export function isNumberCell(cell: string): boolean {
  return DECIMAL.test(cell) && Number.isFinite(Number(cell));
}
