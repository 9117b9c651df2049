/**
 * Bad data files, each submitted as a job's data: the job must fail at job.prepare, naming the
 * party, the file, the line and the column, never a cell or an ID (every ID holds the secret).
 */
import { SECRET } from './secret';

export interface DataFileCase {
  readonly name: string;
  /** The party whose reference is bad. */
  readonly party: 'bank' | 'ecommerce';
  /** The reference the job names, inside (or aiming outside) the party's data root. */
  readonly path: string;
  /** The file's bytes, written into the data root first; or a symlink; or nothing (a missing file, a directory). */
  readonly content?: string | Buffer;
  readonly symlinkTo?: string;
  readonly directory?: boolean;
  readonly model?: 'split-lr' | 'split-nn';
  readonly words: readonly string[];
}

const ROWS = 40;
const id = (i: number) => `${SECRET}-${i}`;
/** A well-formed label party file: id, default (both classes), two features; `edit` breaks it. */
export function bankFile(edit: (lines: string[]) => void = () => undefined, rows = ROWS): string {
  const lines = [
    'id,default,income,age',
    ...Array.from(
      { length: rows },
      (_, i) => `${id(i)},${(i * 7) % 3 === 0 ? 1 : 0},${(i * 37) % 101}.5,${20 + (i % 50)}`,
    ),
  ];
  edit(lines);
  return `${lines.join('\n')}\n`;
}
export function shopFile(edit: (lines: string[]) => void = () => undefined, rows = ROWS): string {
  const lines = [
    'id,visits,spend',
    ...Array.from({ length: rows }, (_, i) => `${id(i)},${(i * 13) % 17},${(i * 3) % 29}.25`),
  ];
  edit(lines);
  return `${lines.join('\n')}\n`;
}
/** Line `n` (1-based) of the file set to `text`. */
export const line = (n: number, text: string) => (lines: string[]) => void (lines[n - 1] = text);
export const cell = (n: number, value: string) => line(n, `${id(n)},1,${value},30`);
/** The file with `inserted` bytes in the middle of line `n`'s first cell (its ID). */
const insideId = (text: string, n: number, inserted: number[]) => {
  const at =
    text
      .split('\n')
      .slice(0, n - 1)
      .join('\n').length +
    1 +
    3;
  return bytes(text.slice(0, at), inserted, text.slice(at));
};
export const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const wide = () => {
  const names = Array.from({ length: 10_000 }, (_, j) => `c${j}`);
  return `id,default,${names.join(',')}\n${Array.from({ length: 4 }, (_, i) => `${id(i)},${i % 2},${names.map(() => '1').join(',')}`).join('\n')}\n`;
};
const bad = (name: string, content: string | Buffer, ...words: string[]): DataFileCase => ({
  name,
  party: 'bank',
  path: `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.csv`,
  content,
  words,
});
const badShop = (name: string, content: string | Buffer, ...words: string[]): DataFileCase => ({
  ...bad(name, content, ...words),
  party: 'ecommerce',
});

