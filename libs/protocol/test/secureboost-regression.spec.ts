/**
 * SecureBoost on a continuous target (objective regression, squared error), end to end in one
 * process with real BFV, PSI and parties: a loss-amount table (amounts 0..50,000, generated from a
 * seed: the label party's age and tenure, a feature party's spend and returns) grows the plaintext
 * reference's trees node for node, reports RMSE, MAE and R² (per tree, for the label party alone,
 * and at the end), predicts values, and keeps the amounts off the wire. The packing's precision
 * follows each tree's residuals: the unit cases show what an offset and a wide target cost.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadPartyTable, SeededRandom } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS, regressionMetrics } from '@vfl/ml';
import {
  gradientPacking,
  isSecureBoostRegressionResult,
  jobSecureBoostSettings,
  labelPartyPrecision,
  pooledSecureBoostReference,
  runInProcessJob,
  SecureBoostRegressionResult,
  SplitLrPrediction,
} from '../src';
import type { InProcessFederation, StoredCheckpoint } from '../src';
import { SecureBoostLabel } from '../src/secureboost/label-party';
import { treeShape } from './tree-shape';
import { WireScanner } from './wire-scanner';

const ROWS = 360;
const input = { trees: 4, maxDepth: 3, learningRate: 0.3, seed: 3, earlyStopping: { patience: 2 } };
const settings = jobSecureBoostSettings(input, 'regression');

/** Claims: the amount grows with age and the shop's spend and returns, with noise; clipped to 0..50,000. */
function writeClaims(dir: string): Float64Array {
  const random = new SeededRandom(21);
  const guest = ['id,y,age,tenure'];
  const host = ['id,spend,visits,returns'];
  const amounts = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const id = `C${String(i).padStart(4, '0')}`;
    const age = 20 + Math.floor(random.next() * 50);
    const tenure = Math.floor(random.next() * 30);
    const spend = Math.round(random.next() * 4000);
    const visits = Math.floor(random.next() * 40);
    const returns = Math.floor(random.next() * 5);
    const noise = (random.next() + random.next() + random.next() - 1.5) * 6000;
    const raw = 4000 + 250 * (age - 20) + 6 * spend + 3500 * returns - 150 * tenure + noise;
    amounts[i] = Math.round(Math.min(50_000, Math.max(0, raw)) * 100) / 100;
    guest.push(`${id},${amounts[i]},${age},${tenure}`);
    host.push(`${id},${spend},${visits},${returns}`);
  }
  fs.writeFileSync(path.join(dir, 'claims.csv'), guest.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'shop.csv'), host.join('\n') + '\n');
  return amounts;
}

