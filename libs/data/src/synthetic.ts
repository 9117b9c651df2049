/**
 * Seeded synthetic data for the demo: a bank (credit features + `default`
 * label) and an e-commerce platform (shopping behaviour) that share part of
 * their customers, keyed by mobile-number-shaped IDs. Default risk depends on
 * latent factors from BOTH sides, so the joint (vertical) model beats the
 * bank-only model — the point of vertical federated learning.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SeededRandom } from './seeded-random';

/** Generator settings; all optional. */
export interface SyntheticOptions {
  /** PRNG seed, default 7. */
  seed?: number;
  /** Rows in bank.csv, default 10000. */
  bankRows?: number;
  /** Rows in ecommerce.csv, default 10000. */
  ecommerceRows?: number;
  /** Fraction of bank ids also present at the e-commerce party, default 0.7. */
  overlap?: number;
}

/** The two generated CSV files (header + rows, `\n` line ends) and the size of their ID intersection. */
export interface SyntheticTables {
  bankCsv: string;
  ecommerceCsv: string;
  sharedIds: number;
}

/** Label column of bank.csv. */
export const BANK_LABEL_COLUMN = 'default';
/** Header of bank.csv. */
export const BANK_COLUMNS: readonly string[] = [
  'id',
  BANK_LABEL_COLUMN,
  'income',
  'credit_limit',
  'utilisation',
  'past_delinquencies',
  'age',
  'tenure_months',
  'num_cards',
  'debt_to_income',
];
/** Header of ecommerce.csv. */
export const ECOMMERCE_COLUMNS: readonly string[] = [
  'id',
  'order_frequency',
  'avg_basket',
  'return_ratio',
  'instalment_use',
  'night_orders',
  'category_entropy',
  'days_since_last',
  'voucher_use',
];

const DEFAULTS = { seed: 7, bankRows: 10_000, ecommerceRows: 10_000, overlap: 0.7 } as const;
const MAX_ROWS = 10_000_000;
const POSITIVE_RATE = 0.2;

/**
 * Weights of the default model on standard-normal latent factors. Bank-side
 * and e-commerce-side signals are of similar strength, which puts a logistic
 * model at AUC ≈ 0.70 on bank features alone and ≈ 0.80 on both.
 */
const BANK_WEIGHTS = { utilisation: 0.5, delinquency: 0.4, debtToIncome: 0.45 } as const;
const ECOMMERCE_WEIGHTS = { returns: 0.35, instalments: 0.45, nightOrders: 0.35, dormancy: 0.3 } as const;

/** One generated customer: formatted feature cells plus the (bank-relevant) risk score. */
interface Customer {
  bankCells: string[]; // without id and label
  ecommerceCells: string[]; // without id
  riskScore: number; // linear predictor without intercept
}

/**
 * Generate the bank and e-commerce CSVs in memory. Deterministic for a given seed.
 *
 * @throws {RangeError} on invalid row counts / overlap, or when the shared IDs
 *   (round(overlap * bankRows)) would not fit in `ecommerceRows`
 */
export function generateSyntheticVfl(options: SyntheticOptions = {}): SyntheticTables {
  const seed = options.seed ?? DEFAULTS.seed;
  const bankRows = rowCount(options.bankRows ?? DEFAULTS.bankRows, 'bankRows');
  const ecommerceRows = rowCount(options.ecommerceRows ?? DEFAULTS.ecommerceRows, 'ecommerceRows');
  const overlap = options.overlap ?? DEFAULTS.overlap;
  if (!(overlap >= 0 && overlap <= 1)) {
    throw new RangeError(`overlap must be in [0, 1], got ${overlap}`);
  }
  const sharedIds = Math.round(overlap * bankRows);
  if (sharedIds > ecommerceRows) {
    throw new RangeError(`overlap * bankRows = ${sharedIds} shared ids do not fit in ecommerceRows = ${ecommerceRows}`);
  }

  const rng = new SeededRandom(seed);
  const bankCustomers = Array.from({ length: bankRows }, () => makeCustomer(rng));
  const ecommerceOnly = Array.from({ length: ecommerceRows - sharedIds }, () => makeCustomer(rng));
  const ids = uniqueMobileNumbers(rng, bankRows + ecommerceOnly.length);

  const intercept = calibrateIntercept(
    bankCustomers.map((c) => c.riskScore),
    POSITIVE_RATE,
  );
  const bankLines = bankCustomers.map((c, i) => {
    const label = rng.next() < sigmoid(intercept + c.riskScore) ? '1' : '0';
    return [ids[i], label, ...c.bankCells].join(',');
  });

  const sharedRows = rng.shuffle(Array.from({ length: bankRows }, (_, i) => i)).slice(0, sharedIds);
  const ecommerceLines = [
    ...sharedRows.map((i) => [ids[i], ...bankCustomers[i].ecommerceCells].join(',')),
    ...ecommerceOnly.map((c, k) => [ids[bankRows + k], ...c.ecommerceCells].join(',')),
  ];
  rng.shuffle(ecommerceLines);

  return {
    bankCsv: toCsv(BANK_COLUMNS, bankLines),
    ecommerceCsv: toCsv(ECOMMERCE_COLUMNS, ecommerceLines),
    sharedIds,
  };
}

