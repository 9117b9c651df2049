/**
 * Loads one party's CSV (id column, optional 0/1 label, numeric features) into
 * a compact, validated in-memory table, and selects / reorders its rows after
 * PSI alignment. Pure data handling: no networking, no framework.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { readCsvRecords } from './csv-records';
import { DataValidationError } from './data-validation-error';
import { binaryLabelReader, LabelColumn, Objective, readLabelColumn } from './label-column';
import { isNumberCell, parseFeature } from './table-cells';

/** One party's validated table. Row i of `features` / `labels` belongs to `ids[i]`. */
export interface PartyTable {
  /** Row order as in the file (or as requested by {@link selectRows}). */
  readonly ids: string[];
  /** In file order (or `featureColumns` order), excluding id and label columns. */
  readonly featureNames: string[];
  /** Row-major, `ids.length * featureNames.length`. */
  readonly features: Float64Array;
  /** 0/1, present only when a binary label column was requested. */
  readonly labels?: Uint8Array;
  /** The label column read for objective `regression` (values) or `multiclass` (class numbers 0..K-1). */
  readonly targets?: Float64Array;
  /** Multiclass: the number of classes K. */
  readonly classCount?: number;
  /** Hex SHA-256 of the raw file bytes (for the audit trail). */
  readonly contentSha256: string;
  /** File basename. */
  readonly source: string;
  /** Text columns read as categories (see `categoricalColumns`), kept apart from the numeric features. */
  readonly categorical?: CategoricalColumns;
}

/** Columns of text read as codes into each column's list of distinct values (its vocabulary, in file order). */
export interface CategoricalColumns {
  readonly names: string[];
  /** Per column, the distinct non-empty values in order of first appearance. Never leaves the party. */
  readonly vocabularies: string[][];
  /** Row-major, `rows * names.length`: an index into the column's vocabulary, -1 for an empty cell. */
  readonly codes: Int32Array;
}

/** Receives every row-level problem instead of the first one being thrown (a data check). */
export type ProblemSink = (problem: DataValidationError) => void;

/** How to interpret the CSV columns. */
export interface LoadTableOptions {
  /** Name of the ID column. Default `'id'`. */
  idColumn?: string;
  /** When set, the column must exist and hold 0/1 (or -1/+1, mapped to 0/1), or what `objective` says. */
  labelColumn?: string;
  /** How the label column is read (default `binary`); see label-column.ts. */
  objective?: Objective;
  /** Who reads the label, named in a label error (e.g. `model split-lr`). */
  labelReader?: string;
  /** When set, exactly these columns are the features, in this order; other columns are ignored. */
  featureColumns?: string[];
  /** Longest accepted ID in characters. Default 128. */
  maxIdLength?: number;
  /** Optional guard on the number of data rows. */
  maxRows?: number;
  /**
   * Most feature columns the caller can use (a training job: half its batch size, less the
   * label party's intercept): a wider file is refused as soon as its header is read.
   */
  maxFeatureColumns?: number;
  /** Why `maxFeatureColumns` is the limit, for the error message. */
  maxFeatureColumnsReason?: string;
  /** Empty feature cells are missing values (NaN) for models that bin them (SecureBoost); an error by default. */
  allowMissing?: boolean;
  /** Empty cells of the columns it accepts are missing values (NaN), to be filled by the job's preprocessing. */
  allowMissingIn?: (column: string) => boolean;
  /** Every column except these (and the id and label) is a feature. Not with `featureColumns`. */
  excludeColumns?: readonly string[];
  /** These feature columns are text: read as category codes into `categorical`, never as numbers. */
  categoricalColumns?: readonly string[];
  /** Feature columns holding any non-empty cell that is not a number are read as categories too. */
  detectCategorical?: boolean;
  /**
   * When given, a problem of a row (a bad cell, a duplicate or empty id, a ragged row, a bad label)
   * goes here and reading continues, so one pass finds them all; the returned table is then not
   * fit for training. Problems of the header still throw.
   */
  problems?: ProblemSink;
}

const DEFAULT_ID_COLUMN = 'id';
const DEFAULT_MAX_ID_LENGTH = 128;