export const DATA_FILE_CASES: readonly DataFileCase[] = [
  bad('a hexadecimal cell', bankFile(cell(7, '0x1F')), 'column "income", line 7: not a decimal number'),
  bad('a binary cell', bankFile(cell(8, '0b101')), 'column "income", line 8: not a decimal number'),
  bad('an octal cell', bankFile(cell(9, '0o17')), 'column "income", line 9: not a decimal number'),
  bad('an Infinity cell', bankFile(cell(10, 'Infinity')), 'column "income", line 10: not a finite number'),
  bad('a -Infinity cell', bankFile(cell(11, '-Infinity')), 'line 11', 'not a finite number'),
  bad('a NaN cell', bankFile(cell(12, 'NaN')), 'line 12', 'not a finite number'),
  bad('an overflowing cell', bankFile(cell(13, '1e999')), 'line 13', 'overflows a double'),
  bad('an empty cell', bankFile(cell(14, '')), 'column "income", line 14: empty cell'),
  bad('a cell holding the secret', bankFile(cell(15, SECRET)), 'column "income", line 15: not a number (a value of'),
  bad('a number with a thousands separator', bankFile(cell(16, '1_000')), 'line 16', 'not a number'),
  bad('invalid UTF-8 in an ID', insideId(bankFile(), 3, [0xff]), 'column "id", line 3: bytes that are not valid UTF-8'),
  bad(
    'a truncated UTF-8 sequence in a cell',
    bytes('id,default,income,age\n', `${id(1)},1,`, [0xe2, 0x82], ',4\n', `${id(2)},0,1,2\n`),
    'column "income", line 2: bytes that are not valid UTF-8',
  ),
  bad(
    'an encoded surrogate in the header',
    bytes('id,default,inc', [0xed, 0xa0, 0x80], 'ome,age\n', `${id(1)},1,2,3\n`),
    'line 1: bytes that are not valid UTF-8',
  ),
  bad(
    'an unclosed quote on line 7',
    bankFile(line(7, `${id(7)},1,"12,30`)),
    'column "income", line 7: quoted field is never closed',
  ),
  bad(
    'a character after a closing quote',
    bankFile(line(5, `${id(5)},1,"12"x,30`)),
    'line 5',
    'unexpected character after a closing quote',
  ),
  bad(
    'a quote inside an unquoted cell',
    bankFile(line(6, `${id(6)},1,1"2,30`)),
    'line 6',
    'a quote inside an unquoted field',
  ),
  bad('a row with too many cells', bankFile(line(4, `${id(4)},1,2,3,4`)), 'line 4: expected 4 cells, found 5'),
  bad('a row with too few cells', bankFile(line(5, `${id(5)},1`)), 'line 5: expected 4 cells, found 2'),
  bad(
    'a duplicate ID',
    bankFile(line(9, `${id(3)},1,2,3`)),
    'column "id", line 9: duplicate id (first seen on line 5)',
  ),
  bad('an empty ID', bankFile(line(10, ',1,2,3')), 'column "id", line 10: id is empty'),
  bad(
    'an ID of 200 characters',
    bankFile(line(11, `${SECRET.repeat(14)},1,2,3`)),
    'column "id", line 11: id has 210 characters, limit is 128',
  ),
  bad('no id column', bankFile(line(1, 'key,default,income,age')), 'missing id column "id"'),
  bad('no label column', bankFile(line(1, 'id,outcome,income,age')), 'missing label column "default"'),
  bad(
    'a column named twice',
    bankFile(line(1, 'id,default,income,income')),
    'column "income", line 1: header names this column more than once',
  ),
  bad('a header cell without a name', bankFile(line(1, 'id,default,,age')), 'header cell 3 has no column name'),
  bad(
    'a label of 2',
    bankFile(line(6, `${id(6)},2,1,2`)),
    'column "default", line 6: model split-lr takes a binary label (0/1 or -1/+1); the column has 3 distinct values',
  ),
  bad(
    'a hexadecimal label',
    bankFile(line(6, `${id(6)},0x1,1,2`)),
    'column "default", line 6: model split-lr takes a binary label (0/1 or -1/+1); the column has 3 distinct values, not all numbers',
  ),
  bad('labels mixing 0 and -1', bankFile(line(8, `${id(8)},-1,1,2`)), 'labels mix 0 and -1'),
  bad(
    'a label column of one class',
    bankFile((l) => l.forEach((_, i) => i > 0 && (l[i] = `${id(i)},1,${i},2`))),
    'column "default": every one of the 40 rows has the same label',
  ),
  bad('10,000 columns', wide(), '10000 feature columns, more than the limit of 127', 'batches of 256 rows'),
  bad('an empty file', '', 'file is empty'),
  bad('a header and no rows', 'id,default,income,age\n', 'header but no data rows'),
  bad('only blank lines', '\n\n  \n', 'file is empty'),
  badShop(
    'a hexadecimal cell at the feature party',
    shopFile(line(3, `${id(3)},0xFF,1`)),
    'column "visits", line 3: not a decimal number',
  ),
  badShop(
    'invalid UTF-8 in a feature party ID',
    insideId(shopFile(), 5, [0xc3, 0x28]),
    'column "id", line 5: bytes that are not valid UTF-8',
  ),
  badShop(
    'an unclosed quote at the feature party',
    shopFile(line(12, `"${id(12)},1,2`)),
    'column "id", line 12: quoted field is never closed',
  ),
  { name: 'a missing file', party: 'bank', path: 'nowhere.csv', words: ['nowhere.csv: file not found'] },
  {
    name: 'a directory',
    party: 'bank',
    path: 'a-directory',
    directory: true,
    words: ['path is a directory, not a file'],
  },
  {
    name: 'a path out of the root',
    party: 'bank',
    path: '../elsewhere/other.csv',
    words: ["is outside this party's data root"],
  },
  { name: 'an absolute path', party: 'bank', path: '/etc/passwd', words: ["is outside this party's data root"] },
  {
    name: 'a symlink to /etc/passwd',
    party: 'bank',
    path: 'passwd.csv',
    symlinkTo: '/etc/passwd',
    words: ['"passwd.csv" is outside this party\'s data root'],
  },
  {
    name: 'a symlink to a CSV elsewhere',
    party: 'ecommerce',
    path: 'linked.csv',
    symlinkTo: '../elsewhere/other.csv',
    words: ['"linked.csv" is outside this party\'s data root'],
  },
  {
    name: 'a symlinked directory leading out',
    party: 'bank',
    path: 'out/other.csv',
    symlinkTo: '../elsewhere',
    words: ['"out/other.csv" is outside'],
  },
  {
    name: 'a split-NN job on a label column of one class',
    party: 'bank',
    model: 'split-nn',
    path: 'one-class-nn.csv',
    content: bankFile((l) => l.forEach((_, i) => i > 0 && (l[i] = `${id(i)},0,${i},2`))),
    words: ['has the same label'],
  },
];

/** A file the data root must accept although its name begins with two dots. */
export const DOT_DOT_NAME = '..bank.csv';
/** Content for files outside the data roots, which symlinks must not reach. */
export const ELSEWHERE_CSV = bankFile();