/**
 * Generate and write `bank.csv` and `ecommerce.csv` into `dir` (created if needed).
 *
 * @returns absolute paths of both files and the number of shared IDs
 * @throws {RangeError} see {@link generateSyntheticVfl}; file-system errors propagate
 */
export async function writeSyntheticVfl(
  dir: string,
  options: SyntheticOptions = {},
): Promise<{ bankPath: string; ecommercePath: string; sharedIds: number }> {
  const tables = generateSyntheticVfl(options);
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const bankPath = join(root, 'bank.csv');
  const ecommercePath = join(root, 'ecommerce.csv');
  await writeFile(bankPath, tables.bankCsv, 'utf8');
  await writeFile(ecommercePath, tables.ecommerceCsv, 'utf8');
  return { bankPath, ecommercePath, sharedIds: tables.sharedIds };
}

// ---------------------------------------------------------------------------

function rowCount(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_ROWS) {
    throw new RangeError(`${name} must be an integer in [1, ${MAX_ROWS}], got ${value}`);
  }
  return value;
}

/** Draw one customer's latent factors and both parties' view of them. */
function makeCustomer(rng: SeededRandom): Customer {
  const wealth = rng.normal();
  const financialStress = -0.3 * wealth + Math.sqrt(1 - 0.09) * rng.normal();
  const shoppingRisk = rng.normal();
  const engagement = rng.normal();
  // Standard-normal latent per risk feature: 60% shared factor, rest idiosyncratic.
  const facet = (factor: number): number => 0.6 * factor + 0.8 * rng.normal();

  const uUtilisation = facet(financialStress);
  const uDelinquency = facet(financialStress);
  const uDebtToIncome = facet(financialStress);
  const uReturns = facet(shoppingRisk);
  const uInstalments = facet(shoppingRisk);
  const uNight = facet(shoppingRisk);
  const uDormancy = facet(shoppingRisk);

  const age = clamp(Math.round(40 + 11 * rng.normal()), 21, 70);
  const income = Math.exp(11.3 + 0.5 * wealth + 0.008 * (age - 40) + 0.15 * rng.normal());
  const creditLimit = Math.round((income * 0.3 * Math.exp(0.3 * rng.normal())) / 100) * 100;
  const tenureMonths = Math.max(1, Math.round(rng.next() * (age - 18) * 12));
  const numCards = clamp(1 + poisson(rng, Math.exp(0.5 + 0.25 * wealth)), 1, 12);
  const bankCells = [
    fmt(income, 2),
    fmt(creditLimit, 0),
    fmt(sigmoid(-0.6 + 1.1 * uUtilisation), 4),
    fmt(poisson(rng, Math.exp(-1.4 + 0.9 * uDelinquency)), 0),
    fmt(age, 0),
    fmt(tenureMonths, 0),
    fmt(numCards, 0),
    fmt(sigmoid(-1.2 + 0.9 * uDebtToIncome), 4),
  ];

  const orders = poisson(rng, Math.exp(1.8 + 0.2 * wealth + 0.4 * engagement));
  const nightShare = sigmoid(-1.6 + 1.0 * uNight);
  const ecommerceCells = [
    fmt(orders, 0),
    fmt(Math.exp(5.0 + 0.35 * wealth + 0.3 * rng.normal()), 2),
    fmt(sigmoid(-2.0 + 0.9 * uReturns), 4),
    fmt(sigmoid(-1.5 + 1.2 * uInstalments), 4),
    fmt(binomial(rng, orders, nightShare), 0),
    fmt(3 * sigmoid(0.5 + 0.5 * engagement + 0.5 * rng.normal()), 4),
    fmt(clamp(Math.round(Math.exp(2.5 - 0.4 * engagement + 0.6 * uDormancy)), 0, 365), 0),
    fmt(sigmoid(-0.5 + 0.3 * uInstalments + 0.6 * rng.normal()), 4),
  ];

  const riskScore =
    BANK_WEIGHTS.utilisation * uUtilisation +
    BANK_WEIGHTS.delinquency * uDelinquency +
    BANK_WEIGHTS.debtToIncome * uDebtToIncome +
    ECOMMERCE_WEIGHTS.returns * uReturns +
    ECOMMERCE_WEIGHTS.instalments * uInstalments +
    ECOMMERCE_WEIGHTS.nightOrders * uNight +
    ECOMMERCE_WEIGHTS.dormancy * uDormancy;
  return { bankCells, ecommerceCells, riskScore };
}

