/**
 * A trained split-NN model exported part by part, tied by a signed manifest, and scored through
 * POST /jobs/:id/predict's protocol: in one process with real parties, real CKKS and PSI, on the
 * breast data. The scores are checked against the test's plaintext scoring of the saved parts and
 * against the job's own evaluation of the validation split.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SigningIdentity } from '@vfl/crypto';
import { loadPartyTable } from '@vfl/data';
import { trainValidationSplit, DEFAULT_LR_HYPERPARAMETERS, binaryMetrics, type NnArchitecture } from '@vfl/ml';
import { inProcessFederation, InProcessFederation } from '../src';
import { modelDigest, ModelManifest, signManifest, verifyModelManifest } from '../src/model-manifest';
import type { NnPartyModel } from '../src/split-nn/model';
import { isSplitNnResult, JobRunner, jobStrategies, SplitNnJobResult } from '../src';
import { SplitLrPrediction } from '../src';
import { plaintextScores, standardizedRows } from './split-nn-parts';
import { WireScanner } from './wire-scanner';
import { untyped } from './untyped-command';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const parties = [
  { partyId: 'bank', role: 'label' as const },
  { partyId: 'ecommerce', role: 'feature' as const },
];
const architecture: NnArchitecture = {
  bottom: [
    { units: 16, activation: 'relu', batchNorm: true },
    { units: 4, activation: 'linear' },
  ],
  interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
  top: [{ units: 4, activation: 'relu' }],
  training: { optimizer: 'adam', learningRate: 0.01, batchSize: 64, epochs: 3, seed: 42, validationFraction: 0.3 },
};

describe('split-NN model export and federated prediction', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-nn-predict-'));
  const coordinator = SigningIdentity.generate('coordinator');
  let federation: InProcessFederation;
  let result: SplitNnJobResult;
  let manifest: ModelManifest;
  let jobId: string;
  let guestIds: string[];
  let hostIds: string[];

  beforeAll(async () => {
    for (const f of ['breast_hetero_guest.csv', 'breast_hetero_host.csv'])
      fs.copyFileSync(path.join(SHARED, f), path.join(dir, f));
    const lines = fs.readFileSync(path.join(dir, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    fs.writeFileSync(
      path.join(dir, 'host-without-x3.csv'),
      lines
        .map((l) =>
          l
            .split(',')
            .filter((_, j) => j !== 4)
            .join(','),
        )
        .join('\n') + '\n',
    );
    fs.writeFileSync(path.join(dir, 'host-missing-one.csv'), [lines[0], ...lines.slice(2)].join('\n') + '\n');
    guestIds = (await loadPartyTable(path.join(dir, 'breast_hetero_guest.csv'), { labelColumn: 'y' })).ids;
    hostIds = (await loadPartyTable(path.join(dir, 'breast_hetero_host.csv'))).ids;
    federation = await inProcessFederation(parties, dir);
    jobId = randomUUID();
    const out = await new JobRunner(
      {
        jobId,
        model: 'split-nn',
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
          { partyId: 'bank', role: 'label', data: { path: 'breast_hetero_guest.csv', labelColumn: 'y' } },
          { partyId: 'ecommerce', role: 'feature', data: { path: 'breast_hetero_host.csv' } },
        ],
      },
      federation.channels,
      { audit: async () => undefined, phase: async () => undefined, progress: () => undefined },
      { strategies: jobStrategies() },
    ).run();
    if (!isSplitNnResult(out)) throw new Error('not a split-NN result');
    result = out;
    manifest = signManifest(result.manifest, coordinator);
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const part = (partyId: string) => federation.nnModels.get(partyId)!;
  const predict = (
    ids: readonly string[],
    extra: Partial<ConstructorParameters<typeof SplitLrPrediction>[0]> = {},
    audit: object[] = [],
  ) =>
    new SplitLrPrediction(
      { predictionId: randomUUID(), modelJobId: jobId, parties, manifest, ids, ...extra },
      federation.channels,
      async (e) => void audit.push(e),
    ).run();
  const reference = async (ids: readonly string[], hostFile = 'breast_hetero_host.csv') =>
    plaintextScores(
      part('bank'),
      await standardizedRows(part('bank'), path.join(dir, 'breast_hetero_guest.csv'), ids),
      [{ model: part('ecommerce'), rows: await standardizedRows(part('ecommerce'), path.join(dir, hostFile), ids) }],
    );

  it("keeps each party's own part only, tied together by a manifest of the family and architecture that every party and the coordinator signed", () => {
    const bank = part('bank');
    const shop = part('ecommerce');
    expect(bank.parameters.role).toBe('label');
    expect(Object.keys(bank.parameters).sort()).toEqual([
      'bottom',
      'interactiveBias',
      'interactiveKernel',
      'role',
      'shares',
      'top',
    ]);
    // The feature party keeps its bottom and N_f; nothing of the top or of V_f.
    expect(Object.keys(shop.parameters).sort()).toEqual(['bottom', 'role', 'share']);
    expect(manifest).toMatchObject({ model: 'split-nn', architecture });
    expect(manifest.parts.map((p) => [p.partyId, p.role, p.columns.length])).toEqual([
      ['bank', 'label', 10],
      ['ecommerce', 'feature', 20],
    ]);
    const models = new Map<string, unknown>([
      ['bank', bank],
      ['ecommerce', shop],
    ]);
    expect(verifyModelManifest(manifest, { coordinatorPublicKey: coordinator.publicKeyHex, models })).toEqual({
      valid: true,
      problems: [],
    });
    expect(manifest.parts.find((p) => p.partyId === 'ecommerce')!.modelDigest).toBe(modelDigest(shop));

    // A swapped bottom weight, a swapped interactive share, a forged part and another architecture are each caught.
    const p = shop.parameters as Extract<NnPartyModel['parameters'], { role: 'feature' }>;
    const swapped = {
      ...shop,
      parameters: { ...p, bottom: p.bottom.map((t, i) => (i === 0 ? t.map((w, j) => (j === 0 ? w + 1e-3 : w)) : t)) },
    };
    expect(verifyModelManifest(manifest, { models: new Map([...models, ['ecommerce', swapped]]) }).problems).toEqual([
      "ecommerce: model file does not hash to the manifest's digest",
    ]);
    const share = { ...shop, parameters: { ...p, share: [...p.share].reverse() } };
    expect(verifyModelManifest(manifest, { models: new Map([...models, ['ecommerce', share]]) }).valid).toBe(false);
    const forged = {
      ...manifest,
      parts: manifest.parts.map((x) =>
        x.partyId === 'bank' ? { ...x, modelDigest: modelDigest({ ...bank, columns: ['x0'] }) } : x,
      ),
    };
    expect(verifyModelManifest(forged).problems).toContain('bank: signature does not match its model digest');
    const other = {
      ...manifest,
      architecture: { ...architecture, interactive: { ...architecture.interactive, units: 16 } },
    };
    expect(verifyModelManifest(other, { models }).problems).toEqual(
      expect.arrayContaining([
        'bank: model file has another architecture than the manifest',
        'coordinator signature does not match the manifest',
      ]),
    );
  });

  it("scores IDs through the encrypted interactive layer: the plaintext scores of the saved parts, and the job's own validation metrics", async () => {
    const shared = guestIds.filter((id) => hostIds.includes(id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const split = trainValidationSplit(shared.length, 0.3, 42);
    const ids = Array.from(split.validation, (r) => shared[r]);
    const audit: { step: string; detail?: Record<string, unknown> }[] = [];
    const wireBefore = federation.wire.length;
    const started = Date.now();
    const out = await predict(ids, {}, audit);
    const seconds = (Date.now() - started) / 1000;
    expect(out.scores.map((s) => s.id)).toEqual(ids);
    const expected = await reference(ids);
    const gap = Math.max(...out.scores.map((s, k) => Math.abs(s.score - expected[k])));
    expect(gap).toBeLessThan(1e-4);
    // The same rows' evaluation at the end of training gave these metrics: the scores are the job's.
    const guest = await loadPartyTable(path.join(dir, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
    const labels = ids.map((id) => guest.labels![guest.ids.indexOf(id)]);
    const metrics = binaryMetrics(
      out.scores.map((s) => s.score),
      labels,
    );
    expect(Math.abs(metrics.auc - result.validation.auc)).toBeLessThan(1e-4);
    expect(Math.abs(metrics.logLoss - result.validation.logLoss)).toBeLessThan(1e-5);
    console.log(
      `split-NN predict: ${ids.length} IDs in ${seconds.toFixed(2)} s; max |score - plaintext| ${gap.toExponential(2)}; |Δ log loss| vs the job's evaluation ${Math.abs(metrics.logLoss - result.validation.logLoss).toExponential(2)}`,
    );

    // Audited under the prediction's id: the interactive layer's payloads by digest; no ID, no score.
    expect(audit.map((e) => e.step)).toEqual(
      expect.arrayContaining([
        'job.roster',
        'predict.prepare',
        'he.keys',
        'nn.forward_share',
        'peer.nn.forward',
        'nn.products',
        'nn.release',
        'predict.scores',
      ]),
    );
    const trail = JSON.stringify(audit);
    for (const id of ids.slice(0, 20)) expect(trail).not.toContain(`"${id}"`);
    // The feature party gets keys and forward commands only, and no score (positive control: the label party's reply carries them).
    const during = federation.wire.slice(wireBefore);
    const toShop = during.filter((m) => m.to === 'ecommerce');
    expect(new Set(toShop.map((m) => m.kind))).toEqual(
      new Set(['party.health', 'predict.prepare', 'he.keys', 'nn.forward', 'job.close']),
    );
    expect(new WireScanner(toShop).float64(out.scores.map((s) => s.score))).toEqual([]);
    // Once per row with that score (a network whose seeds come from random keys may give rows equal scores).
    const first = out.scores[0].score;
    expect(new WireScanner(during.filter((m) => m.kind === 'predict.combine.reply')).float64([first]).length).toBe(
      out.scores.filter((s) => s.score === first).length,
    );
  }, 120_000);

  it('refuses rows with other columns than training, naming the difference, and IDs the label party lacks, by count', async () => {
    await expect(
      predict(guestIds.slice(0, 3), { data: { ecommerce: { path: 'host-without-x3.csv' } } }),
    ).rejects.toThrow(
      /ecommerce failed at predict.prepare: .*other columns than the model .* was trained on; missing: x3/,
    );
    await expect(predict([...guestIds.slice(0, 2), 'no-such-customer'])).rejects.toThrow(
      "bank failed at predict.prepare: 1 of the 3 requested IDs are not in the label party's data",
    );
  }, 60_000);

  it('scores an ID the feature party lacks as its average customer (standardised zeros), saying nothing', async () => {
    const [absent, present] = [hostIds[0], hostIds[1]];
    const full = await predict([absent, present]);
    const out = await predict([absent, present], { data: { ecommerce: { path: 'host-missing-one.csv' } } });
    expect(Math.abs(out.scores[1].score - full.scores[1].score)).toBeLessThan(1e-4);
    const expected = await reference([absent, present], 'host-missing-one.csv');
    expect(Math.abs(out.scores[0].score - expected[0])).toBeLessThan(1e-4);
    expect(Object.keys(out)).toEqual(['predictionId', 'modelJobId', 'scores']);
  }, 60_000);

  it('lets a prediction run inference steps only', async () => {
    const shop = federation.channels.get('ecommerce')!;
    const roster = await Promise.all(
      parties.map(async (p) => ({
        ...p,
        publicKey: String(
          (await federation.channels.get(p.partyId)!.call(untyped('party.health'), {})).reply.publicKey,
        ),
      })),
    );
    const predictionId = randomUUID();
    await shop.call(untyped('predict.prepare'), {
      jobId: predictionId,
      modelJobId: jobId,
      roster,
      ids: hostIds.slice(0, 3),
    });
    try {
      await expect(
        shop.call(untyped('nn.forward'), { jobId: predictionId, phase: 'train', epoch: 0, batch: 0 }),
      ).rejects.toThrow('nn.forward (phase train) is not a step of a prediction');
      await expect(
        shop.call(untyped('nn.apply'), {
          jobId: predictionId,
          phase: 'eval',
          epoch: 0,
          batch: 0,
          released: new Uint8Array(0),
        }),
      ).rejects.toThrow('nn.apply (phase eval) is not a step of a prediction');
      await expect(shop.call(untyped('model.export'), { jobId: predictionId })).rejects.toThrow(
        'model.export is not a step of a prediction',
      );
    } finally {
      await shop.call(untyped('job.close'), { jobId: predictionId, completed: false });
    }
  });

  it('refuses a party whose saved part is not the one in the manifest', async () => {
    const altered = {
      ...manifest,
      parts: manifest.parts.map((p) => (p.partyId === 'ecommerce' ? { ...p, modelDigest: 'f'.repeat(64) } : p)),
    };
    await expect(predict([hostIds[0]], { manifest: altered })).rejects.toThrow(
      /ecommerce failed at predict.prepare: scores with a model whose digest/,
    );
  }, 60_000);
});
