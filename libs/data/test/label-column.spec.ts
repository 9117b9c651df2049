import { DataValidationError, parsePartyTable, readLabelColumn, selectRows } from '../src';

const lines = (n: number) => Array.from({ length: n }, (_, i) => i + 2);
const read = (cells: string[], objective: 'binary' | 'regression' | 'multiclass') =>
  readLabelColumn(cells, lines(cells.length), { objective, file: 'guest.csv', column: 'y', reader: 'model split-lr' });

function refusal(f: () => unknown): DataValidationError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataValidationError);
    expect((e as DataValidationError).code).toBe('BAD_LABEL');
    return e as DataValidationError;
  }
  throw new Error('expected a BAD_LABEL refusal');
}

describe(readLabelColumn.name, () => {
  it('reads 0/1 and -1/+1 as binary labels', () => {
    expect(Array.from(read(['0', '1', '1'], 'binary').labels!)).toEqual([0, 1, 1]);
    expect(Array.from(read(['-1', '1'], 'binary').labels!)).toEqual([0, 1]);
  });

  it('names the kind of a 4-class column given to a binary model, and the objective that fits', () => {
    const e = refusal(() => read(['0', '3', '2', '1', '2'], 'binary'));
    expect(e.message).toBe(
      'guest.csv line 3, column "y": model split-lr takes a binary label (0/1 or -1/+1); the column has 4 distinct values, the whole numbers 0 to 3: objective "multiclass" fits class numbers',
    );
  });

  it('names a continuous column and suggests regression, without printing a value', () => {
    const cells = ['151.5', '75', '141', '206.25', '135'];
    const e = refusal(() => read(cells, 'binary'));
    expect(e.message).toContain('model split-lr takes a binary label');
    expect(e.message).toContain(
      '5 distinct values, not all whole numbers: objective "regression" fits a continuous target',
    );
    for (const c of cells.filter((c) => c.length > 1)) expect(e.message).not.toContain(c);
  });

  it('names a text column as not numbers and never quotes it', () => {
    const e = refusal(() => read(['setosa', 'virginica', 'setosa'], 'multiclass'));
    expect(e.message).toContain('2 distinct values, not all numbers');
    expect(e.line).toBe(2);
    expect(e.message).not.toMatch(/setosa|virginica/);
  });

  it('reads a continuous target for regression and class numbers for multiclass', () => {
    expect(Array.from(read(['1.5', '-2', '3e2'], 'regression').targets!)).toEqual([1.5, -2, 300]);
    const classes = read(['0', '2', '1', '3'], 'multiclass');
    expect(classes.classCount).toBe(4);
    expect(Array.from(classes.targets!)).toEqual([0, 2, 1, 3]);
  });

  it('refuses multiclass codes that are not 0..K-1 and a binary column given to multiclass', () => {
    expect(refusal(() => read(['1', '2', '3'], 'multiclass')).message).toContain(
      'takes a class number 0..K-1 with every class present',
    );
    expect(refusal(() => read(['0', '1', '1'], 'multiclass')).message).toContain(
      '2 distinct values: objective "binary" takes 0/1',
    );
  });

  it('carries targets through parsing and row selection', () => {
    const table = parsePartyTable('id,y,x\na,0.5,1\nb,2.5,2\nc,4,3\n', 'guest.csv', {
      labelColumn: 'y',
      objective: 'regression',
    });
    expect(table.labels).toBeUndefined();
    const picked = selectRows(table, ['c', 'a']);
    expect(Array.from(picked.targets!)).toEqual([4, 0.5]);
  });
});
