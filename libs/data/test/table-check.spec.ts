/** One pass over a file reports every problem it has, grouped by kind and column, capped, without cell contents. */
import { checkPartyTable, describeProblem } from '../src';

const SECRET = 'Mr Secret';

describe('checkPartyTable', () => {
  it('reports a text column, a duplicate ID, empty cells, a ragged row and a bad label at once', () => {
    const csv = [
      'id,y,age,city,income',
      `a1,1,30,${SECRET},100`,
      'a2,0,,Leeds,200',
      'a1,1,50,York,',
      'a3,7,60,Hull,400',
      'a4,0,70,Hull',
      'a5,1,,Ely,',
    ].join('\n');
    const check = checkPartyTable(csv, '/data/bank.csv', { labelColumn: 'y' });
    expect(check.table).toBeUndefined();
    const seen = check.problems.map((p) => [p.code, p.column, p.count, p.lines]);
    expect(seen).toEqual([
      ['NON_NUMERIC', 'city', 5, [2, 3, 4, 5, 7]],
      ['NON_NUMERIC', 'age', 2, [3, 7]],
      ['DUPLICATE_ID', 'id', 1, [4]],
      ['NON_NUMERIC', 'income', 2, [4, 7]],
      ['BAD_LABEL', 'y', 1, [5]],
      ['RAGGED_ROW', undefined, 1, [6]],
    ]);
    const text = check.problems.map(describeProblem).join('\n');
    expect(text).toContain('bank.csv, column "city": 5 times (lines 2, 3, 4, 5, 7): not a number');
    expect(text).toContain('declare it categorical');
    expect(text).toContain(
      'bank.csv, column "age": 2 times (lines 3, 7): empty cell, expected a number (fill empty cells',
    );
    for (const secret of [SECRET, 'Leeds', 'a1']) expect(JSON.stringify(check)).not.toContain(secret);
  });

  it('caps the groups listed per kind and counts the rest', () => {
    const header = ['id', ...Array.from({ length: 15 }, (_, j) => `c${j}`)].join(',');
    const rows = Array.from({ length: 3 }, (_, i) => [`r${i}`, ...Array.from({ length: 15 }, () => '')].join(','));
    const check = checkPartyTable(
      [header, ...rows].join('\n'),
      'wide.csv',
      {},
      { groupsPerKind: 4, linesPerProblem: 2 },
    );
    expect(check.problems.map((p) => [p.column, p.count, p.lines])).toEqual([
      ['c0', 3, [2, 3]],
      ['c1', 3, [2, 3]],
      ['c2', 3, [2, 3]],
      ['c3', 3, [2, 3]],
    ]);
    expect(check.omitted).toBe(11);
    expect(describeProblem(check.problems[0])).toBe(
      'wide.csv, column "c0": 3 times (lines 2, 3, …): empty cell, expected a number (fill empty cells: data.missing "mean", "median", "zero", … in the job, or --missing mean in the demo)',
    );
  });

  it('a header problem is one problem; a clean file gives its table', () => {
    expect(checkPartyTable('id,x\n1,2\n', 'a.csv', { labelColumn: 'y' }).problems.map((p) => p.code)).toEqual([
      'MISSING_COLUMN',
    ]);
    const clean = checkPartyTable('id,x\n1,2\n', 'a.csv', {});
    expect(clean.problems).toEqual([]);
    expect(clean.table?.ids).toEqual(['1']);
  });
});
