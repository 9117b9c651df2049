/**
 * Bad requests to the coordinator's REST API: each with the status it must get and words its
 * error must contain (naming the field or the problem, never a value).
 */
import { SECRET } from './secret';

export interface HttpCase {
  readonly name: string;
  readonly method?: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  /** JSON-encoded unless `raw` is given. */
  readonly body?: unknown;
  readonly raw?: string;
  readonly contentType?: string;
  /** Without the admin key (or with this one). */
  readonly auth?: 'none' | 'bogus';
  readonly status: number;
  readonly words: readonly string[];
}

const bank = { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: 'default' } };
const shop = { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } };
const job = (over: Record<string, unknown> = {}) => ({ model: 'split-lr', parties: [bank, shop], ...over });
const withBank = (data: Record<string, unknown>) => job({ parties: [{ ...bank, data }, shop] });
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const post = (name: string, body: unknown, status: number, ...words: string[]): HttpCase => ({
  name,
  path: '/jobs',
  body,
  status,
  words,
});
const arch = (over: Record<string, unknown> = {}) => ({
  bottom: [{ units: 4, activation: 'relu' }],
  interactive: { units: 4 },
  top: [],
  training: { optimizer: 'adam', learningRate: 0.01, batchSize: 256, epochs: 1, seed: 1 },
  ...over,
});

