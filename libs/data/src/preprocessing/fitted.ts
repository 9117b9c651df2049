/**
 * Fitting a party's declared preprocessing on its training rows, and applying what was fitted to
 * any rows (validation, prediction). The fitted form is plain JSON kept in the party's saved model:
 * fill values and category levels are the party's own and never leave it. The model's input
 * columns have generic names (`city[1]`, `city[other]`, `income[missing]`) so that nothing the
 * coordinator sees names a category value.
 *
 * Output column order: the numeric columns in file order (each followed by its missing-indicator
 * column when asked for), then the categorical columns' encodings.
 */
import { DataValidationError } from '../data-validation-error';
import type { LoadTableOptions, PartyTable } from '../party-table';
import { DEFAULT_MAX_LEVELS, numericRule, PreprocessingSpec, CategoryEncoding } from './spec';

export interface FittedNumeric {
  readonly name: string;
  /** The value an empty cell gets; null leaves it missing (NaN) for a model that bins missing values. */
  readonly fill: number | null;
  readonly indicator: boolean;
}

export interface FittedCategorical {
  readonly name: string;
  readonly encoding: CategoryEncoding;
  /**
   * One-hot: the level of each column before "other" ('' for a slot no training row filled).
   * Ordinal: the levels in code order (code = position).
   */
  readonly levels: string[];
  /** Ordinal: the code of an empty or unseen cell (the most frequent training level). */
  readonly fallback?: number;
}

export interface FittedPreprocessing {
  /** The file columns the model reads (numeric first, then categorical). */
  readonly inputColumns: string[];
  readonly numeric: FittedNumeric[];
  readonly categorical: FittedCategorical[];
  /** The model's input columns, in matrix order. */
  readonly outputColumns: string[];
}

/** How a column's values were planned before fitting: names and widths are known at job.prepare. */
export function plannedColumns(
  table: Pick<PartyTable, 'featureNames' | 'categorical'>,
  spec: PreprocessingSpec,
): string[] {
  const names: string[] = [];
  for (const name of table.featureNames) {
    names.push(name);
    if (numericRule(spec, name).missingIndicator) names.push(`${name}[missing]`);
  }
  const cat = table.categorical;
  cat?.names.forEach((name, k) => {
    const rule = spec.columns?.[name] ?? {};
    if ((rule.encoding ?? 'one-hot') === 'ordinal') names.push(name);
    else {
      const slots = Math.min((rule.maxLevels ?? DEFAULT_MAX_LEVELS) - 1, cat.vocabularies[k].length);
      for (let s = 1; s <= slots; s++) names.push(`${name}[${s}]`);
      names.push(`${name}[other]`);
    }
  });
  return names;
}

/**
 * Fit the spec on `trainRows` of `table`.
 *
 * A column without a strategy gets no fill (null): its empty cells were refused by the loader,
 * unless the model takes missing values as they are (SecureBoost), when they stay NaN.
 */
export function fitPreprocessing(
  table: PartyTable,
  spec: PreprocessingSpec,
  trainRows: ArrayLike<number>,
): FittedPreprocessing {
  const width = table.featureNames.length;
  const numeric = table.featureNames.map((name, j): FittedNumeric => {
    const rule = numericRule(spec, name);
    const values: number[] = [];
    for (let k = 0; k < trainRows.length; k++) {
      const v = table.features[trainRows[k] * width + j];
      if (!Number.isNaN(v)) values.push(v);
    }
    let fill: number | null;
    switch (rule.missing) {
      case 'error':
        fill = null; // the loader refused empty cells, unless the model keeps them (keepMissing)
        break;
      case 'zero':
        fill = 0;
        break;
      case 'constant':
        fill = rule.fillValue ?? 0;
        break;
      case 'mean':
        fill = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
        break;
      case 'median':
        fill = median(values);
        break;
      case 'most-frequent':
        fill = mostFrequent(values);
        break;
    }
    return { name, fill, indicator: rule.missingIndicator };
  });

  const cat = table.categorical;
  const categorical = (cat?.names ?? []).map((name, k): FittedCategorical => {
    const rule = spec.columns?.[name] ?? {};
    const counts = new Map<number, number>();
    const stride = cat!.names.length;
    for (let i = 0; i < trainRows.length; i++) {
      const code = cat!.codes[trainRows[i] * stride + k];
      if (code >= 0) counts.set(code, (counts.get(code) ?? 0) + 1);
    }
    const vocab = cat!.vocabularies[k];
    // Most frequent first; ties in the order of the strings, so every party run fits the same.
    const ranked = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || compare(vocab[a[0]], vocab[b[0]]))
      .map(([code]) => vocab[code]);
    if ((rule.encoding ?? 'one-hot') === 'ordinal') {
      const levels = rule.levels ? [...rule.levels] : [...ranked].sort(compare);
      return { name, encoding: 'ordinal', levels, fallback: Math.max(0, levels.indexOf(ranked[0] ?? '')) };
    }
    const slots = Math.min((rule.maxLevels ?? DEFAULT_MAX_LEVELS) - 1, vocab.length);
    const levels = Array.from({ length: slots }, (_, s) => ranked[s] ?? '');
    return { name, encoding: 'one-hot', levels };
  });

  return {
    inputColumns: [...table.featureNames, ...(cat?.names ?? [])],
    numeric,
    categorical,
    outputColumns: plannedColumns(table, spec),
  };
}

