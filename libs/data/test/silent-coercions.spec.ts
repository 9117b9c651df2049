/**
 * Nothing in a party's file is silently changed: numbers are decimal, text is UTF-8, a broken
 * quote is reported where it opened, a label column of one class and a file too wide for the
 * job's batches are refused at load, and a data reference cannot leave the data root through a
 * symlink. Every error names file, line and column, never the cell.
 */
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataErrorCode, DataValidationError, parsePartyTable, resolveDataPath } from '../src';

const SECRET = 'SECRET7q';

function refusal(fn: () => unknown, code: DataErrorCode): DataValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataValidationError);
    expect((err as DataValidationError).code).toBe(code);
    expect((err as Error).message).not.toContain(SECRET);
    return err as DataValidationError;
  }
  throw new Error(`expected DataValidationError ${code}, nothing was thrown`);
}

const parse = (csv: string | Buffer, options = {}) => parsePartyTable(csv, '/data/bank.csv', options);

describe('numbers are decimal', () => {
  it.each(['0x1F', '0X1f', '0b101', '0o17', '0B1'])('refuses %s naming line and column', (cell) => {
    const e = refusal(() => parse(`id,x\n${SECRET}1,1\n${SECRET}2,${cell}\n`), 'NON_NUMERIC');
    expect(e.message).toBe(
      `bank.csv line 3, column "x": not a decimal number (a value of ${cell.length} characters; hexadecimal, binary and octal notation are refused)`,
    );
  });

  it.each(['Infinity', '-Infinity', 'NaN', '1e999'])('refuses %s as not finite', (cell) => {
    expect(refusal(() => parse(`id,x\na,${cell}\n`), 'NOT_FINITE').line).toBe(2);
  });

  it('reads every decimal form an export writes', () => {
    const cells = ['1', '-2', '+3', '4.', '.5', '6.25', '7e2', '-8.5E-1', '007'];
    const t = parse(`id,x\n${cells.map((c, i) => `r${i},${c}`).join('\n')}\n`);
    expect(Array.from(t.features)).toEqual([1, -2, 3, 4, 0.5, 6.25, 700, -0.85, 7]);
  });

  it('refuses a hexadecimal label', () => {
    expect(refusal(() => parse('id,y,x\na,0x1,1\nb,0,2\n', { labelColumn: 'y' }), 'BAD_LABEL').line).toBe(2);
  });

  it('keeps an empty cell an empty-cell error', () => {
    expect(refusal(() => parse('id,x\na,\n'), 'NON_NUMERIC').message).toContain('empty cell');
  });
});

describe('text is UTF-8', () => {
  it('refuses an invalid byte in an ID, naming line and column, instead of turning it into U+FFFD', () => {
    const bytes = Buffer.concat([
      Buffer.from(`id,x\n${SECRET}a,1\n${SECRET}`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(',2\n'),
    ]);
    const e = refusal(() => parse(bytes), 'NOT_UTF8');
    expect(e.message).toBe('bank.csv line 3, column "id": bytes that are not valid UTF-8: save the file as UTF-8');
  });

  it('names the column of a truncated sequence in a quoted file, and the cell in the header', () => {
    const bytes = Buffer.concat([
      Buffer.from('"id",x,y\na,"1,5",2\nb,3,'),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('\n'),
    ]);
    expect(refusal(() => parse(bytes), 'NOT_UTF8')).toMatchObject({ line: 3, column: 'y' });
    const header = Buffer.concat([Buffer.from('id,x'), Buffer.from([0xc0, 0xaf]), Buffer.from('\na,1\n')]);
    expect(refusal(() => parse(header), 'NOT_UTF8').message).toContain(
      'line 1: bytes that are not valid UTF-8 (cell 2)',
    );
  });

  it('refuses an encoded surrogate and an overlong form, and reads valid multi-byte text', () => {
    for (const bad of [
      [0xed, 0xa0, 0x80],
      [0xe0, 0x80, 0xaf],
    ])
      refusal(() => parse(Buffer.concat([Buffer.from('id,x\n'), Buffer.from(bad), Buffer.from(',1\n')])), 'NOT_UTF8');
    expect(parse(Buffer.from('id,x\n客户😀,1\n')).ids).toEqual(['客户😀']);
  });
});

describe('an unclosed quote', () => {
  it('is reported on the line where it opened, not where the file ends', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `r${i},${i}`);
    rows[5] = `${SECRET},"12`;
    const e = refusal(() => parse(`id,x\n${rows.join('\n')}\n`), 'MALFORMED_CSV');
    expect(e.message).toBe('bank.csv line 7, column "x": quoted field is never closed: the quote opens here');
  });

  it('skips quoted fields that close, doubled quotes and quoted line breaks', () => {
    const e = refusal(() => parse('id,x,y\n"a\nb",1,"say ""hi"""\nc,2," 3\n'), 'MALFORMED_CSV');
    expect(e).toMatchObject({ line: 4, column: 'y' });
  });
});

