/**
 * Split NN beyond a binary label, end to end in one process (real CKKS interactive layer, PSI,
 * sealed peer envelopes): a continuous target (squared error at the top) and 4 classes (softmax
 * top), on the diabetes fixtures (test/fixtures/objectives). Only the label party's top network
 * and loss change; the recorded traffic is scanned for targets and feature values.
 */
import * as path from 'node:path';
import { loadPartyTable } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS, type NnArchitecture } from '@vfl/ml';
import { EcdhPsiSession, PsiResult } from '../src/psi/ecdh-psi';
import { randomUUID } from 'node:crypto';
import { isTargetResult, runInProcessJob, SplitLrPrediction, TargetJobResult } from '../src';
import type { InProcessFederation } from '../src';
import { WireScanner } from './wire-scanner';

const DATA = path.resolve(__dirname, '../../../test/fixtures/objectives');
const architecture: NnArchitecture = {
  bottom: [
    { units: 16, activation: 'relu' },
    { units: 4, activation: 'linear' },
  ],
  interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
  top: [],
  training: { optimizer: 'adam', learningRate: 0.02, batchSize: 64, epochs: 8, seed: 5, validationFraction: 0.2 },
};

async function run(
  guest: string,
  objective: 'regression' | 'multiclass',
): Promise<{ federation: InProcessFederation; result: TargetJobResult; psi: PsiResult[] }> {
  const finish = jest.spyOn(EcdhPsiSession.prototype, 'finish');
  try {
    const { federation, result } = await runInProcessJob({
      dataRoot: DATA,
      model: 'split-nn',
      objective,
      nn: { architecture, defence: { kind: 'none' } },
      hyperparameters: { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 8, batchSize: 64, seed: 5, clipSigma: 0 },
      record: true,
      ckksThreads: 0,
      label: { partyId: 'bank', file: guest, labelColumn: 'y' },
      features: [{ partyId: 'ecommerce', file: 'diabetes_host.csv' }],
    });
    if (!isTargetResult(result)) throw new Error('expected a regression or multiclass result');
    const psi = await Promise.all(finish.mock.results.map((r) => r.value as Promise<PsiResult>));
    return { federation, result, psi };
  } finally {
    finish.mockRestore();
  }
}

/** Scores `ids` with the job's saved parts through the prediction protocol (the encrypted interactive layer). */
function predict(r: { federation: InProcessFederation; result: TargetJobResult }, ids: string[]) {
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

async function expectNoTargetsOrFeatures(
  federation: InProcessFederation,
  psi: PsiResult[],
  guest: string,
  objective: 'regression' | 'multiclass',
) {
  const g = await loadPartyTable(path.join(DATA, guest), { labelColumn: 'y', objective });
  const h = await loadPartyTable(path.join(DATA, 'diabetes_host.csv'));
  const scan = new WireScanner(federation.wire);
  const index = new Map(g.ids.map((id, i) => [id, i]));
  const y = Float64Array.from(psi[0].sharedIds, (id) => g.targets![index.get(id)!]);
  for (let start = 0; start + 24 <= y.length; start += 24) {
    const run = y.subarray(start, start + 24);
    expect(scan.bytes(Buffer.from(run.buffer, run.byteOffset, run.byteLength)).length).toBe(0);
    expect(scan.bytes(Uint8Array.from(run)).length).toBe(0);
    expect(scan.bytes(new Uint8Array(Float32Array.from(run).buffer)).length).toBe(0);
    expect(scan.bytes(Buffer.from(Array.from(run).join(','))).length).toBe(0);
  }
  // Single values: the fractional ones (a whole number such as 46.0 is a plausible float in any
  // float64 vector of a message; whole-number targets are covered by the runs above).
  const cells = [...g.features, ...h.features, ...(objective === 'regression' ? y : [])].filter(
    (v) => !Number.isInteger(v),
  );
  expect(cells.length).toBeGreaterThan(500);
  expect(scan.float64(cells).map((hit) => hit.value)).toEqual([]);
}

describe('split NN, objective regression', () => {
  let r: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    r = await run('diabetes_guest.csv', 'regression');
  }, 300_000);

  it('fits the progression score: R², RMSE and MAE in its units, the label party alone beside it', () => {
    const { train, validation, labelOnly } = r.result;
    if (train.objective !== 'regression' || validation.objective !== 'regression') throw new Error('not regression');
    expect(r.result.model).toBe('split-nn');
    expect(train.r2).toBeGreaterThan(0.3);
    expect(validation.rmse).toBeLessThan(80);
    expect(validation.mae).toBeLessThan(validation.rmse);
    expect(labelOnly.validation.objective).toBe('regression');
    expect(r.result.epochs).toHaveLength(8);
  });

  it('lets no target or feature value cross a party boundary', async () => {
    await expectNoTargetsOrFeatures(r.federation, r.psi, 'diabetes_guest.csv', 'regression');
  });

  it('predicts values in the target units for new IDs', async () => {
    const out = await predict(r, r.psi[0].sharedIds.slice(0, 4));
    expect(out.objective).toBe('regression');
    for (const s of out.scores) {
      expect(s.value!).toBeGreaterThan(0);
      expect(s.value!).toBeLessThan(400);
    }
  });
});

describe('split NN, objective multiclass (softmax top)', () => {
  let r: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    r = await run('diabetes4_guest.csv', 'multiclass');
  }, 300_000);

  it('separates the 4 quartiles: accuracy, macro-F1 and an AUC per class', () => {
    const { train, validation } = r.result;
    if (train.objective !== 'multiclass' || validation.objective !== 'multiclass') throw new Error('not multiclass');
    expect(r.result.classes).toBe(4);
    expect(validation.perClassAuc).toHaveLength(4);
    expect(train.accuracy).toBeGreaterThan(0.4); // chance: 0.25
    expect(validation.auc).toBeGreaterThan(0.65);
    expect(validation.macroF1).toBeGreaterThan(0.25);
  });

  it('lets no class label or feature value cross a party boundary', async () => {
    await expectNoTargetsOrFeatures(r.federation, r.psi, 'diabetes4_guest.csv', 'multiclass');
  });

  it('predicts the 4 class probabilities (softmax) for new IDs', async () => {
    const out = await predict(r, r.psi[0].sharedIds.slice(0, 4));
    expect(out.objective).toBe('multiclass');
    for (const s of out.scores) {
      expect(s.probabilities).toHaveLength(4);
      expect(s.probabilities!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });
});
