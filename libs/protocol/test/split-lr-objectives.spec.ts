/**
 * Split LR beyond a binary label, end to end in one process with real CKKS, PSI and parties, on
 * the diabetes fixtures (test/fixtures/objectives: 437 rows each side, label party age, sex, bmi,
 * bp; feature party six serum measurements): linear regression of the progression score, and
 * the progression quartile as 4 classes (one-vs-rest). Each is compared with the same algorithm on
 * the pooled rows in plaintext, and the recorded traffic is scanned for targets, features and
 * unmasked gradients.
 */
import * as path from 'node:path';
import { loadPartyTable } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters, LrOptimizer } from '@vfl/ml';
import { EcdhPsiSession, PsiResult } from '../src/psi/ecdh-psi';
import { randomUUID } from 'node:crypto';
import { runInProcessJob, SplitLrPrediction, TargetJobResult } from '../src';
import type { InProcessFederation } from '../src';
import { plaintextMulticlassReference, plaintextRegressionReference } from '../src/plaintext-reference';
import { MaskedDecryptionService } from '../src/split-lr/masked-decryption';
import { WireScanner } from './wire-scanner';

const DATA = path.resolve(__dirname, '../../../test/fixtures/objectives');
const HOST = 'diabetes_host.csv';
const hp: LrHyperparameters = {
  ...DEFAULT_LR_HYPERPARAMETERS,
  epochs: 3,
  batchSize: 64,
  learningRate: 0.05,
  validationFraction: 0.2,
  seed: 11,
};

interface Run {
  federation: InProcessFederation;
  result: TargetJobResult;
  applied: Float64Array[];
  lastRelease: Float64Array;
  psi: PsiResult[];
}

/** Scores `ids` with the job's model through the prediction protocol. */
function predict(r: Run, ids: string[]) {
  return new SplitLrPrediction(
    {
      predictionId: randomUUID(),
      modelJobId: r.result.manifest.jobId,
      parties: [
        { partyId: 'bank', role: 'label' },
        { partyId: 'ecommerce', role: 'feature' },
      ],
      manifest: r.result.manifest,
      ids,
    },
    r.federation.channels,
    async () => undefined,
  ).run();
}

async function run(guest: string, objective: 'regression' | 'multiclass'): Promise<Run> {
  const apply = jest.spyOn(LrOptimizer.prototype, 'apply');
  const released = jest.spyOn(MaskedDecryptionService.prototype, 'decrypt');
  const finish = jest.spyOn(EcdhPsiSession.prototype, 'finish');
  try {
    const { federation, result } = await runInProcessJob({
      dataRoot: DATA,
      hyperparameters: hp,
      objective,
      record: true,
      ckksThreads: 0,
      label: { partyId: 'bank', file: guest, labelColumn: 'y' },
      features: [{ partyId: 'ecommerce', file: HOST }],
    });
    const applied = apply.mock.calls.map((c) => Float64Array.from(c[1]));
    const lastRelease = await (released.mock.results.at(-1)!.value as Promise<Float64Array>);
    const psi = await Promise.all(finish.mock.results.map((r) => r.value as Promise<PsiResult>));
    return { federation, result: result as TargetJobResult, applied, lastRelease, psi };
  } finally {
    for (const spy of [apply, released, finish]) spy.mockRestore();
  }
}

/** What no message may carry: the guest's targets (as float64 and as text), every raw cell, every unmasked gradient. */
async function expectNothingPlainOnTheWire(r: Run, guest: string): Promise<void> {
  const g = await loadPartyTable(path.join(DATA, guest), { labelColumn: 'y', objective: r.result.objective });
  const h = await loadPartyTable(path.join(DATA, HOST));
  const scan = new WireScanner(r.federation.wire);
  // Positive control: the masked releases cross in plaintext and the scanner finds them.
  expect(scan.float64(r.lastRelease).length).toBeGreaterThan(0);
  const order = r.psi[0].sharedIds;
  const index = new Map(g.ids.map((id, i) => [id, i]));
  const y = Float64Array.from(order, (id) => g.targets![index.get(id)!]);
  // Targets in order, in runs of 24: as float64, as bytes (class numbers) and as text.
  for (let start = 0; start + 24 <= y.length; start += 24) {
    const run = y.subarray(start, start + 24);
    expect(scan.bytes(Buffer.from(run.buffer, run.byteOffset, run.byteLength)).length).toBe(0);
    expect(scan.bytes(Uint8Array.from(run)).length).toBe(0);
    expect(scan.bytes(Buffer.from(Array.from(run).join(','))).length).toBe(0);
  }
  // Single values: the fractional ones. A whole number's float64 (30.0 is 40 3E and six zero bytes)
  // turns up in zero-padded ciphertext bytes; whole-number targets are covered by the runs above.
  const cells = [...g.features, ...h.features, ...(r.result.objective === 'regression' ? y : [])].filter(
    (v) => !Number.isInteger(v),
  );
  expect(cells.length).toBeGreaterThan(500);
  // Hits are named by value and message kind (a failure must not print whole messages).
  const named = <T extends { message: { kind: string } }>(hits: T[]) =>
    hits.map((h) => ({ ...h, message: h.message.kind }));
  expect(named(scan.float64(cells))).toEqual([]);
  // As text, those of 6 characters or more: a shorter number ("4.7") turns up in a megabyte of ciphertext bytes by chance.
  const texts = cells.map(String).filter((t) => t.length >= 6);
  expect(texts.length).toBeGreaterThan(100);
  expect(named(scan.tokens(texts))).toEqual([]);
  expect(r.applied.length).toBeGreaterThan(0);
  expect(named(scan.float64(r.applied.flatMap((a) => Array.from(a))))).toEqual([]);
}