/** Column positions resolved from the header. */
interface ColumnPlan {
  idIndex: number;
  labelIndex: number; // -1 when no label column was requested
  featureIndices: number[];
  featureNames: string[];
}

/**
 * Parse and validate a party's CSV text.
 *
 * @param csvText raw file content (its bytes are hashed into `contentSha256`)
 * @param source file name used in error messages and `PartyTable.source` (basename is kept)
 * @param options column selection and limits
 * @throws {DataValidationError} EMPTY, MISSING_COLUMN, DUPLICATE_COLUMN, UNEXPECTED_COLUMNS,
 *   RAGGED_ROW, MISSING_ID, DUPLICATE_ID, ID_TOO_LONG, NON_NUMERIC, NOT_FINITE, BAD_LABEL (also a
 *   label column of one class), MALFORMED_CSV (also used when `maxRows` is exceeded), NOT_UTF8,
 *   TOO_MANY_COLUMNS (past `maxFeatureColumns`)
 * @throws {RangeError} when `maxIdLength`, `maxRows` or `maxFeatureColumns` is not a positive integer
 */
export function parsePartyTable(csvText: string | Buffer, source: string, options: LoadTableOptions = {}): PartyTable {
  const file = basename(source);
  // Strings are hashed as their UTF-8 bytes, i.e. what the file would contain.
  const contentSha256 = createHash('sha256').update(csvText).digest('hex');
  const idColumn = options.idColumn ?? DEFAULT_ID_COLUMN;
  const maxIdLength = positiveInteger(options.maxIdLength ?? DEFAULT_MAX_ID_LENGTH, 'maxIdLength');
  const maxRows = options.maxRows === undefined ? undefined : positiveInteger(options.maxRows, 'maxRows');
  const maxColumns =
    options.maxFeatureColumns === undefined
      ? Infinity
      : positiveInteger(options.maxFeatureColumns, 'maxFeatureColumns');

  // header + maxRows + 1 records are enough to detect an oversize file
  const records = readCsvRecords(csvText, file, maxRows === undefined ? Infinity : maxRows + 2);
  if (records.length === 0) {
    throw new DataValidationError('EMPTY', 'file is empty (no header row)', { file });
  }
  const headerLine = records[0].info.lines;
  const header = records[0].record.map((name) => name.trim());
  const plan = planColumns(header, headerLine, file, idColumn, options);
  if (plan.featureNames.length > maxColumns) {
    throw new DataValidationError(
      'TOO_MANY_COLUMNS',
      `${plan.featureNames.length} feature columns, more than the limit of ${maxColumns}` +
        (options.maxFeatureColumnsReason ? ` (${options.maxFeatureColumnsReason})` : ''),
      { file, line: headerLine },
    );
  }

  const rowCount = records.length - 1;
  if (rowCount === 0) {
    throw new DataValidationError('EMPTY', 'header but no data rows', { file, line: headerLine });
  }
  if (maxRows !== undefined && rowCount > maxRows) {
    throw new DataValidationError('MALFORMED_CSV', `more than maxRows=${maxRows} data rows`, {
      file,
      line: records[maxRows + 1].info.lines,
    });
  }

  const categorical = categoricalPlan(plan, records, options);
  const numeric = plan.featureNames
    .map((name, j) => ({ name, index: plan.featureIndices[j] }))
    .filter((c) => !categorical.names.includes(c.name));
  const width = numeric.length;
  const ids: string[] = new Array<string>(rowCount);
  const features = new Float64Array(rowCount * width);
  const labelCells = plan.labelIndex >= 0 ? new Array<string>(rowCount) : undefined;
  const labelLines = new Array<number>(labelCells ? rowCount : 0);
  const labelColumn = options.labelColumn ?? '';
  const objective = options.objective ?? 'binary';
  // A binary label is checked in file order; other objectives read the whole column after the rows.
  const labels = labelCells && objective === 'binary' ? new Uint8Array(rowCount) : undefined;
  const binaryLabel = binaryLabelReader({ file, column: labelColumn, reader: options.labelReader }, () => ({
    cells: records.slice(1).map(({ record }) => (record[plan.labelIndex] ?? '').trim()),
    lines: records.slice(1).map(({ info }) => info.lines),
  }));
  const firstLineOfId = new Map<string, number>();
  const missingAllowed = numeric.map((c) => options.allowMissing === true || !!options.allowMissingIn?.(c.name));
  const codes = new Int32Array(rowCount * categorical.names.length);
  const codeOf = categorical.names.map(() => new Map<string, number>());
  const vocabularies = categorical.names.map((): string[] => []);
  const report = options.problems;
  const indices = numeric.map((c) => c.index);
  const names = numeric.map((c) => c.name);

  for (let r = 0; r < rowCount; r++) {
    const { record, info } = records[r + 1];
    const line = info.lines;
    if (record.length !== header.length) {
      const ragged = new DataValidationError('RAGGED_ROW', `expected ${header.length} cells, found ${record.length}`, {
        file,
        line,
      });
      if (!report) throw ragged;
      report(ragged);
      continue;
    }
    const id = record[plan.idIndex].trim();
    const offset = r * width;
    if (!report) {
      // The usual path: the first problem throws.
      checkId(id, line, file, idColumn, maxIdLength, firstLineOfId);
      if (labels) labels[r] = binaryLabel(record[plan.labelIndex].trim(), line);
      for (let j = 0; j < width; j++)
        features[offset + j] = parseFeature(record[indices[j]].trim(), line, file, names[j], missingAllowed[j]);
    } else {
      guarded(report, checkId, id, line, file, idColumn, maxIdLength, firstLineOfId);
      if (labels) labels[r] = guarded(report, binaryLabel, record[plan.labelIndex].trim(), line) ?? 0;
      for (let j = 0; j < width; j++)
        features[offset + j] =
          guarded(report, parseFeature, record[indices[j]].trim(), line, file, names[j], missingAllowed[j]) ?? 0;
    }
    ids[r] = id;
    if (labelCells && !labels) {
      labelCells[r] = record[plan.labelIndex].trim();
      labelLines[r] = line;
    }
    for (let k = 0; k < categorical.indices.length; k++) {
      const cell = record[categorical.indices[k]].trim();
      let code = -1;
      if (cell !== '') {
        code = codeOf[k].get(cell) ?? -1;
        if (code < 0) {
          code = vocabularies[k].push(cell) - 1;
          codeOf[k].set(cell, code);
        }
      }
      codes[r * categorical.names.length + k] = code;
    }
  }

  const readTargets = () =>
    readLabelColumn(labelCells!, labelLines, { objective, file, column: labelColumn, reader: options.labelReader });
  const label: LabelColumn = labels
    ? { labels }
    : labelCells
      ? ((report ? guarded(report, readTargets) : readTargets()) ?? {})
      : {};
  if (label.labels) guarded(report, checkBothClasses, label.labels, file, labelColumn);
  const table: PartyTable = {
    ids,
    featureNames: numeric.map((c) => c.name),
    features,
    contentSha256,
    source: file,
    ...(categorical.names.length ? { categorical: { names: categorical.names, vocabularies, codes } } : {}),
  };
  return { ...table, ...label };
}

