/**
 * A label party's target column, read as the job's objective wants it: a binary label (0/1 or
 * -1/+1), a continuous target (any finite decimal), or a class number 0..K-1 (multiclass). A
 * column that does not fit is refused with what kind of target it holds and the objective that
 * would take it ("model split-lr takes a binary label; column "y" has 4 distinct values, all whole
 * numbers: objective "multiclass" fits ..."): counts and kinds only, never a cell's content.
 */
import { DataValidationError } from './data-validation-error';
import { LabelEncoding, parseLabel } from './table-cells';

/** What a model is trained to predict: a 0/1 label, a number, or one of K classes. */
export type Objective = 'binary' | 'regression' | 'multiclass';

export const OBJECTIVES: readonly Objective[] = ['binary', 'regression', 'multiclass'];

/** Most classes a multiclass target may have (each class is one model head and one column of probabilities). */
export const MAX_CLASSES = 16;

/** The column read: binary labels (0/1), or targets (values, or class numbers 0..K-1) with the class count. */
export interface LabelColumn {
  readonly labels?: Uint8Array;
  readonly targets?: Float64Array;
  readonly classCount?: number;
}

export interface LabelColumnOptions {
  readonly objective: Objective;
  readonly file: string;
  readonly column: string;
  /** Who reads the label, for the message (e.g. `model split-lr`); default `this job`. */
  readonly reader?: string;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** What kind of target the column holds, in counts and kinds (never values). */
interface ColumnKind {
  readonly distinct: number;
  readonly numeric: boolean;
  readonly whole: boolean;
  /** Whole numbers 0..K-1, each present. */
  readonly classNumbers: boolean;
  /** First line whose cell is not a number (0: none). */
  readonly firstNonNumericLine: number;
}

function kindOf(cells: readonly string[], lines: readonly number[]): ColumnKind {
  const distinct = new Set<string>();
  const numbers = new Set<number>();
  let numeric = true;
  let whole = true;
  let firstNonNumericLine = 0;
  cells.forEach((cell, i) => {
    distinct.add(cell);
    const value = DECIMAL.test(cell) ? Number(cell) : NaN;
    if (!Number.isFinite(value)) {
      numeric = false;
      if (firstNonNumericLine === 0) firstNonNumericLine = lines[i];
      return;
    }
    numbers.add(value);
    if (!Number.isInteger(value)) whole = false;
  });
  const k = numbers.size;
  const classNumbers = numeric && whole && [...numbers].every((v) => v >= 0 && v < k);
  return { distinct: numeric ? k : distinct.size, numeric, whole: numeric && whole, classNumbers, firstNonNumericLine };
}

/** "4 distinct values, all whole numbers" and the objective that fits such a column. */
function describe(kind: ColumnKind): { what: string; fits: string } {
  if (!kind.numeric)
    return {
      what: `${kind.distinct} distinct values, not all numbers`,
      fits: 'code the classes as numbers 0..K-1 for objective "multiclass", or give a numeric target for "regression"',
    };
  if (kind.distinct === 2)
    return { what: '2 distinct values', fits: 'objective "binary" takes 0/1 or -1/+1: recode the two values' };
  if (kind.classNumbers && kind.distinct <= MAX_CLASSES)
    return {
      what: `${kind.distinct} distinct values, the whole numbers 0 to ${kind.distinct - 1}`,
      fits: 'objective "multiclass" fits class numbers',
    };
  return {
    what: `${kind.distinct} distinct values, ${kind.whole ? 'all whole numbers' : 'not all whole numbers'}`,
    fits: 'objective "regression" fits a continuous target',
  };
}

/**
 * A binary label read cell by cell, in file order (so the first problem of a file is reported
 * first): 0/1 or -1/+1 to 0/1, a file mixing 0 and -1 refused at the line where it starts. A cell
 * of another kind is refused naming the kind of the whole column, which `column` gives on demand.
 */
export function binaryLabelReader(
  options: Omit<LabelColumnOptions, 'objective'>,
  column: () => { cells: readonly string[]; lines: readonly number[] },
): (cell: string, line: number) => number {
  const encoding: LabelEncoding = { zeroLine: 0, minusOneLine: 0 };
  return (cell, line) => {
    const value = DECIMAL.test(cell) ? Number(cell) : NaN;
    if (value !== 0 && value !== 1 && value !== -1) {
      const { cells, lines } = column();
      readLabelColumn(cells, lines, { ...options, objective: 'binary' }); // throws, naming the kind
    }
    return parseLabel(cell, line, options.file, options.column, encoding);
  };
}

/**
 * Reads a label column (trimmed cells, with the file line of each) as `objective` wants it.
 * @throws {DataValidationError} BAD_LABEL naming the kind of column and the objective that fits it.
 */
export function readLabelColumn(
  cells: readonly string[],
  lines: readonly number[],
  options: LabelColumnOptions,
): LabelColumn {
  const { objective, file, column } = options;
  const reader = options.reader ?? 'this job';
  const refuse = (takes: string, line?: number): never => {
    const { what, fits } = describe(kindOf(cells, lines));
    throw new DataValidationError('BAD_LABEL', `${reader} takes ${takes}; the column has ${what}: ${fits}`, {
      file,
      column,
      ...(line ? { line } : {}),
    });
  };
  if (objective === 'binary') {
    const labels = new Uint8Array(cells.length);
    const encoding: LabelEncoding = { zeroLine: 0, minusOneLine: 0 };
    for (let i = 0; i < cells.length; i++) {
      const value = DECIMAL.test(cells[i]) ? Number(cells[i]) : NaN;
      if (value !== 0 && value !== 1 && value !== -1) refuse('a binary label (0/1 or -1/+1)', lines[i]);
      labels[i] = parseLabel(cells[i], lines[i], file, column, encoding);
    }
    return { labels };
  }
  const kind = kindOf(cells, lines);
  if (!kind.numeric)
    refuse(`a numeric ${objective === 'regression' ? 'target' : 'class number'}`, kind.firstNonNumericLine);
  const targets = Float64Array.from(cells, Number);
  if (objective === 'regression') return { targets };
  if (!kind.classNumbers || kind.distinct < 3 || kind.distinct > MAX_CLASSES)
    refuse(`a class number 0..K-1 with every class present (3 ≤ K ≤ ${MAX_CLASSES})`);
  return { targets, classCount: kind.distinct };
}
