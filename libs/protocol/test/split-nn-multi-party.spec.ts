/**
 * Split NN with one label party and two feature parties, in one process with real CKKS and PSI:
 * the breast data with the host's 20 columns split over two shops (as in multi-party.spec.ts), each
 * lacking some of the bank's customers and holding customers of its own. The job trains, exports a
 * three-part manifest, scores through POST /jobs/:id/predict's protocol with the job's own
 * validation metrics, and resumes after one shop fails in epoch 2 of 3.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import type { AuditEventInput } from '@vfl/audit';
import { SigningIdentity } from '@vfl/crypto';
import { loadPartyTable } from '@vfl/data';
import { trainValidationSplit, DEFAULT_LR_HYPERPARAMETERS, binaryMetrics, type NnArchitecture } from '@vfl/ml';
import * as nn from '../src/split-nn/commands';
import { inProcessFederation, InProcessFederation } from '../src';
import { modelDigest, signManifest, verifyModelManifest } from '../src/model-manifest';
import { isNnCheckpoint } from '../src/split-nn/model';
import type { StoredCheckpoint } from '../src/party/stored-model';
import { isSplitNnResult, PartyCallError, JobRunner, jobStrategies, JobSpec, SplitNnJobResult } from '../src';
import { withCrashingParty } from './crashing-channel';
import { SplitLrPrediction } from '../src';
import { plaintextScores, standardizedRows } from './split-nn-parts';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const parties = [
  { partyId: 'bank', role: 'label' as const },
  { partyId: 'alice', role: 'feature' as const },
  { partyId: 'bob', role: 'feature' as const },
];
const files: Record<string, string> = { bank: 'bank.csv', alice: 'alice.csv', bob: 'bob.csv' };
const architecture: NnArchitecture = {
  bottom: [
    { units: 8, activation: 'relu', batchNorm: true, dropout: 0.1 },
    { units: 4, activation: 'linear' },
  ],
  interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
  top: [{ units: 4, activation: 'relu' }],
  training: { optimizer: 'adam', learningRate: 0.01, batchSize: 64, epochs: 3, seed: 42, validationFraction: 0.3 },
};

function spec(jobId: string, resume?: JobSpec['resume']): JobSpec {
  return {
    jobId,
    model: 'split-nn',
    resume,
    nn: { architecture, defence: { kind: 'none' } },
    hyperparameters: {
      ...DEFAULT_LR_HYPERPARAMETERS,
      epochs: 3,
      batchSize: 64,
      seed: 42,
      validationFraction: 0.3,
      clipSigma: 0,
    },
    parties: [
      { partyId: 'bank', role: 'label', data: { path: files.bank, labelColumn: 'y' } },
      { partyId: 'alice', role: 'feature', data: { path: files.alice } },
      { partyId: 'bob', role: 'feature', data: { path: files.bob } },
    ],
  };
}

async function run(
  federation: InProcessFederation,
  s: JobSpec,
  channels = federation.channels,
  checkpointed: number[] = [],
  audit: AuditEventInput[] = [],
): Promise<SplitNnJobResult> {
  const out = await new JobRunner(
    s,
    channels,
    {
      audit: async (e) => void audit.push(e),
      phase: async () => undefined,
      progress: () => undefined,
      checkpointed: (e) => void checkpointed.push(e),
    },
    { strategies: jobStrategies() },
  ).run();
  if (!isSplitNnResult(out)) throw new Error('not a split-NN result');
  return out;
}

/** Every weight of the model the three saved parts make, with W_f = V_f + N_f for each shop. */
function weights(f: InProcessFederation): number[] {
  const bank = f.nnModels.get('bank')!.parameters;
  if (bank.role !== 'label') throw new Error('bank is not the label part');
  const out = [...bank.bottom.flat(), ...bank.top.flat(), ...bank.interactiveKernel, ...bank.interactiveBias];
  for (const shop of ['alice', 'bob']) {
    const p = f.nnModels.get(shop)!.parameters;
    if (p.role !== 'feature') throw new Error(`${shop} is not a feature part`);
    const v = bank.shares.find((s) => s.party === shop)!.weights;
    expect(v).toHaveLength(p.share.length);
    out.push(...p.bottom.flat(), ...v.map((x, i) => x + p.share[i]));
  }
  return out;
}

