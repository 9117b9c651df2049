/** Tests for parsing, validating and selecting rows of party tables. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DataErrorCode,
  DataValidationError,
  featureMatrixRow,
  loadPartyTable,
  LoadTableOptions,
  parsePartyTable,
  selectRows,
} from '../src';

const SHARED_DATA = path.resolve(__dirname, '../../../../shared/data');
const SECRET_ID = '13800138000';

/** Run `fn`, expect a DataValidationError with `code`, return it for further checks. */
function expectDataError(fn: () => unknown, code: DataErrorCode): DataValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataValidationError);
    const error = err as DataValidationError;
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected DataValidationError ${code}, nothing was thrown`);
}

function parse(csv: string, options?: LoadTableOptions) {
  return parsePartyTable(csv, '/some/dir/bank.csv', options);
}

describe('parsePartyTable: valid input', () => {
  const csv = ['id,default,income,age', `${SECRET_ID},1,1200.5,31`, ' 13900139000 , 0 , 800 , 45 ', ''].join('\n');

  it('reads ids, features in file order and labels', () => {
    const table = parse(csv, { labelColumn: 'default' });
    expect(table.ids).toEqual([SECRET_ID, '13900139000']);
    expect(table.featureNames).toEqual(['income', 'age']);
    expect(Array.from(table.features)).toEqual([1200.5, 31, 800, 45]);
    expect(Array.from(table.labels!)).toEqual([1, 0]);
    expect(table.source).toBe('bank.csv');
    expect(table.contentSha256).toBe(createHash('sha256').update(csv, 'utf8').digest('hex'));
  });

  it('treats the label column as a feature when no label is requested', () => {
    const table = parse(csv);
    expect(table.featureNames).toEqual(['default', 'income', 'age']);
    expect(table.labels).toBeUndefined();
  });

  it('uses exactly featureColumns, in their order, ignoring extra columns', () => {
    const table = parse(csv, { labelColumn: 'default', featureColumns: ['age', 'income'] });
    expect(table.featureNames).toEqual(['age', 'income']);
    expect(Array.from(table.features)).toEqual([31, 1200.5, 45, 800]);
  });

  it('maps -1/+1 labels to 0/1', () => {
    const table = parse('id,y,x\na,-1,1\nb,+1,2\nc,1,3\n', { labelColumn: 'y' });
    expect(Array.from(table.labels!)).toEqual([0, 1, 1]);
  });

  it('honours a custom id column, quoted cells, CRLF, BOM and blank lines', () => {
    const table = parse('\uFEFFcustomer,"x, y"\r\n\r\n"a",1e3\r\n b ,"-2.5"\r\n', { idColumn: 'customer' });
    expect(table.ids).toEqual(['a', 'b']);
    expect(table.featureNames).toEqual(['x, y']);
    expect(Array.from(table.features)).toEqual([1000, -2.5]);
  });

  it('hashes Buffer input byte for byte', () => {
    const bytes = Buffer.from('id,x\na,1\n');
    expect(parsePartyTable(bytes, 'a.csv').contentSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('parsePartyTable: bad input', () => {
  it('missing id column', () => {
    const error = expectDataError(() => parse('key,x\na,1\n'), 'MISSING_COLUMN');
    expect(error.column).toBe('id');
    expect(error.line).toBe(1);
    expect(error.message).toBe('bank.csv line 1, column "id": missing id column "id"');
  });

  it('missing label column', () => {
    const error = expectDataError(() => parse('id,x\na,1\n', { labelColumn: 'default' }), 'MISSING_COLUMN');
    expect(error.column).toBe('default');
    expect(error.message).toContain('bank.csv line 1');
    expect(error.message).toContain('"default"');
  });

  it('duplicate ids: both line numbers, no id value', () => {
    const csv = `id,x\n${SECRET_ID},1\nother,2\n\n${SECRET_ID},3\n`;
    const error = expectDataError(() => parse(csv), 'DUPLICATE_ID');
    expect(error.line).toBe(5);
    expect(error.column).toBe('id');
    expect(error.message).toBe('bank.csv line 5, column "id": duplicate id (first seen on line 2)');
    expect(error.message).not.toContain(SECRET_ID);
  });

  it('empty id', () => {
    const error = expectDataError(() => parse('id,x\na,1\n  ,2\n'), 'MISSING_ID');
    expect(error.line).toBe(3);
    expect(error.message).toBe('bank.csv line 3, column "id": id is empty');
  });

  it('non-numeric cell', () => {
    const error = expectDataError(() => parse(`id,income\n${SECRET_ID},abc\n`), 'NON_NUMERIC');
    expect(error.line).toBe(2);
    expect(error.column).toBe('income');
    expect(error.message).toMatch(
      /^bank.csv line 2, column "income": not a number \(a value of 3 characters\) \(a text column: declare it categorical/,
    );
    expect(error.message).not.toContain(SECRET_ID);
  });

  it('never repeats the content of a bad cell, only its length', () => {
    const error = expectDataError(() => parse(`id,income\na,${'z'.repeat(50)}\n`), 'NON_NUMERIC');
    expect(error.message).toContain('a value of 50 characters');
    expect(error.message).not.toContain('z');
  });

  it('empty feature cell', () => {
    const error = expectDataError(() => parse('id,income,age\na,1,\n'), 'NON_NUMERIC');
    expect(error.message).toMatch(
      /^bank.csv line 2, column "age": empty cell, expected a number \(fill empty cells: data.missing "mean"/,
    );
  });

  it("'NaN' cell", () => {
    const error = expectDataError(() => parse('id,income\na,1\nb,NaN\n'), 'NOT_FINITE');
    expect(error.line).toBe(3);
    expect(error.column).toBe('income');
    expect(error.message).toBe('bank.csv line 3, column "income": not a finite number ("NaN")');
  });

  it("'Infinity' and overflowing cells", () => {
    expect(expectDataError(() => parse('id,x\na,-Infinity\n'), 'NOT_FINITE').message).toContain('"-Infinity"');
    expect(expectDataError(() => parse('id,x\na,1e999\n'), 'NOT_FINITE').message).toContain('line 2');
  });

  it('ragged row', () => {
    const error = expectDataError(() => parse('id,x,y\na,1,2\nb,3\n'), 'RAGGED_ROW');
    expect(error.line).toBe(3);
    expect(error.message).toBe('bank.csv line 3: expected 3 cells, found 2');
  });

  it('header-only file', () => {
    const error = expectDataError(() => parse('id,x\n\n'), 'EMPTY');
    expect(error.line).toBe(1);
    expect(error.message).toBe('bank.csv line 1: header but no data rows');
  });

  it('completely empty file', () => {
    expect(expectDataError(() => parse(''), 'EMPTY').message).toContain('bank.csv');
  });

  it('label value 2', () => {
    const error = expectDataError(() => parse('id,y,x\na,0,1\nb,2,1\n', { labelColumn: 'y' }), 'BAD_LABEL');
    expect(error.line).toBe(3);
    expect(error.column).toBe('y');
    expect(error.message).toContain(
      'bank.csv line 3, column "y": this job takes a binary label (0/1 or -1/+1); the column has 2 distinct values: objective "binary" takes 0/1 or -1/+1: recode the two values',
    );
  });

  it('labels mixing 0 and -1', () => {
    const error = expectDataError(() => parse('id,y,x\na,0,1\nb,1,1\nc,-1,1\n', { labelColumn: 'y' }), 'BAD_LABEL');
    expect(error.line).toBe(4);
    expect(error.message).toContain('first 0 on line 2, first -1 on line 4');
  });

  it('over-long id', () => {
    const longId = '9'.repeat(129);
    const error = expectDataError(() => parse(`id,x\na,1\n${longId},2\n`), 'ID_TOO_LONG');
    expect(error.line).toBe(3);
    expect(error.message).toBe('bank.csv line 3, column "id": id has 129 characters, limit is 128');
    expect(error.message).not.toContain(longId.slice(0, 20));
    expect(() => parse(`id,x\n${longId},2\n`, { maxIdLength: 200 })).not.toThrow();
  });

  it('featureColumns naming a missing column', () => {
    const error = expectDataError(
      () => parse('id,income,age\na,1,2\n', { featureColumns: ['income', 'tenure', 'cards'] }),
      'MISSING_COLUMN',
    );
    expect(error.column).toBe('tenure');
    expect(error.message).toBe('bank.csv line 1, column "tenure": missing feature column(s) "tenure", "cards"');
  });

  it('duplicate header column', () => {
    const error = expectDataError(() => parse('id,x,y,x\na,1,2,3\n'), 'DUPLICATE_COLUMN');
    expect(error.column).toBe('x');
    expect(error.message).toContain('positions 2 and 4');
  });

  it('no feature columns', () => {
    const error = expectDataError(() => parse('id,y\na,1\n', { labelColumn: 'y' }), 'MISSING_COLUMN');
    expect(error.message).toBe('bank.csv line 1: no feature columns');
  });

  it('featureColumns listing the label column', () => {
    const error = expectDataError(
      () => parse('id,y,x\na,1,2\n', { labelColumn: 'y', featureColumns: ['x', 'y'] }),
      'UNEXPECTED_COLUMNS',
    );
    expect(error.column).toBe('y');
  });

  it('unterminated quote', () => {
    const error = expectDataError(() => parse('id,x\na,1\nb,"2\n'), 'MALFORMED_CSV');
    expect(error.message).toContain('bank.csv line');
    expect(error.message).toContain('quoted field is never closed');
  });

  it('more rows than maxRows', () => {
    const error = expectDataError(() => parse('id,x\na,1\nb,2\nc,3\n', { maxRows: 2 }), 'MALFORMED_CSV');
    expect(error.line).toBe(4);
    expect(error.message).toContain('maxRows=2');
    expect(parse('id,x\na,1\nb,2\n', { maxRows: 2 }).ids).toHaveLength(2);
  });
});

describe('loadPartyTable', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vfl-data-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('file not found', async () => {
    const missing = path.join(dir, 'nowhere', 'bank.csv');
    const error = await loadPartyTable(missing).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as DataValidationError).code).toBe('FILE_NOT_FOUND');
    expect((error as DataValidationError).message).toBe('bank.csv: file not found');
  });

  it('reads a written file and hashes its bytes', async () => {
    const file = path.join(dir, 'small.csv');
    await writeFile(file, 'id,y,x\na,1,0.5\nb,0,1\n');
    const table = await loadPartyTable(file, { labelColumn: 'y' });
    expect(table.source).toBe('small.csv');
    expect(table.contentSha256).toBe(createHash('sha256').update('id,y,x\na,1,0.5\nb,0,1\n').digest('hex'));
  });

  // Its speed is the data-check bench's to measure (npm run bench -- data-check), not a timed test's.
  it('loads the 30,000-row default-credit guest file', async () => {
    const table = await loadPartyTable(path.join(SHARED_DATA, 'default_credit_hetero_guest.csv'), {
      labelColumn: 'y',
    });
    expect(table.ids).toHaveLength(30000);
    expect(table.featureNames).toEqual(Array.from({ length: 13 }, (_, i) => `x${i}`));
    expect(table.features).toHaveLength(30000 * 13);
    const positives = table.labels!.reduce((sum, v) => sum + v, 0);
    expect(positives / 30000).toBeCloseTo(0.221, 2);
    expect(table.contentSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('loads the default-credit host file (no label)', async () => {
    const table = await loadPartyTable(path.join(SHARED_DATA, 'default_credit_hetero_host.csv'));
    expect(table.ids).toHaveLength(30000);
    expect(table.featureNames).toEqual(Array.from({ length: 10 }, (_, i) => `x${i}`));
    expect(table.labels).toBeUndefined();
  });
});

describe('selectRows and featureMatrixRow', () => {
  const table = parse('id,y,a,b\np,1,1,2\nq,0,3,4\nr,1,5,6\n', { labelColumn: 'y' });

  it('returns rows in the requested order', () => {
    const selected = selectRows(table, ['r', 'p']);
    expect(selected.ids).toEqual(['r', 'p']);
    expect(Array.from(selected.features)).toEqual([5, 6, 1, 2]);
    expect(Array.from(selected.labels!)).toEqual([1, 1]);
    expect(selected.contentSha256).toBe(table.contentSha256);
    expect(selected.source).toBe('bank.csv');
  });

  it('selectRows with an unknown id', () => {
    const error = expectDataError(() => selectRows(table, ['p', SECRET_ID]), 'MISSING_ID');
    expect(error.message).toBe('bank.csv: selectRows: requested id at position 1 is not in the table');
    expect(error.message).not.toContain(SECRET_ID);
  });

  it('selectRows with a repeated id', () => {
    const error = expectDataError(() => selectRows(table, ['q', 'p', 'q']), 'DUPLICATE_ID');
    expect(error.message).toContain('position 2 repeats position 0');
  });

  it('featureMatrixRow returns one row as a view', () => {
    expect(Array.from(featureMatrixRow(table, 1))).toEqual([3, 4]);
    expect(featureMatrixRow(table, 2).buffer).toBe(table.features.buffer);
    expect(() => featureMatrixRow(table, 3)).toThrow(RangeError);
    expect(() => featureMatrixRow(table, 0.5)).toThrow(RangeError);
  });
});

describe('fast path and csv-parse path agree', () => {
  // A quote anywhere sends the file through csv-parse; without one it is split directly.
  const bodies = [
    'id,y,a,b\np,1,1,2\n\n   \nq,0, 3 ,4\nr,1,5,6',
    'id,y,a,b\r\np,1,1,2\r\n\r\nq,-1,3,4\r\n',
    '\uFEFFid,y,a,b\np,1,1,2\nq,0,3\n',
    'id,y,a,b\np,1,1,2\nq,0,3,x\n',
    'id,y,a,b\np,1,1,2\np,0,3,4\n',
  ];

  function outcome(csv: string): unknown {
    try {
      const t = parse(csv, { labelColumn: 'y' });
      return { ids: t.ids, names: t.featureNames, x: Array.from(t.features), y: Array.from(t.labels!) };
    } catch (err) {
      const e = err as DataValidationError;
      return { code: e.code, line: e.line, column: e.column };
    }
  }

  it.each(bodies.map((body, i) => [i, body]))('case %i', (_i, body) => {
    const quoted = body.replace('id,y,a,b', '"id",y,a,b');
    expect(outcome(quoted)).toEqual(outcome(body));
  });
});