describe('SecureBoost regression (squared error) on amounts 0..50,000', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-sb-reg-'));
  let federation: InProcessFederation;
  let result: SecureBoostRegressionResult;
  let label: SecureBoostLabel;
  let amounts: Float64Array;
  const checkpoints = new Map<string, StoredCheckpoint>();
  const job = {
    model: 'secureboost',
    objective: 'regression' as const,
    secureboost: input,
    hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
    ckksThreads: 0,
    checkpoints,
    label: { partyId: 'insurer', file: 'claims.csv', labelColumn: 'y' },
    features: [{ partyId: 'shop', file: 'shop.csv' }],
  };

  beforeAll(async () => {
    amounts = writeClaims(dir);
    const begin = jest.spyOn(SecureBoostLabel.prototype, 'beginTree');
    try {
      const run = await runInProcessJob({ ...job, dataRoot: dir, record: true });
      label = begin.mock.contexts[0] as SecureBoostLabel;
      if (!isSecureBoostRegressionResult(run.result)) throw new Error('not a secureboost regression result');
      federation = run.federation;
      result = run.result;
    } finally {
      begin.mockRestore();
    }
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('grows the plaintext reference trees node for node: the same predictions, ΔR² = 0', async () => {
    const tables = await Promise.all([
      loadPartyTable(path.join(dir, 'claims.csv'), { labelColumn: 'y', objective: 'regression' }),
      loadPartyTable(path.join(dir, 'shop.csv')),
    ]);
    const reference = await pooledSecureBoostReference(tables, settings);
    const { train, validation } = label.booster;
    expect(reference.split).toEqual({ train, validation });
    expect(treeShape(label.booster.trees)).toEqual(treeShape(reference.trees));
    expect(label.booster.predictions(validation)).toEqual(reference.validation);
    const targets = Float64Array.from(validation, (r) => reference.labels[r]);
    const plain = regressionMetrics(reference.validation, targets);
    expect(Math.abs(result.validation.objective === 'regression' ? result.validation.r2 - plain.r2 : NaN)).toBe(0);
    // The shop's features split too, so the encrypted histograms decided splits.
    const blocks = new Set(label.booster.trees.flatMap((t) => t.filter((n) => n.split).map((n) => n.split!.block)));
    expect(blocks.has(1)).toBe(true);
    // The precision follows the residuals: at least as fine after the last tree as for the first.
    const first = labelPartyPrecision(settings, reference.labels, train, 58).fractionBits;
    expect(label.booster.fractionBits).toBeGreaterThanOrEqual(first);
  });

  it('reports RMSE, MAE and R² per tree, for the label party alone and at the end; predicts values', async () => {
    expect(result).toMatchObject({ model: 'secureboost', objective: 'regression', intersection: ROWS, trees: 4 });
    for (const m of [result.train, result.validation, result.labelOnly.train, result.labelOnly.validation])
      expect(m).toEqual({
        objective: 'regression',
        rows: expect.any(Number),
        rmse: expect.any(Number),
        mae: expect.any(Number),
        r2: expect.any(Number),
        loss: expect.any(Number),
      });
    if (result.validation.objective !== 'regression' || result.labelOnly.validation.objective !== 'regression')
      throw new Error('not regression metrics');
    expect(result.validation.r2).toBeGreaterThan(0.5);
    // The shop's spend and returns lift R² over the insurer's own trees.
    expect(result.validation.r2).toBeGreaterThan(result.labelOnly.validation.r2 + 0.1);
    expect(result.epochs.map((e) => e.validation.objective)).toEqual(Array(4).fill('regression'));
    expect(result.epochs.at(-1)!.validationLoss).toBeCloseTo(result.validation.loss, 6);
    expect(result.manifest.objective).toBe('regression');
    // Early stopping watches the validation loss (MSE), which every tree lowers here.
    expect(result.earlyStopping).toEqual({ metric: 'loss', bestEpoch: 4, stoppedAtEpoch: 4, stoppedEarly: false });
    expect(result.keptTrees).toBe(4);

    const ids = ['C0003', 'C0100', 'C0299'];
    const prediction = await new SplitLrPrediction(
      {
        predictionId: randomUUID(),
        modelJobId: result.manifest.jobId,
        parties: [
          { partyId: 'insurer', role: 'label' },
          { partyId: 'shop', role: 'feature' },
        ],
        manifest: result.manifest,
        ids,
      },
      federation.channels,
      async () => undefined,
    ).run();
    expect(prediction.objective).toBe('regression');
    for (const s of prediction.scores) {
      expect(s.value).toBe(s.score);
      expect(s.value).toBeGreaterThan(0);
      expect(s.value).toBeLessThan(50_000);
    }
  });

  it('resumes from its checkpoint after tree 3 as a regression job, to the same last tree', async () => {
    const begin = jest.spyOn(SecureBoostLabel.prototype, 'beginTree');
    try {
      const { result: resumed } = await runInProcessJob({
        ...job,
        dataRoot: dir,
        settings: { resume: { fromJobId: result.manifest.jobId, epoch: 3 } },
      });
      const trees = (begin.mock.contexts[0] as SecureBoostLabel).booster.trees;
      expect(treeShape(trees)).toEqual(treeShape(label.booster.trees));
      if (!isSecureBoostRegressionResult(resumed)) throw new Error('not a secureboost regression result');
      expect(resumed.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
      expect(resumed.validation).toEqual(result.validation);
      expect(resumed.manifest.objective).toBe('regression');
    } finally {
      begin.mockRestore();
    }
  }, 60_000);

  it('refuses a target column that is not numeric, as the data check reads it for split LR', async () => {
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    const lines = fs.readFileSync(path.join(dir, 'claims.csv'), 'utf8').trim().split('\n');
    const texts = lines.map((l, i) => (i === 5 ? l.replace(/^([^,]+),[^,]+/, '$1,high') : l));
    fs.writeFileSync(path.join(bad, 'claims.csv'), texts.join('\n') + '\n');
    fs.copyFileSync(path.join(dir, 'shop.csv'), path.join(bad, 'shop.csv'));
    const refused = await runInProcessJob({ ...job, dataRoot: bad }).then(
      () => 'trained',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(
      /model secureboost takes a numeric target; the column has \d+ distinct values, not all numbers/,
    );
    expect(refused).not.toContain('high');
  });

  it('keeps the amounts off the wire', () => {
    // Amounts with cents: no coincidence with a count, a size or the zero bytes of padding.
    const planted = Array.from(amounts).filter((a) => !Number.isInteger(a));
    expect(planted.length).toBeGreaterThan(ROWS / 2);
    const scan = new WireScanner(federation.wire);
    expect(scan.float64(planted).length).toBe(0);
    expect(scan.tokens(planted.map(String)).length).toBe(0);
  });
});

describe('SecureBoost squared-error packing', () => {
  const amounts = (n: number, offset = 0) => {
    const random = new SeededRandom(5);
    return Float64Array.from({ length: n }, () => offset + Math.round(random.next() * 50_000));
  };
  const rows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const sq = { objective: 'reg:squarederror' as const };

  it('bounds each tree by its residuals: an offset costs nothing, 10,000 rows of amounts pack', () => {
    const plain = labelPartyPrecision(sq, amounts(1000), rows(1000), 58);
    expect(labelPartyPrecision(sq, amounts(1000, 1e6), rows(1000), 58).fractionBits).toBe(plain.fractionBits);
    // The job-wide bound 2·max|y| + 1 left 10,000 rows of amounts under 6 bits (refused); the
    // residuals leave a step of at most 1/32 against a mean residual of 12,500.
    expect(() => gradientPacking(58, 10_000, 2 * 50_000 + 1, 1)).toThrow('fewer than 6 bits');
    const wide = labelPartyPrecision(sq, amounts(10_000), rows(10_000), 58);
    expect(wide.fractionBits).toBeGreaterThanOrEqual(5);
    // A tree of smaller residuals gets a finer fixed point.
    const g = Float64Array.from({ length: 1000 }, (_, i) => (i % 2 ? 50 : -50));
    expect(plain.treeFractionBits!(g, new Float64Array(1000).fill(1))).toBeGreaterThan(plain.fractionBits);
  });

  it('refuses a target it cannot pack, with a clear message (never NaN)', () => {
    expect(() =>
      labelPartyPrecision(
        sq,
        amounts(5000).map((v) => v * 1e12),
        rows(5000),
        58,
      ),
    ).toThrow('the regression target does not pack');
    const packing = labelPartyPrecision(sq, amounts(100), rows(100), 58);
    expect(() => packing.treeFractionBits!(Float64Array.of(Infinity), Float64Array.of(1))).toThrow(
      'the regression target does not pack',
    );
  });

  it('refuses a secureboost.objective that contradicts the job objective, and a positive weight, naming the fields', () => {
    expect(() => jobSecureBoostSettings({ objective: 'binary:logistic' }, 'regression')).toThrow(
      'secureboost.objective: "binary:logistic" contradicts objective "regression"',
    );
    expect(() => jobSecureBoostSettings({ objective: 'reg:squarederror' }, undefined)).toThrow(
      'secureboost.objective: "reg:squarederror" contradicts objective "binary"',
    );
    expect(() => jobSecureBoostSettings({ positiveWeight: 2 }, 'regression')).toThrow(
      'secureboost.positiveWeight: weights the positive class of a binary label, not a regression target',
    );
    expect(jobSecureBoostSettings({}, 'regression').objective).toBe('reg:squarederror');
    expect(jobSecureBoostSettings({}, 'binary').objective).toBe('binary:logistic');
  });
});
