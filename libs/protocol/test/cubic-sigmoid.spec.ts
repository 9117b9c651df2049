/**
 * Split LR with the cubic sigmoid, end to end in one process (real CKKS with ciphertext products,
 * real PSI), on the breast cancer data split over a label party and two feature parties, so the
 * cube's cross terms between parties are exercised.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CkksContext, CkksError, CkksEncryptor, CkksKeyHolder } from '@vfl/crypto';
import { cubicResidual, DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters } from '@vfl/ml';
import { InProcessFederation, runInProcessJob } from '../src';
import { plaintextReference } from '../src/plaintext-reference';
import { isSplitLrResult, SplitLrJobResult } from '../src';
import { FeaturePartyLr, roundScales } from '../src/split-lr/split-lr-party';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const hp: LrHyperparameters = {
  ...DEFAULT_LR_HYPERPARAMETERS,
  epochs: 3,
  batchSize: 128,
  learningRate: 0.05,
  seed: 5,
  sigmoid: 'cubic',
};

describe('split LR with the cubic sigmoid', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-cubic-'));
  let federation: InProcessFederation;
  let result: SplitLrJobResult;

  beforeAll(async () => {
    const [header, ...rows] = fs.readFileSync(path.join(SHARED, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    const pick = (line: string, from: number, to: number) => {
      const cells = line.split(',');
      return [cells[0], ...cells.slice(1 + from, 1 + to)].join(',');
    };
    fs.writeFileSync(path.join(dir, 'a.csv'), [header, ...rows].map((l) => pick(l, 0, 10)).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'b.csv'), [header, ...rows].map((l) => pick(l, 10, 20)).join('\n') + '\n');
    fs.copyFileSync(path.join(SHARED, 'breast_hetero_guest.csv'), path.join(dir, 'bank.csv'));
    const run = await runInProcessJob({
      dataRoot: dir,
      hyperparameters: hp,
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [
        { partyId: 'a', file: 'a.csv' },
        { partyId: 'b', file: 'b.csv' },
      ],
    });
    if (!isSplitLrResult(run.result)) throw new Error('no model');
    federation = run.federation;
    result = run.result;
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains the weights the plaintext algorithm with the same cubic reaches on the joined data', async () => {
    const reference = await plaintextReference(
      path.join(dir, 'bank.csv'),
      [path.join(dir, 'a.csv'), path.join(dir, 'b.csv')],
      hp,
    );
    const federated = ['bank', 'a', 'b'].flatMap((p) => federation.models.get(p)!.weights);
    expect(federated).toHaveLength(reference.weights.length);
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference.weights[j])))).toBeLessThan(1e-3);
    expect(Math.abs(result.train.auc - reference.trainAuc)).toBeLessThan(1e-3);
    expect(result.train.auc).toBeGreaterThan(0.97);
  });

  it('computes d = 1/2 + a·u + b·u³ - y under encryption, cross terms between parties included', async () => {
    // One round by hand: two feature parties' shares, the label party's residual, decrypted.
    const ckks = await CkksContext.create();
    const keys = CkksKeyHolder.generate(ckks, [], { relinearization: true });
    const encryptor = CkksEncryptor.fromBundle(ckks, keys.publicBundle());
    try {
      const batch = Int32Array.from({ length: 64 }, (_, i) => i);
      const u = [
        Float64Array.from(batch, (i) => Math.sin(i) * 3),
        Float64Array.from(batch, (i) => Math.cos(i) * 2),
        Float64Array.from(batch, (i) => (i % 5) - 2),
      ];
      const labels = Uint8Array.from(batch, (i) => i % 2);
      // Parties whose partial logits are u: one column of ones, weight = the logit.
      const party = (logits: Float64Array) => {
        const p = new FeaturePartyLr({
          ckks,
          encryptor,
          hp,
          scorer: { logits: () => logits } as never,
          matrix: new Float64Array(64),
          columns: 1,
        });
        return p;
      };
      const { LabelPartyLr } = await import('../src/split-lr/split-lr-party');
      const label = new LabelPartyLr(
        {
          ckks,
          encryptor,
          hp,
          scorer: { logits: () => u[0] } as never,
          matrix: new Float64Array(64).fill(1),
          columns: 1,
        },
        labels,
      );
      const { residual, gradient } = label.residual('k', batch, [
        party(u[1]).forward(batch),
        party(u[2]).forward(batch),
      ]);
      await gradient;
      const ct = ckks.deserialize(residual[0], {
        level: ckks.topLevel,
        scale: roundScales({ sigmoid: 'cubic' }).residual,
      });
      const d = keys.decrypt(ct);
      ct.delete();
      for (const i of batch) {
        const logit = u[0][i] + u[1][i] + u[2][i];
        // Logits up to 7 (|b·u³| up to 0.55): the error is ~3e-5 at most over many runs (fresh encryption noise, cubed).
        expect(Math.abs(d[i] - cubicResidual(logit, labels[i]))).toBeLessThan(1e-4);
      }
      // The residual carries the cubic job's scale: read at the Taylor scale it is refused, the scale named.
      expect(() => ckks.deserialize(residual[0], { level: ckks.topLevel })).toThrow(CkksError);
    } finally {
      encryptor.dispose();
      keys.dispose();
      ckks.dispose();
    }
  });
});