/**
 * Read and parse a party's CSV file.
 *
 * @param path path to the CSV file
 * @param options see {@link LoadTableOptions}
 * @throws {DataValidationError} FILE_NOT_FOUND when the path does not exist or is not a file,
 *   plus everything {@link parsePartyTable} throws
 */
export async function loadPartyTable(path: string, options: LoadTableOptions = {}): Promise<PartyTable> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DataValidationError('FILE_NOT_FOUND', 'file not found', { file: path });
    }
    if (code === 'EISDIR') {
      throw new DataValidationError('FILE_NOT_FOUND', 'path is a directory, not a file', { file: path });
    }
    throw err;
  }
  return parsePartyTable(bytes, path, options);
}

/**
 * A new table holding the rows of `ids`, in that order (e.g. the PSI intersection).
 * `contentSha256` and `source` still describe the original file.
 *
 * @throws {DataValidationError} MISSING_ID when a requested id is not in the table,
 *   DUPLICATE_ID when the request repeats an id. Messages give positions, never id values.
 */
export function selectRows(table: PartyTable, ids: readonly string[]): PartyTable {
  const rowOf = new Map<string, number>();
  table.ids.forEach((id, row) => rowOf.set(id, row));
  const width = table.featureNames.length;
  const features = new Float64Array(ids.length * width);
  const labels = table.labels ? new Uint8Array(ids.length) : undefined;
  const targets = table.targets ? new Float64Array(ids.length) : undefined;
  const cat = table.categorical;
  const catWidth = cat?.names.length ?? 0;
  const codes = cat ? new Int32Array(ids.length * catWidth) : undefined;
  const requestedAt = new Map<string, number>();

  ids.forEach((id, k) => {
    const row = rowOf.get(id);
    if (row === undefined) {
      throw new DataValidationError('MISSING_ID', `selectRows: requested id at position ${k} is not in the table`, {
        file: table.source,
      });
    }
    const earlier = requestedAt.get(id);
    if (earlier !== undefined) {
      throw new DataValidationError(
        'DUPLICATE_ID',
        `selectRows: requested id at position ${k} repeats position ${earlier}`,
        { file: table.source },
      );
    }
    requestedAt.set(id, k);
    features.set(table.features.subarray(row * width, (row + 1) * width), k * width);
    if (labels && table.labels) labels[k] = table.labels[row];
    if (targets && table.targets) targets[k] = table.targets[row];
    if (cat && codes) codes.set(cat.codes.subarray(row * catWidth, (row + 1) * catWidth), k * catWidth);
  });

  const selected: PartyTable = {
    ids: [...ids],
    featureNames: [...table.featureNames],
    features,
    contentSha256: table.contentSha256,
    source: table.source,
    ...(cat && codes ? { categorical: { names: cat.names, vocabularies: cat.vocabularies, codes } } : {}),
  };
  return {
    ...selected,
    ...(labels ? { labels } : {}),
    ...(targets ? { targets, classCount: table.classCount } : {}),
  };
}

