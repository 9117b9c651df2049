/**
 * Bad prediction requests against a succeeded job (or one that cannot predict), each with the
 * status and words of its answer. IDs carry the secret; a refusal counts them, never names them.
 */
import { SECRET } from './secret';

export interface PredictCase {
  readonly name: string;
  /** Which job the request names. */
  readonly target: 'trained' | 'failed' | 'unknown' | 'malformed';
  readonly body?: unknown;
  readonly raw?: string;
  readonly contentType?: string;
  readonly status: number;
  readonly words: readonly string[];
}

const known = [`${SECRET}-1`, `${SECRET}-2`];
const predict = (name: string, body: unknown, status: number, ...words: string[]): PredictCase => ({
  name,
  target: 'trained',
  body,
  status,
  words,
});

export const PREDICT_CASES: readonly PredictCase[] = [
  predict('no IDs', { ids: [] }, 400, 'ids must contain at least 1 elements'),
  predict('no ids field', {}, 400, 'ids must be an array'),
  predict('IDs as a string', { ids: known.join(',') }, 400, 'ids must be an array'),
  predict('a number among the IDs', { ids: [known[0], 7] }, 400, 'each value in ids must be a string'),
  predict(
    'an ID of 129 characters',
    { ids: [`${SECRET}${'x'.repeat(129)}`] },
    400,
    'each value in ids must be shorter',
  ),
  predict('an ID with a NUL byte', { ids: [known[0], `${SECRET}\u0000`] }, 400, 'ids.1 contains a NUL byte'),
  predict(
    '100,001 IDs',
    { ids: Array.from({ length: 100_001 }, (_, i) => `${SECRET}${i}`) },
    400,
    'ids must contain no more than 100000',
  ),
  predict('an unknown property', { ids: known, threshold: 0.5 }, 400, 'property threshold should not exist'),
  predict(
    'data for a party outside the job',
    { ids: known, data: { mallory: { path: 'x.csv' } } },
    400,
    'data.mallory: not a party of job',
  ),
  predict(
    'a path that is a number',
    { ids: known, data: { bank: { path: 5 } } },
    400,
    'data.bank.path: a file path of 1 to 512 characters',
  ),
  predict('a party reference that is null', { ids: known, data: { bank: null } }, 400, 'data.bank.path'),
  predict(
    'a path with a NUL byte',
    { ids: known, data: { bank: { path: 'p\u0000.csv' } } },
    400,
    'data.bank.path contains a NUL byte',
  ),
  predict(
    'an ID column of 200 characters',
    { ids: known, data: { bank: { path: 'x.csv', idColumn: 'c'.repeat(200) } } },
    400,
    'data.bank.idColumn: a column name of up to 128 characters',
  ),
  predict(
    'data nested 40 levels',
    { ids: known, data: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) },
    400,
    'is nested more than 32 levels deep',
  ),
  predict(
    'a path out of the data root',
    { ids: known, data: { bank: { path: '../elsewhere/other.csv' } } },
    422,
    "outside this party's data root",
  ),
  predict(
    'a symlink to /etc/passwd',
    { ids: known, data: { bank: { path: 'passwd.csv' } } },
    422,
    "outside this party's data root",
  ),
  predict(
    'IDs the label party lacks',
    { ids: [known[0], `${SECRET}-nobody`, `${SECRET}-none`] },
    422,
    "2 of the 3 requested IDs are not in the label party's data",
  ),
  predict(
    'a file with a hexadecimal cell',
    { ids: known, data: { bank: { path: 'predict-hex.csv' } } },
    422,
    'line 7, column "income": not a decimal number',
  ),
  predict(
    'a file with invalid UTF-8',
    { ids: known, data: { bank: { path: 'predict-utf8.csv' } } },
    422,
    'bytes that are not valid UTF-8',
  ),
  predict('a file with other columns', { ids: known, data: { bank: { path: 'predict-columns.csv' } } }, 422, 'columns'),
  predict('a missing file', { ids: known, data: { ecommerce: { path: 'gone.csv' } } }, 422, 'gone.csv: file not found'),
  {
    name: 'a text/plain body',
    target: 'trained',
    raw: JSON.stringify({ ids: known }),
    contentType: 'text/plain',
    status: 415,
    words: ['content type text/plain is not supported'],
  },
  {
    name: 'malformed JSON holding an ID',
    target: 'trained',
    raw: `{"ids": [${SECRET}]}`,
    status: 400,
    words: ['the body is not valid JSON'],
  },
  {
    name: 'a job that failed',
    target: 'failed',
    body: { ids: known },
    status: 409,
    words: ['only a succeeded split-lr, split-nn, secureboost or scorecard pipeline job can predict'],
  },
  {
    name: 'a job that does not exist',
    target: 'unknown',
    body: { ids: known },
    status: 404,
    words: ['does not exist'],
  },
  { name: 'a malformed job id', target: 'malformed', body: { ids: known }, status: 400, words: ['uuid is expected'] },
];