describe('split LR, objective regression (linear regression under CKKS)', () => {
  const GUEST = 'diabetes_guest.csv';
  let r: Run;
  beforeAll(async () => {
    r = await run(GUEST, 'regression');
  }, 300_000);

  it('trains weights equal to plaintext linear regression on the pooled rows within 1e-3', async () => {
    const reference = await plaintextRegressionReference(path.join(DATA, GUEST), path.join(DATA, HOST), hp);
    const federated = [...r.federation.models.get('bank')!.weights, ...r.federation.models.get('ecommerce')!.weights];
    expect(federated).toHaveLength(reference.weights.length);
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference.weights[j])))).toBeLessThan(1e-3);
    expect(r.result.validation.objective).toBe('regression');
    if (r.result.validation.objective !== 'regression' || r.result.train.objective !== 'regression') return;
    expect(Math.abs(r.result.validation.rmse - reference.validation.rmse)).toBeLessThan(0.05);
    expect(Math.abs(r.result.train.r2 - reference.train.r2)).toBeLessThan(1e-3);
  });

  it('reports RMSE, MAE and R² in the target units, with a sensible fit and the label party alone beside it', () => {
    const { train, validation, labelOnly } = r.result;
    if (validation.objective !== 'regression' || train.objective !== 'regression') throw new Error('not regression');
    expect(r.result.intersection).toBe(432);
    expect(train.r2).toBeGreaterThan(0.35); // linear models reach about 0.5 on diabetes
    expect(validation.rmse).toBeGreaterThan(30);
    expect(validation.rmse).toBeLessThan(80); // the target's deviation is about 77
    expect(validation.mae).toBeLessThan(validation.rmse);
    expect(labelOnly.train.objective).toBe('regression');
    expect(r.result.epochs).toHaveLength(hp.epochs);
    const saved = r.federation.models.get('bank')!;
    expect(saved.objective).toBe('regression');
    expect(saved.target!.mean).toBeGreaterThan(100);
  });

  it('lets no target, feature value or unmasked gradient cross a party boundary', async () => {
    await expectNothingPlainOnTheWire(r, GUEST);
  });

  it('predicts a value in the target units for new IDs (POST /jobs/:id/predict)', async () => {
    const ids = r.psi[0].sharedIds.slice(0, 5);
    const out = await predict(r, ids);
    expect(out.objective).toBe('regression');
    expect(out.scores.map((s) => s.id)).toEqual(ids);
    for (const s of out.scores) {
      expect(s.value).toBe(s.score);
      expect(s.value!).toBeGreaterThan(0); // progression scores run from 25 to 346
      expect(s.value!).toBeLessThan(400);
    }
  });
});

describe('split LR, objective multiclass (one-vs-rest heads under CKKS)', () => {
  const GUEST = 'diabetes4_guest.csv';
  let r: Run;
  beforeAll(async () => {
    r = await run(GUEST, 'multiclass');
  }, 300_000);

  it('trains every head equal to plaintext one-vs-rest on the pooled rows within 1e-3', async () => {
    const reference = await plaintextMulticlassReference(path.join(DATA, GUEST), path.join(DATA, HOST), hp);
    const bank = r.federation.models.get('bank')!;
    const ecommerce = r.federation.models.get('ecommerce')!;
    expect(bank.heads).toHaveLength(4);
    expect(ecommerce.heads).toHaveLength(4);
    reference.weights.forEach((w, k) => {
      const federated = [...bank.heads![k], ...ecommerce.heads![k]];
      expect(Math.max(...federated.map((v, j) => Math.abs(v - w[j])))).toBeLessThan(1e-3);
    });
    if (r.result.validation.objective !== 'multiclass') throw new Error('not multiclass');
    expect(Math.abs(r.result.validation.accuracy - reference.validation.accuracy)).toBeLessThan(0.03);
  });

  it('reports accuracy, macro-F1 and one AUC per class', () => {
    const { train, validation } = r.result;
    if (validation.objective !== 'multiclass' || train.objective !== 'multiclass') throw new Error('not multiclass');
    expect(r.result.classes).toBe(4);
    expect(validation.perClassAuc).toHaveLength(4);
    expect(train.accuracy).toBeGreaterThan(0.4); // chance is 0.25
    expect(validation.macroF1).toBeGreaterThan(0.25);
    expect(validation.auc).toBeGreaterThan(0.65);
  });

  it('lets no class label, feature value or unmasked gradient cross a party boundary', async () => {
    await expectNothingPlainOnTheWire(r, GUEST);
  });

  it('predicts the probability of every class for new IDs, and the most likely one', async () => {
    const out = await predict(r, r.psi[0].sharedIds.slice(0, 5));
    expect(out.objective).toBe('multiclass');
    for (const s of out.scores) {
      expect(s.probabilities).toHaveLength(4);
      expect(s.probabilities!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(s.score).toBe(Math.max(...s.probabilities!));
      expect(s.probabilities![s.class!]).toBe(s.score);
    }
  });
});
