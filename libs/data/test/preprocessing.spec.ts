/**
 * A party's declared preprocessing: which columns are read, how empty cells are filled, how text
 * columns become numbers — fitted on training rows only and applied the same to any rows.
 */
import {
  applyPreprocessing,
  DataValidationError,
  fitPreprocessing,
  loadOptionsOf,
  parsePartyTable,
  plannedColumns,
  predictionLoadOptions,
  preprocessingProblems,
  PreprocessingSpec,
  type FittedPreprocessing,
} from '../src';

const CSV = [
  'id,y,age,income,city,score',
  'a,1,30,100,Leeds,1',
  'b,0,,200,York,2',
  'c,1,50,,Leeds,3',
  'd,0,60,400,,4',
  'e,1,,500,Hull,5',
  // validation rows (4, 5): their values must not move any fitted figure
  'f,0,1000,9000,Paris,6',
  'g,1,,9000,Leeds,7',
].join('\n');
const TRAIN = [0, 1, 2, 3, 4];

function read(spec: PreprocessingSpec, csv = CSV) {
  return parsePartyTable(csv, 'bank.csv', { labelColumn: 'y', ...loadOptionsOf(spec, false) });
}

function column(matrix: Float64Array, width: number, j: number): number[] {
  return Array.from({ length: matrix.length / width }, (_, r) => matrix[r * width + j]);
}