describe('split NN with two feature parties', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-nn-three-'));
  // Fixed keys: each party's training seed derives from its key, so every run of this file trains the same models (up to CKKS noise).
  const identities = new Map(
    parties.map((p) => [
      p.partyId,
      SigningIdentity.fromSeedHex(
        p.partyId,
        createHash('sha256').update(`split-nn-multi-party|${p.partyId}`).digest('hex'),
      ),
    ]),
  );
  const coordinator = SigningIdentity.generate('coordinator');
  let expectedIds: string[];
  let federation: InProcessFederation;
  let result: SplitNnJobResult;
  let jobId: string;

  beforeAll(async () => {
    const [header, ...rows] = fs.readFileSync(path.join(SHARED, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    const columns = header.split(',');
    const pick = (cells: string[], from: number, to: number) => [cells[0], ...cells.slice(1 + from, 1 + to)].join(',');
    const ids = rows.map((r) => r.split(',')[0]);
    // alice lacks every 13th of the bank's customers, bob every 11th; each has 25 customers the bank does not.
    const alice = rows.filter((_, i) => i % 13 !== 0).map((r) => pick(r.split(','), 0, 10));
    const bob = rows.filter((_, i) => i % 11 !== 0).map((r) => pick(r.split(','), 10, 20));
    for (let k = 0; k < 25; k++) {
      alice.push([`alice-only-${k}`, ...Array.from({ length: 10 }, () => (k / 7).toFixed(3))].join(','));
      bob.push([`bob-only-${k}`, ...Array.from({ length: 10 }, () => (k / 5).toFixed(3))].join(','));
    }
    fs.writeFileSync(path.join(dir, files.alice), [pick(columns, 0, 10), ...alice].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, files.bob), [pick(columns, 10, 20), ...bob].join('\n') + '\n');
    fs.copyFileSync(path.join(SHARED, 'breast_hetero_guest.csv'), path.join(dir, files.bank));
    expectedIds = ids.filter((_, i) => i % 13 !== 0 && i % 11 !== 0).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

    federation = await inProcessFederation(parties, dir, { record: false, identities });
    jobId = randomUUID();
    result = await run(federation, spec(jobId));
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const part = (partyId: string) => federation.nnModels.get(partyId)!;

  it('trains on the rows all three share, better than chance', () => {
    expect(result.intersection).toBe(expectedIds.length);
    expect(expectedIds.length).toBeLessThan(569 - 60);
    expect(result.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(result.validation.auc).toBeGreaterThan(0.9);
    expect(Number.isFinite(result.validation.logLoss)).toBe(true);
  });

  it('exports three parts, each party its own, tied by a manifest verifyModelManifest accepts', () => {
    const manifest = signManifest(result.manifest, coordinator);
    expect(manifest).toMatchObject({ model: 'split-nn', architecture });
    expect(manifest.parts.map((p) => [p.partyId, p.role, p.columns.length])).toEqual([
      ['bank', 'label', 10],
      ['alice', 'feature', 10],
      ['bob', 'feature', 10],
    ]);
    const bank = part('bank').parameters;
    if (bank.role !== 'label') throw new Error('bank is not the label part');
    // The label party holds one interactive share V_f per shop; each shop its bottom and N_f only.
    expect(bank.shares.map((s) => s.party).sort()).toEqual(['alice', 'bob']);
    for (const shop of ['alice', 'bob'])
      expect(Object.keys(part(shop).parameters).sort()).toEqual(['bottom', 'role', 'share']);
    const models = new Map<string, unknown>(parties.map((p) => [p.partyId, part(p.partyId)]));
    expect(verifyModelManifest(manifest, { coordinatorPublicKey: coordinator.publicKeyHex, models })).toEqual({
      valid: true,
      problems: [],
    });
    for (const p of manifest.parts) expect(p.modelDigest).toBe(modelDigest(part(p.partyId)));
    // Positive control: bob's part under alice's name is caught.
    expect(verifyModelManifest(manifest, { models: new Map([...models, ['alice', part('bob')]]) }).valid).toBe(false);
  });

  it("scores the validation rows through the prediction protocol with the job's own validation metrics", async () => {
    const manifest = signManifest(result.manifest, coordinator);
    const split = trainValidationSplit(expectedIds.length, 0.3, 42);
    const ids = Array.from(split.validation, (r) => expectedIds[r]);
    const out = await new SplitLrPrediction(
      { predictionId: randomUUID(), modelJobId: jobId, parties, manifest, ids },
      federation.channels,
      async () => undefined,
    ).run();
    expect(out.scores.map((s) => s.id)).toEqual(ids);
    const reference = await plaintextScores(
      part('bank'),
      await standardizedRows(part('bank'), path.join(dir, files.bank), ids),
      await Promise.all(
        ['alice', 'bob'].map(async (shop) => ({
          model: part(shop),
          rows: await standardizedRows(part(shop), path.join(dir, files[shop]), ids),
        })),
      ),
    );
    const gap = Math.max(...out.scores.map((s, k) => Math.abs(s.score - reference[k])));
    expect(gap).toBeLessThan(1e-4);
    const bank = await loadPartyTable(path.join(dir, files.bank), { labelColumn: 'y' });
    const labels = ids.map((id) => bank.labels![bank.ids.indexOf(id)]);
    const metrics = binaryMetrics(
      out.scores.map((s) => s.score),
      labels,
    );
    console.log(
      `split-NN 3-party predict: ${ids.length} IDs; max |score - plaintext| ${gap.toExponential(2)}; AUC ${metrics.auc} vs job ${result.validation.auc}; |Δ log loss| ${Math.abs(metrics.logLoss - result.validation.logLoss).toExponential(2)}`,
    );
    expect(metrics.auc).toBe(result.validation.auc);
    expect(Math.abs(metrics.logLoss - result.validation.logLoss)).toBeLessThan(1e-6);
  }, 60_000);

  it('resumes after one feature party fails in epoch 2 of 3, as close to an uninterrupted run as two uninterrupted runs are', async () => {
    const checkpoints = new Map<string, StoredCheckpoint>();
    const first = await inProcessFederation(parties, dir, { record: false, checkpoints, identities });
    // bob "crashes" at his first training step of epoch 2 (0-based epoch 1); alice keeps going.
    const crashing = withCrashingParty(
      first.channels,
      'bob',
      (command, body) => command === nn.forward.name && body.phase === 'train' && body.epoch === 1,
    );
    const failedId = randomUUID();
    const checkpointed: number[] = [];
    await expect(run(first, spec(failedId), crashing, checkpointed)).rejects.toThrow(
      new PartyCallError('bob', nn.forward.name, 'connection reset'),
    );
    expect(checkpointed).toEqual([1]);
    const saved = [...checkpoints.entries()];
    expect(saved.map(([k]) => k.split(':')[1]).sort()).toEqual(['alice', 'bank', 'bob']);
    expect(saved.every(([, c]) => isNnCheckpoint(c))).toBe(true);

    // Restarted with new signing keys (so new seeds): what continues the run comes from the checkpoints alone.
    const restarted = await inProcessFederation(parties, dir, { record: false, checkpoints });
    const audit: AuditEventInput[] = [];
    const resumed = await run(
      restarted,
      spec(randomUUID(), { fromJobId: failedId, epoch: 1 }),
      restarted.channels,
      [],
      audit,
    );
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([2, 3]);
    expect(
      audit
        .filter((e) => e.step === 'model.resume')
        .map((e) => e.sender)
        .sort(),
    ).toEqual(['alice', 'bank', 'bob']);

    // The job of beforeAll is the uninterrupted reference; a twin run gives the run-to-run noise.
    const twin = await inProcessFederation(parties, dir, { record: false, identities });
    const again = await run(twin, spec(randomUUID()));
    const maxGap = (a: number[], b: number[]) => {
      expect(a.length).toBe(b.length);
      const gaps = a.map((w, j) => Math.abs(w - b[j]));
      return { max: Math.max(...gaps), mean: gaps.reduce((x, y) => x + y, 0) / gaps.length };
    };
    const resumedGap = maxGap(weights(restarted), weights(federation));
    const runToRun = maxGap(weights(twin), weights(federation));
    const aucGap = Math.abs(resumed.validation.auc - result.validation.auc);
    const lossGap = Math.abs(resumed.validation.logLoss - result.validation.logLoss);
    console.log(
      `split-NN 3-party resume vs uninterrupted: |Δ weight| max ${resumedGap.max.toExponential(2)} mean ${resumedGap.mean.toExponential(2)}, |Δ AUC| ${aucGap.toExponential(2)}, |Δ log loss| ${lossGap.toExponential(2)}; ` +
        `two uninterrupted runs: |Δ weight| max ${runToRun.max.toExponential(2)} mean ${runToRun.mean.toExponential(2)}, |Δ AUC| ${Math.abs(again.validation.auc - result.validation.auc).toExponential(2)}`,
    );
    // The tolerances of split-nn-resume.spec.ts (one feature party).
    expect(resumedGap.mean).toBeLessThan(Math.max(2e-4, 4 * runToRun.mean));
    expect(resumedGap.max).toBeLessThan(3e-2);
    expect(aucGap).toBeLessThan(2e-3);
    expect(lossGap).toBeLessThan(2e-3);
  }, 120_000);
});