export const API_CASES: readonly HttpCase[] = [
  post('an empty body', {}, 400, 'model must be one of'),
  post('an unknown model', job({ model: 'gbdt-xl' }), 400, 'model must be one of'),
  post('no parties', { model: 'split-lr' }, 400, 'parties'),
  post('parties as a string', job({ parties: 'bank,ecommerce' }), 400, 'parties must be an array'),
  post('parties holding null and a number', job({ parties: [null, 1] }), 400, 'parties'),
  post('one party', job({ parties: [bank] }), 400, 'parties must contain at least 2 elements'),
  post('nine parties', job({ parties: Array(9).fill(shop) }), 400, 'parties must contain no more than 8'),
  post(
    'a party without data',
    job({ parties: [bank, { partyId: 'ecommerce', role: 'feature' }] }),
    400,
    'parties.1.data must be an object',
  ),
  post(
    'a party whose data is null',
    job({ parties: [bank, { ...shop, data: null }] }),
    400,
    'parties.1.data must be an object',
  ),
  post(
    'a party whose data is a string',
    job({ parties: [bank, { ...shop, data: 'x.csv' }] }),
    400,
    'parties.1.data must be an object',
  ),
  post(
    'a party id with a slash',
    job({ parties: [bank, { ...shop, partyId: '../shop' }] }),
    400,
    'partyId must be 1-64 letters',
  ),
  post('an unknown role', job({ parties: [bank, { ...shop, role: 'observer' }] }), 400, 'parties.1.role'),
  post(
    'a path that is a number',
    withBank({ path: 7, labelColumn: 'default' }),
    400,
    'parties.0.data.path must be a string',
  ),
  post(
    'a path of 1,025 characters',
    withBank({ path: 'a'.repeat(1025), labelColumn: 'default' }),
    400,
    'parties.0.data.path must be shorter',
  ),
  post(
    'a NUL byte in a path',
    withBank({ path: 'bank\u0000.csv', labelColumn: 'default' }),
    400,
    'parties.0.data.path contains a NUL byte',
  ),
  post(
    'a NUL byte in a label column',
    withBank({ path: 'bank.csv', labelColumn: `de\u0000${SECRET}` }),
    400,
    'parties.0.data.labelColumn contains a NUL byte',
  ),
  post(
    'a NUL byte in a property name',
    withBank({ path: 'bank.csv', labelColumn: 'default', ['x\u0000']: 1 }),
    400,
    'parties.0.data has a property name with a NUL byte',
  ),
  post(
    'a NUL byte in an ID rule',
    job({ alignment: { idRules: ['trim\u0000'] } }),
    400,
    'alignment.idRules.0 contains a NUL byte',
  ),
  post('an unknown property', job({ owner: 'me' }), 400, 'property owner should not exist'),
  post(
    'the label party without a label column',
    withBank({ path: 'bank.csv' }),
    400,
    'parties.0.data.labelColumn: required for the label party',
  ),
  post(
    'a feature party with a label column',
    job({ parties: [bank, { ...shop, data: { path: 'e.csv', labelColumn: 'y' } }] }),
    400,
    'a feature party holds no labels',
  ),
  post(
    'two label parties',
    job({ parties: [bank, { ...bank, partyId: 'ecommerce' }] }),
    400,
    'exactly one party must have role "label"',
  ),
  post('an unknown party', job({ parties: [bank, { ...shop, partyId: 'mallory' }] }), 400, 'unknown party "mallory"'),
  post('a party listed twice', job({ parties: [bank, shop, shop] }), 400, '"ecommerce" is listed twice'),
  post('zero epochs', job({ hyperparameters: { epochs: 0 } }), 400, 'hyperparameters.epochs must not be less than 1'),
  post('epochs as text', job({ hyperparameters: { epochs: 'ten' } }), 400, 'hyperparameters.epochs must be an integer'),
  post(
    'a batch of 16 rows',
    job({ hyperparameters: { batchSize: 16 } }),
    400,
    'hyperparameters.batchSize must not be less than 32',
  ),
  post('a negative learning rate', job({ hyperparameters: { learningRate: -1 } }), 400, 'hyperparameters.learningRate'),
  post('an unknown optimizer', job({ hyperparameters: { optimizer: 'lbfgs' } }), 400, 'hyperparameters.optimizer'),
  post(
    'a validation fraction of 1',
    job({ hyperparameters: { validationFraction: 1 } }),
    400,
    'hyperparameters.validationFraction',
  ),
  post('hyperparameters as an array', job({ hyperparameters: [1] }), 400, 'hyperparameters', 'must be either object'),
  post(
    'row weights with the cubic sigmoid',
    job({ hyperparameters: { sigmoid: 'cubic', positiveWeight: 2 } }),
    400,
    'hyperparameters.positiveWeight: row weights work with the taylor sigmoid only',
  ),
  post(
    'an unknown early-stopping metric',
    job({ hyperparameters: { earlyStopping: { metric: 'f1', patience: 2 } } }),
    400,
    'hyperparameters.earlyStopping.metric',
  ),
  post(
    'an unknown ID rule',
    job({ alignment: { idRules: ['soundex'] } }),
    400,
    'alignment.idRules entries must be one of',
  ),
  post(
    'seventeen ID rules',
    job({ alignment: { idRules: Array(17).fill('trim') } }),
    400,
    'alignment.idRules must contain no more than 16',
  ),
  post('alignment as a string', job({ alignment: 'unbalanced' }), 400, 'alignment must be an object'),
  post(
    'a small party without unbalanced mode',
    job({ alignment: { smallParty: 'bank' } }),
    400,
    'alignment.smallParty: only for alignment.mode "unbalanced"',
  ),
  post(
    'unbalanced mode for a cardinality check',
    job({ model: 'psi-cardinality', alignment: { mode: 'unbalanced' } }),
    400,
    'a psi-cardinality check runs in balanced mode',
  ),
  post(
    'an architecture on a split-LR job',
    job({ nn: { architecture: arch() } }),
    400,
    'nn: only a split-nn job takes an architecture',
  ),
  post('a split-NN job without an architecture', job({ model: 'split-nn' }), 400, 'a split-nn job needs an "nn" block'),
  post(
    'a layer of 100,000 units',
    job({ model: 'split-nn', nn: { architecture: arch({ bottom: [{ units: 100000, activation: 'relu' }] }) } }),
    400,
    'nn.architecture.bottom[0].units',
  ),
  post(
    'an unknown defence',
    job({ model: 'split-nn', nn: { architecture: arch(), defence: { kind: 'magic' } } }),
    400,
    'nn.defence',
  ),
  {
    name: 'nn nested 3,000 levels',
    path: '/jobs',
    raw: `{"model":"split-nn","parties":[],"nn":${nested(3000)}}`,
    status: 400,
    words: ['nn.a.a.…', 'is nested more than 32 levels deep'],
  },
  {
    name: 'nn nested 50,000 levels',
    path: '/jobs',
    raw: `{"model":"split-nn","parties":[],"nn":${nested(50000)}}`,
    status: 400,
    words: ['is nested more than 32 levels deep'],
  },
  {
    name: 'parties nested 40 arrays deep',
    path: '/jobs',
    raw: `{"model":"split-lr","parties":${'['.repeat(40)}${']'.repeat(40)}}`,
    status: 400,
    words: ['parties.0.0.…', 'is nested more than 32 levels deep'],
  },
  {
    name: 'a text/plain body',
    path: '/jobs',
    raw: JSON.stringify(job()),
    contentType: 'text/plain',
    status: 415,
    words: ['content type text/plain is not supported', 'application/json'],
  },
  {
    name: 'a form body',
    path: '/jobs',
    raw: 'model=split-lr&parties=bank',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    words: ['content type application/x-www-form-urlencoded is not supported'],
  },
  {
    name: 'a body without a content type',
    path: '/jobs',
    raw: JSON.stringify(job()),
    contentType: '',
    status: 415,
    words: ['no content type'],
  },
  {
    name: 'a content type that is not a media type',
    path: '/jobs',
    raw: '{}',
    contentType: `${SECRET} ;;`,
    status: 415,
    words: ['the content type is not a media type'],
  },
  {
    name: 'malformed JSON quoting a secret',
    path: '/jobs',
    raw: `{"model": ${SECRET}}`,
    status: 400,
    words: ['the body is not valid JSON'],
  },
  {
    name: 'a JSON string for a body',
    path: '/jobs',
    raw: `"${SECRET}"`,
    status: 400,
    words: ['the body is not valid JSON'],
  },
  {
    name: 'a body over 8 MB',
    path: '/jobs',
    raw: `{"model":"${'x'.repeat(9_000_000)}"}`,
    status: 413,
    words: ['larger than the 8 MB limit'],
  },
  {
    name: 'a job list with limit 0',
    method: 'GET',
    path: '/jobs?limit=0',
    status: 400,
    words: ['limit must not be less than 1'],
  },
  {
    name: 'a job list by an unknown state',
    method: 'GET',
    path: '/jobs?state=exploded',
    status: 400,
    words: ['state must be one of'],
  },
  {
    name: 'a job list with a NUL byte in a query',
    method: 'GET',
    path: '/jobs?state=queued%00',
    status: 400,
    words: ['state must be one of'],
  },
  { name: 'a malformed job id', method: 'GET', path: `/jobs/${SECRET}`, status: 400, words: ['uuid is expected'] },
  {
    name: 'an unknown job',
    method: 'GET',
    path: '/jobs/00000000-0000-4000-8000-000000000000',
    status: 404,
    words: ['does not exist'],
  },
  {
    name: 'cancelling an unknown job',
    path: '/jobs/00000000-0000-4000-8000-000000000000/cancel',
    status: 404,
    words: ['does not exist'],
  },
  {
    name: 'audit events with a malformed offset',
    method: 'GET',
    path: '/audit/events?offset=-3',
    status: 400,
    words: ['offset must not be less than 0'],
  },
  { name: 'no API key', method: 'GET', path: '/jobs', auth: 'none', status: 401, words: ['API key'] },
  { name: 'a forged API key', method: 'GET', path: '/jobs', auth: 'bogus', status: 401, words: ['API key'] },
  {
    name: 'an API key with an unknown role',
    path: '/api-keys',
    body: { name: 'x', role: 'root' },
    status: 400,
    words: ['role must be one of'],
  },
  {
    name: 'an API key whose name holds a NUL byte',
    path: '/api-keys',
    body: { name: 'ops\u0000', role: 'auditor' },
    status: 400,
    words: ['name contains a NUL byte'],
  },
];