describe('declared preprocessing', () => {
  it('refuses empty cells and text by default, naming the fix', () => {
    const empty = () => parsePartyTable(CSV, 'bank.csv', { labelColumn: 'y', featureColumns: ['age', 'score'] });
    expect(empty).toThrow(/line 3, column "age": empty cell, expected a number \(fill empty cells: data.missing/);
    expect(empty).toThrow(/--missing mean/);
    const text = () => parsePartyTable(CSV, 'bank.csv', { labelColumn: 'y', featureColumns: ['city'] });
    expect(text).toThrow(
      /column "city": not a number \(a value of 5 characters\) \(a text column: declare it categorical/,
    );
  });

  it('fills each column by its strategy, fitted on training rows only', () => {
    const spec: PreprocessingSpec = {
      excludeColumns: ['city'],
      missing: 'mean',
      columns: { income: { missing: 'median', missingIndicator: true } },
    };
    const table = read(spec);
    expect(table.featureNames).toEqual(['age', 'income', 'score']);
    const fitted = fitPreprocessing(table, spec, TRAIN);
    expect(fitted.outputColumns).toEqual(['age', 'income', 'income[missing]', 'score']);
    expect(plannedColumns(table, spec)).toEqual(fitted.outputColumns);
    const m = applyPreprocessing(table, fitted);
    // age: mean of 30, 50, 60 (the validation row's 1000 is not used)
    expect(column(m, 4, 0)).toEqual([30, 140 / 3, 50, 60, 140 / 3, 1000, 140 / 3]);
    // income: median of 100, 200, 400, 500 = 300; indicator beside it
    expect(column(m, 4, 1)).toEqual([100, 200, 300, 400, 500, 9000, 9000]);
    expect(column(m, 4, 2)).toEqual([0, 0, 1, 0, 0, 0, 0]);
  });

  it.each([
    ['zero', undefined, 0],
    ['constant', -1, -1],
    ['most-frequent', undefined, 30],
  ] as const)('fills with %s', (missing, fillValue, expected) => {
    const csv = ['id,y,age', 'a,1,30', 'b,0,30', 'c,1,', 'd,0,50', 'e,1,50', 'f,0,50'].join('\n');
    const spec: PreprocessingSpec = { missing, ...(fillValue !== undefined ? { fillValue } : {}) };
    const table = read(spec, csv);
    // 50 is the most frequent value overall, but not among the training rows 0-4 (two 30s, two 50s: the smaller wins)
    const fitted = fitPreprocessing(table, spec, [0, 1, 2, 3, 4]);
    expect(applyPreprocessing(table, fitted)[2]).toBe(expected);
  });

  it('one-hot encodes a text column with a cap and an "other" level', () => {
    const spec: PreprocessingSpec = {
      featureColumns: ['city', 'score'],
      columns: { city: { encoding: 'one-hot', maxLevels: 3 } },
    };
    const table = read(spec);
    // The file has four cities: two own columns (the cap less "other") and "other".
    const fitted = fitPreprocessing(table, spec, TRAIN);
    expect(fitted.outputColumns).toEqual(['score', 'city[1]', 'city[2]', 'city[other]']);
    // Generic names: no category value is in a column name the coordinator sees.
    expect(fitted.categorical[0].levels).toEqual(['Leeds', 'Hull']);
    const m = applyPreprocessing(table, fitted);
    const rows = Array.from({ length: 7 }, (_, r) => Array.from(m.subarray(r * 4 + 1, r * 4 + 4)));
    // Leeds, York (rarer: other), Leeds, empty (other), Hull, Paris (unseen in training: other), Leeds
    expect(rows).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [1, 0, 0],
      [0, 0, 1],
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
    ]);
  });

  it('codes an ordinal column in level order; empty and unseen cells get the most frequent level', () => {
    const spec: PreprocessingSpec = { featureColumns: ['city'], columns: { city: { encoding: 'ordinal' } } };
    const table = read(spec);
    const fitted = fitPreprocessing(table, spec, TRAIN);
    expect(fitted.categorical[0].levels).toEqual(['Hull', 'Leeds', 'York']);
    expect(Array.from(applyPreprocessing(table, fitted))).toEqual([1, 2, 1, 1, 0, 1, 1]);
  });

  it('detects text columns when asked, and reads them as categories', () => {
    const spec: PreprocessingSpec = { detectCategorical: true, missing: 'zero' };
    const table = read(spec);
    expect(table.featureNames).toEqual(['age', 'income', 'score']);
    expect(table.categorical?.names).toEqual(['city']);
    expect(plannedColumns(table, spec)).toEqual([
      'age',
      'income',
      'score',
      'city[1]',
      'city[2]',
      'city[3]',
      'city[4]',
      'city[other]',
    ]);
  });

  it('applies a saved fit to new rows read as prediction reads them', () => {
    const spec: PreprocessingSpec = {
      missing: 'median',
      columns: { city: { encoding: 'one-hot' } },
    };
    const fitted = fitPreprocessing(read(spec), spec, TRAIN);
    const saved = JSON.parse(JSON.stringify(fitted)) as FittedPreprocessing;
    // New rows: other column order, an extra column, a new city
    const later = parsePartyTable(
      ['id,score,extra,city,income,age', 'z,9,x,Hull,,'].join('\n'),
      'new.csv',
      predictionLoadOptions(saved, false),
    );
    const m = applyPreprocessing(later, saved);
    // Four cities in the training file, three among its training rows: the fourth slot stays empty.
    expect(saved.outputColumns).toEqual([
      'age',
      'income',
      'score',
      'city[1]',
      'city[2]',
      'city[3]',
      'city[4]',
      'city[other]',
    ]);
    expect(saved.categorical[0].levels).toEqual(['Leeds', 'Hull', 'York', '']);
    expect(Array.from(m)).toEqual([50, 300, 9, 0, 1, 0, 0, 0]);
  });

  it('names the problems of a spec the schema cannot see', () => {
    expect(
      preprocessingProblems({
        featureColumns: ['a'],
        excludeColumns: ['b'],
        missing: 'constant',
        columns: { c: { encoding: 'ordinal', maxLevels: 4 } },
      }),
    ).toEqual([
      'featureColumns and excludeColumns: give one of them, not both',
      'missing: "constant" needs a fillValue',
      'columns.c.maxLevels: only for the one-hot encoding',
    ]);
  });

  it('an unknown excluded column is named', () => {
    expect(() => read({ excludeColumns: ['nope'] })).toThrow(DataValidationError);
    expect(() => read({ excludeColumns: ['nope'] })).toThrow(
      /excludeColumns names column\(s\) the file does not have: "nope"/,
    );
  });
});