/**
 * The model's input matrix (row-major, `outputColumns.length` wide) for every row of `table`.
 *
 * @throws {DataValidationError} MISSING_COLUMN when the table lacks a column the fit read
 */
export function applyPreprocessing(table: PartyTable, fitted: FittedPreprocessing): Float64Array {
  const rows = table.ids.length;
  const out = fitted.outputColumns.length;
  const matrix = new Float64Array(rows * out);
  const width = table.featureNames.length;
  const numericAt = fitted.numeric.map((c) => columnIndex(table.featureNames, c.name, table.source));
  const cat = table.categorical;
  const catNames = cat?.names ?? [];
  const stride = catNames.length;
  const categoricalAt = fitted.categorical.map((c) => columnIndex(catNames, c.name, table.source));
  // Per categorical column, the output offset of each file vocabulary entry (-1: other / fallback).
  const slotOf = fitted.categorical.map((c, k) => {
    const vocab = cat!.vocabularies[categoricalAt[k]];
    const position = new Map(c.levels.map((level, s) => [level, s]));
    return Int32Array.from(vocab, (v) => (v === '' ? -1 : (position.get(v) ?? -1)));
  });
  for (let r = 0; r < rows; r++) {
    let o = r * out;
    fitted.numeric.forEach((c, j) => {
      const v = table.features[r * width + numericAt[j]];
      const missing = Number.isNaN(v);
      matrix[o++] = missing ? (c.fill ?? NaN) : v;
      if (c.indicator) matrix[o++] = missing ? 1 : 0;
    });
    fitted.categorical.forEach((c, k) => {
      const code = cat!.codes[r * stride + categoricalAt[k]];
      const slot = code < 0 ? -1 : slotOf[k][code];
      if (c.encoding === 'ordinal') {
        matrix[o++] = slot < 0 ? (c.fallback ?? 0) : slot;
      } else {
        matrix[o + (slot < 0 ? c.levels.length : slot)] = 1;
        o += c.levels.length + 1;
      }
    });
  }
  return matrix;
}

function columnIndex(names: readonly string[], name: string, file: string): number {
  const i = names.indexOf(name);
  if (i < 0)
    throw new DataValidationError('MISSING_COLUMN', `the model reads column ${JSON.stringify(name)}`, {
      file,
      column: name,
    });
  return i;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The most frequent value; the smallest among ties. */
function mostFrequent(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v < best)) [best, bestCount] = [v, c];
  return best;
}

/**
 * How to read a file for `spec`: its column lists, which empty cells load as missing, which
 * columns are text. `keepMissing`: the model takes missing values as they are (SecureBoost).
 */
export function loadOptionsOf(spec: PreprocessingSpec, keepMissing: boolean): LoadTableOptions {
  const categoricalColumns = Object.entries(spec.columns ?? {})
    .filter(([, rule]) => rule.encoding !== undefined)
    .map(([name]) => name);
  return {
    ...(spec.featureColumns ? { featureColumns: [...spec.featureColumns] } : {}),
    ...(spec.excludeColumns ? { excludeColumns: [...spec.excludeColumns] } : {}),
    ...(categoricalColumns.length ? { categoricalColumns } : {}),
    ...(spec.detectCategorical ? { detectCategorical: true } : {}),
    ...(keepMissing
      ? { allowMissing: true }
      : { allowMissingIn: (name: string) => numericRule(spec, name).missing !== 'error' }),
  };
}

/** How prediction reads a file for a fitted model: the columns it read, as it read them. */
export function predictionLoadOptions(fitted: FittedPreprocessing, keepMissing: boolean): LoadTableOptions {
  const fills = new Map(fitted.numeric.map((c) => [c.name, c.fill]));
  return {
    featureColumns: [...fitted.inputColumns],
    ...(fitted.categorical.length ? { categoricalColumns: fitted.categorical.map((c) => c.name) } : {}),
    ...(keepMissing ? { allowMissing: true } : { allowMissingIn: (name: string) => fills.get(name) != null }),
  };
}