/**
 * The features of one row. Returns a view into `table.features` (no copy);
 * call `.slice()` on it before mutating.
 *
 * @throws {RangeError} when `row` is not an integer in `[0, ids.length)`
 */
export function featureMatrixRow(table: PartyTable, row: number): Float64Array {
  if (!Number.isInteger(row) || row < 0 || row >= table.ids.length) {
    throw new RangeError(`row ${row} out of range [0, ${table.ids.length})`);
  }
  const width = table.featureNames.length;
  return table.features.subarray(row * width, (row + 1) * width);
}

// ---------------------------------------------------------------------------

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Resolve id, label and feature column positions from the header, validating names. */
function planColumns(
  header: string[],
  line: number,
  file: string,
  idColumn: string,
  options: LoadTableOptions,
): ColumnPlan {
  const { labelColumn, featureColumns } = options;
  const positions = new Map<string, number[]>();
  header.forEach((name, i) => {
    const list = positions.get(name);
    if (list) list.push(i);
    else positions.set(name, [i]);
  });
  const indexOf = (name: string, role: string): number => {
    const list = positions.get(name);
    if (!list) {
      throw new DataValidationError('MISSING_COLUMN', `missing ${role} column ${JSON.stringify(name)}`, {
        file,
        line,
        column: name,
      });
    }
    if (list.length > 1) {
      const where = list.map((i) => i + 1).join(' and ');
      throw new DataValidationError(
        'DUPLICATE_COLUMN',
        `header names this column more than once (positions ${where})`,
        {
          file,
          line,
          column: name,
        },
      );
    }
    return list[0];
  };

  if (labelColumn !== undefined && labelColumn === idColumn) {
    throw new DataValidationError('UNEXPECTED_COLUMNS', 'label column and id column must differ', {
      file,
      column: idColumn,
    });
  }
  const idIndex = indexOf(idColumn, 'id');
  const labelIndex = labelColumn === undefined ? -1 : indexOf(labelColumn, 'label');

  let featureNames: string[];
  if (featureColumns !== undefined) {
    const reserved = featureColumns.find((name) => name === idColumn || name === labelColumn);
    if (reserved !== undefined) {
      throw new DataValidationError('UNEXPECTED_COLUMNS', 'featureColumns must not list the id or label column', {
        file,
        column: reserved,
      });
    }
    const repeated = featureColumns.find((name, i) => featureColumns.indexOf(name) !== i);
    if (repeated !== undefined) {
      throw new DataValidationError('DUPLICATE_COLUMN', 'featureColumns lists this column more than once', {
        file,
        column: repeated,
      });
    }
    const missing = featureColumns.filter((name) => !positions.has(name));
    if (missing.length > 0) {
      const names = missing.map((name) => JSON.stringify(name)).join(', ');
      throw new DataValidationError('MISSING_COLUMN', `missing feature column(s) ${names}`, {
        file,
        line,
        column: missing[0],
      });
    }
    featureNames = [...featureColumns];
  } else {
    const excluded = new Set(options.excludeColumns ?? []);
    const unknown = [...excluded].filter((name) => !positions.has(name));
    if (unknown.length > 0)
      throw new DataValidationError(
        'MISSING_COLUMN',
        `excludeColumns names column(s) the file does not have: ${unknown.map((n) => JSON.stringify(n)).join(', ')}`,
        { file, line, column: unknown[0] },
      );
    featureNames = header.filter((name, i) => i !== idIndex && i !== labelIndex && !excluded.has(name));
  }

  if (featureNames.length === 0) {
    throw new DataValidationError('MISSING_COLUMN', 'no feature columns', { file, line });
  }
  const unnamed = featureNames.indexOf('');
  if (unnamed >= 0) {
    throw new DataValidationError('MALFORMED_CSV', `header cell ${header.indexOf('') + 1} has no column name`, {
      file,
      line,
    });
  }
  const featureIndices = featureNames.map((name) => indexOf(name, 'feature'));
  return { idIndex, labelIndex, featureIndices, featureNames };
}