describe('refused at load, not after training', () => {
  it('a label column of one class', () => {
    const e = refusal(() => parse('id,y,x\na,1,1\nb,1,2\nc,1,3\n', { labelColumn: 'y' }), 'BAD_LABEL');
    expect(e.message).toBe(
      'bank.csv, column "y": every one of the 3 rows has the same label: a model needs rows of both classes',
    );
    expect(() => parse('id,y,x\na,1,1\nb,1,2\n')).not.toThrow();
  });

  it('more feature columns than the job allows, at the header', () => {
    const header = ['id', ...Array.from({ length: 10_000 }, (_, j) => `c${j}`)].join(',');
    const e = refusal(
      () => parse(`${header}\nr,${'x,'.repeat(9_999)}x\n`, { maxFeatureColumns: 511, maxFeatureColumnsReason: 'why' }),
      'TOO_MANY_COLUMNS',
    );
    expect(e.message).toBe('bank.csv line 1: 10000 feature columns, more than the limit of 511 (why)');
  });
});

describe(resolveDataPath.name, () => {
  let root: string;
  let elsewhere: string;
  beforeAll(async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'vfl-root-'));
    root = path.join(base, 'root');
    elsewhere = path.join(base, 'elsewhere');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await mkdir(elsewhere);
    await writeFile(path.join(root, '..foo.csv'), 'id,x\na,1\n');
    await writeFile(path.join(root, 'sub', 'in.csv'), 'id,x\na,1\n');
    await writeFile(path.join(elsewhere, 'other.csv'), 'id,x\na,1\n');
    await symlink('/etc/passwd', path.join(root, 'passwd.csv'));
    await symlink(path.join(elsewhere, 'other.csv'), path.join(root, 'other.csv'));
    await symlink(elsewhere, path.join(root, 'linked-dir'));
    await symlink(path.join(root, 'sub', 'in.csv'), path.join(root, 'inside-link.csv'));
  });
  afterAll(() => rm(path.dirname(root), { recursive: true, force: true }));

  it.each(['passwd.csv', 'other.csv', 'linked-dir/other.csv', '../elsewhere/other.csv', '/etc/passwd'])(
    'refuses %s, which leads out of the root',
    async (file) => {
      await expect(resolveDataPath(root, file)).rejects.toMatchObject({
        code: 'OUTSIDE_DATA_ROOT',
        message: `data path ${JSON.stringify(file)} is outside this party's data root`,
      });
    },
  );

  it('takes a name beginning with two dots, a link that stays inside, and a missing file inside', async () => {
    await expect(resolveDataPath(root, '..foo.csv')).resolves.toMatch(/root\/\.\.foo\.csv$/);
    await expect(resolveDataPath(root, 'inside-link.csv')).resolves.toMatch(/root\/sub\/in\.csv$/);
    await expect(resolveDataPath(root, 'sub/../missing.csv')).resolves.toMatch(/root\/missing\.csv$/);
  });

  it('refuses a NUL byte', async () => {
    await expect(resolveDataPath(root, 'bank\0.csv')).rejects.toMatchObject({ code: 'BAD_PATH' });
  });
});