/** `count` distinct Chinese-mobile-shaped IDs: "1", a digit 3..9, then 9 digits. */
function uniqueMobileNumbers(rng: SeededRandom, count: number): string[] {
  const seen = new Set<string>();
  while (seen.size < count) {
    const second = 3 + rng.nextInt(7);
    const rest = rng.nextInt(1_000_000_000).toString().padStart(9, '0');
    seen.add(`1${second}${rest}`);
  }
  return [...seen];
}

/** Intercept a such that mean(sigmoid(a + score)) equals `rate` (bisection). */
function calibrateIntercept(scores: number[], rate: number): number {
  let low = -20;
  let high = 20;
  for (let iter = 0; iter < 60; iter++) {
    const mid = (low + high) / 2;
    let sum = 0;
    for (const s of scores) sum += sigmoid(mid + s);
    if (sum / scores.length < rate) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

function poisson(rng: SeededRandom, mean: number): number {
  // Knuth's method; means here are small (< ~30).
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

function binomial(rng: SeededRandom, trials: number, p: number): number {
  let hits = 0;
  for (let i = 0; i < trials; i++) if (rng.next() < p) hits++;
  return hits;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}

/** At most `decimals` (≤ 4) decimals, trailing zeros dropped, never "-0". */
function fmt(x: number, decimals: number): string {
  const rounded = Number(x.toFixed(decimals));
  return rounded === 0 ? '0' : String(rounded);
}

function toCsv(header: readonly string[], lines: string[]): string {
  return `${header.join(',')}\n${lines.join('\n')}\n`;
}

/**
 * Benchmark-shaped data of any width (FATE's performance shape is 100k rows, 30 + 300 columns):
 * Gaussian features, a label drawn from a logistic model over a few columns of each party, all
 * IDs shared. Streams to disk so 100k × 300 never sits in memory as one string.
 */
export async function writeWideSynthetic(
  dir: string,
  options: { rows: number; labelColumns: number; hostColumns: number; seed?: number },
): Promise<{ guestPath: string; hostPath: string }> {
  const rows = rowCount(options.rows, 'rows');
  for (const [name, v] of [
    ['labelColumns', options.labelColumns],
    ['hostColumns', options.hostColumns],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 4096)
      throw new RangeError(`${name} must be an integer in [1, 4096], got ${v}`);
  }
  const rng = new SeededRandom(options.seed ?? 7);
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const guestPath = join(root, 'wide_guest.csv');
  const hostPath = join(root, 'wide_host.csv');
  const guest = createWriteStream(guestPath);
  const host = createWriteStream(hostPath);
  const write = (s: NodeJS.WritableStream, text: string) =>
    s.write(text) ? Promise.resolve() : new Promise<void>((r) => s.once('drain', () => r()));
  await write(guest, ['id', 'y', ...Array.from({ length: options.labelColumns }, (_, j) => `x${j}`)].join(',') + '\n');
  await write(host, ['id', ...Array.from({ length: options.hostColumns }, (_, j) => `x${j}`)].join(',') + '\n');
  for (let i = 0; i < rows; i++) {
    const g = Array.from({ length: options.labelColumns }, () => rng.normal());
    const h = Array.from({ length: options.hostColumns }, () => rng.normal());
    const logit = -1.2 + 0.8 * g[0] - 0.5 * (g[1] ?? 0) + 0.7 * h[0] + 0.4 * (h[1] ?? 0);
    const y = rng.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    const id = `w${String(i).padStart(8, '0')}`;
    await write(guest, `${id},${y},${g.map((v) => v.toFixed(4)).join(',')}\n`);
    await write(host, `${id},${h.map((v) => v.toFixed(4)).join(',')}\n`);
  }
  await Promise.all(
    [guest, host].map((s) => new Promise<void>((r, reject) => s.end((e?: Error | null) => (e ? reject(e) : r())))),
  );
  return { guestPath, hostPath };
}