/**
 * `step(...args)`, or with a sink, its DataValidationError reported there (undefined returned) so
 * reading goes on. No closure: the row loop stays free of captured variables.
 */
function guarded<A extends unknown[], R>(
  report: ProblemSink | undefined,
  step: (...args: A) => R,
  ...args: A
): R | undefined {
  if (!report) return step(...args);
  try {
    return step(...args);
  } catch (e) {
    if (!(e instanceof DataValidationError)) throw e;
    report(e);
    return undefined;
  }
}

/** Which feature columns are read as text: those declared, and with `detectCategorical` those holding text. */
function categoricalPlan(
  plan: ColumnPlan,
  records: { record: string[] }[],
  options: LoadTableOptions,
): { names: string[]; indices: number[] } {
  const declared = new Set(options.categoricalColumns ?? []);
  const names: string[] = [];
  const indices: number[] = [];
  plan.featureNames.forEach((name, j) => {
    const index = plan.featureIndices[j];
    let text = declared.has(name);
    if (!text && options.detectCategorical) {
      for (let r = 1; r < records.length && !text; r++) {
        const cell = records[r].record[index]?.trim() ?? '';
        text = cell !== '' && !isNumberCell(cell);
      }
    }
    if (text) {
      names.push(name);
      indices.push(index);
    }
  });
  return { names, indices };
}

/** Validate one ID; messages carry line numbers only, never the ID. */
function checkId(
  id: string,
  line: number,
  file: string,
  column: string,
  maxIdLength: number,
  firstLineOfId: Map<string, number>,
): void {
  if (id === '') {
    throw new DataValidationError('MISSING_ID', 'id is empty', { file, line, column });
  }
  if (id.length > maxIdLength) {
    throw new DataValidationError('ID_TOO_LONG', `id has ${id.length} characters, limit is ${maxIdLength}`, {
      file,
      line,
      column,
    });
  }
  const first = firstLineOfId.get(id);
  if (first !== undefined) {
    throw new DataValidationError('DUPLICATE_ID', `duplicate id (first seen on line ${first})`, {
      file,
      line,
      column,
    });
  }
  firstLineOfId.set(id, line);
}

/** A label column whose rows are all one class cannot train anything: refused before any work starts. */
function checkBothClasses(labels: Uint8Array, file: string, column: string): void {
  let ones = 0;
  for (const y of labels) ones += y;
  if (ones === 0 || ones === labels.length) {
    throw new DataValidationError(
      'BAD_LABEL',
      `every one of the ${labels.length} rows has the same label: a model needs rows of both classes`,
      { file, column },
    );
  }
}
