/**
 * Federated inference and the signed model manifest, in one process with real parties: a split-LR
 * job on the breast data, then POST /jobs/:id/predict's protocol on IDs of its files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SigningIdentity } from '@vfl/crypto';
import { loadPartyTable } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS, sigmoid } from '@vfl/ml';
import { InProcessFederation, runTwoPartyJob } from '../src';
import { ModelManifest, signManifest, verifyModelManifest } from '../src/model-manifest';
import type { PartyModel } from '../src/split-lr/model';
import { SplitLrJobResult } from '../src';
import { SplitLrPrediction } from '../src';
import { WireScanner } from './wire-scanner';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const parties = [
  { partyId: 'bank', role: 'label' as const },
  { partyId: 'ecommerce', role: 'feature' as const },
];

describe('federated prediction with a trained split-LR model', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-predict-'));
  let federation: InProcessFederation;
  let result: SplitLrJobResult;
  let jobId: string;
  const coordinator = SigningIdentity.generate('coordinator');
  let manifest: ModelManifest;

  beforeAll(async () => {
    for (const f of ['breast_hetero_guest.csv', 'breast_hetero_host.csv'])
      fs.copyFileSync(path.join(SHARED, f), path.join(dir, f));
    // New customers' rows: the host file without column x3.
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
    // The shop's file without its first customer.
    fs.writeFileSync(path.join(dir, 'host-missing-one.csv'), [lines[0], ...lines.slice(2)].join('\n') + '\n');
    jobId = randomUUID();
    ({ federation, result } = await runTwoPartyJob({
      jobId,
      dataRoot: dir,
      guest: 'breast_hetero_guest.csv',
      host: 'breast_hetero_host.csv',
      hyperparameters: { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 2, batchSize: 128 },
    }));
    manifest = signManifest(result.manifest, coordinator);
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const predict = (
    ids: string[],
    extra: Partial<ConstructorParameters<typeof SplitLrPrediction>[0]> = {},
    audit: object[] = [],
  ) =>
    new SplitLrPrediction(
      { predictionId: randomUUID(), modelJobId: jobId, parties, manifest, ids, ...extra },
      federation.channels,
      async (e) => void audit.push(e),
    ).run();

  it('ties the parts of the model together in a manifest that both parties and the coordinator signed', () => {
    const models = new Map<string, unknown>([...federation.models].map(([k, v]) => [k, v]));
    expect(manifest.parts.map((p) => [p.partyId, p.role, p.columns.length])).toEqual([
      ['bank', 'label', 11],
      ['ecommerce', 'feature', 20],
    ]);
    expect(verifyModelManifest(manifest, { coordinatorPublicKey: coordinator.publicKeyHex, models })).toEqual({
      valid: true,
      problems: [],
    });
    // A swapped weight, a forged part and a foreign coordinator are each caught.
    const tampered = new Map(models);
    const shop = federation.models.get('ecommerce')!;
    tampered.set('ecommerce', { ...shop, weights: shop.weights.map((w, j) => (j === 0 ? w + 0.1 : w)) });
    expect(verifyModelManifest(manifest, { models: tampered }).problems).toEqual([
      "ecommerce: model file does not hash to the manifest's digest",
    ]);
    const forged = {
      ...manifest,
      parts: manifest.parts.map((p) => (p.partyId === 'bank' ? { ...p, modelDigest: '0'.repeat(64) } : p)),
    };
    expect(verifyModelManifest(forged).problems).toContain('bank: signature does not match its model digest');
    expect(
      verifyModelManifest(manifest, { coordinatorPublicKey: SigningIdentity.generate('x').publicKeyHex }).valid,
    ).toBe(false);
  });

  it("scores new IDs with each party's own weights: the same scores as the pooled model", async () => {
    const guest = await loadPartyTable(path.join(dir, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
    const host = await loadPartyTable(path.join(dir, 'breast_hetero_host.csv'));
    const ids = [guest.ids[5], guest.ids[400], guest.ids[17], guest.ids[250]];
    const audit: { step: string; detail?: Record<string, unknown> }[] = [];
    const wireBefore = federation.wire.length;
    const out = await predict(ids, {}, audit);
    const logit = (m: PartyModel, features: Float64Array, width: number, row: number) => {
      let s = m.role === 'label' ? m.weights[m.weights.length - 1] : 0;
      for (let j = 0; j < width; j++) {
        const z = Math.max(
          -3,
          Math.min(3, (features[row * width + j] - m.standardization.means[j]) / m.standardization.deviations[j]),
        );
        s += z * m.weights[j];
      }
      return s;
    };
    const bank = federation.models.get('bank')!;
    const shop = federation.models.get('ecommerce')!;
    expect(out.scores.map((s) => s.id)).toEqual(ids);
    out.scores.forEach(({ id, score }) => {
      const expected = sigmoid(
        logit(bank, guest.features, 10, guest.ids.indexOf(id)) + logit(shop, host.features, 20, host.ids.indexOf(id)),
      );
      expect(score).toBeCloseTo(expected, 10);
    });
    // Audited under the prediction's id: counts and digests, never an ID or a score.
    expect(audit.map((e) => e.step)).toEqual(
      expect.arrayContaining(['job.roster', 'predict.prepare', 'peer.predict.logits', 'predict.scores']),
    );
    const trail = JSON.stringify(audit);
    for (const id of ids) expect(trail).not.toContain(`"${id}"`);
    // The feature party receives no score: it gets only these commands, which carry none (positive
    // control: the label party's reply to the coordinator does), and no peer message at all.
    const during = federation.wire.slice(wireBefore);
    const toShop = during.filter((m) => m.to === 'ecommerce');
    expect(new Set(toShop.map((m) => m.kind))).toEqual(
      new Set(['party.health', 'predict.prepare', 'predict.share', 'job.close']),
    );
    expect(new WireScanner(toShop).float64(out.scores.map((s) => s.score))).toEqual([]);
    expect(
      new WireScanner(during.filter((m) => m.kind === 'predict.combine.reply')).float64([out.scores[0].score]).length,
    ).toBe(1);
  });

  it('refuses rows with other columns than training, naming the difference', async () => {
    const ids = (await loadPartyTable(path.join(dir, 'breast_hetero_guest.csv'), { labelColumn: 'y' })).ids.slice(0, 3);
    await expect(predict(ids, { data: { ecommerce: { path: 'host-without-x3.csv' } } })).rejects.toThrow(
      /ecommerce failed at predict.prepare: .*other columns than the model .* was trained on; missing: x3/,
    );
  });

  it('refuses IDs the label party does not hold, by count only', async () => {
    const ids = (await loadPartyTable(path.join(dir, 'breast_hetero_guest.csv'), { labelColumn: 'y' })).ids.slice(0, 2);
    await expect(predict([...ids, 'no-such-customer'])).rejects.toThrow(
      "bank failed at predict.prepare: 1 of the 3 requested IDs are not in the label party's data",
    );
  });

  it('scores an ID the feature party lacks as its average customer, and nothing says which', async () => {
    const guest = await loadPartyTable(path.join(dir, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
    const host = await loadPartyTable(path.join(dir, 'breast_hetero_host.csv'));
    const [absent, present] = [host.ids[0], host.ids[1]];
    const full = await predict([absent, present]);
    const out = await predict([absent, present], { data: { ecommerce: { path: 'host-missing-one.csv' } } });
    expect(out.scores[1].score).toBeCloseTo(full.scores[1].score, 12);
    // The shop's part for the absent ID is 0: the score is the bank's part alone.
    const bank = federation.models.get('bank')!;
    const row = guest.ids.indexOf(absent);
    let logit = bank.weights[10];
    for (let j = 0; j < 10; j++)
      logit +=
        Math.max(
          -3,
          Math.min(
            3,
            (guest.features[row * 10 + j] - bank.standardization.means[j]) / bank.standardization.deviations[j],
          ),
        ) * bank.weights[j];
    expect(out.scores[0].score).toBeCloseTo(sigmoid(logit), 10);
    expect(Object.keys(out)).toEqual(['predictionId', 'modelJobId', 'scores']);
  });

  it('refuses a party whose saved model is not the one in the manifest', async () => {
    const altered = {
      ...manifest,
      parts: manifest.parts.map((p) => (p.partyId === 'ecommerce' ? { ...p, modelDigest: 'f'.repeat(64) } : p)),
    };
    await expect(
      predict([(await loadPartyTable(path.join(dir, 'breast_hetero_host.csv'))).ids[0]], { manifest: altered }),
    ).rejects.toThrow(/ecommerce failed at predict.prepare: scores with a model whose digest/);
  });
});
