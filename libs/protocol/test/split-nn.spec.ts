/**
 * Split NN on the breast-cancer data (569 rows; label party 10 columns, feature party 20) with
 * real CKKS and real tfjs: the interactive layer computes α·W, the federated model tracks the
 * central reference, the defence costs little here and reports its privacy cost.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initTensorflow } from '@vfl/ml';
import { applyDefence, gaussianLabelDpEpsilon } from '../src/split-nn/defence';
import { BatchKey } from '../src/split-nn/messages';
import { runSplitNn, splitNnPlaintextReference } from '../src/split-nn/runner';
import { BREAST_ARCHITECTURE, breastOptions, DATA, wireBreast } from './split-nn-fixture';

describe('split NN interactive layer (real CKKS)', () => {
  it('releases to the label party exactly α_f·(V_f + N_f), within 1e-5, and nothing it can unmask alone', async () => {
    const w = await wireBreast();
    const { tf } = await initTensorflow();
    try {
      const rows = w.data.split.validation.subarray(0, 150);
      const key: BatchKey = { phase: 'eval', epoch: 0, batch: 0 };
      w.coordinator.announce(key, rows.length);
      const out = w.feature.forward(key, rows);
      const products = w.label.forwardProducts(key, rows, [out.toLabel]);
      const released = w.coordinator.releaseForward(key, products, [out.toCoordinator]);
      const { zFederated } = w.label.federatedInput(key, released);

      const f = w.data.features[0];
      const x = tf.tensor2d(
        Float32Array.from(
          rows.length === 0
            ? []
            : Array.from(rows).flatMap((r) => Array.from(f.matrix.subarray(r * f.columns, (r + 1) * f.columns))),
        ),
        [rows.length, f.columns],
      );
      const alpha = w.feature.bottom.forward(x, { training: false }).dataSync();
      x.dispose();
      const v = w.label.shares[0].weights;
      const n = w.feature.share.weights;
      const h = w.layout.units;
      const d = w.layout.features[0].outputWidth;
      let worst = 0;
      let magnitude = 0;
      for (let i = 0; i < rows.length; i++) {
        for (let j = 0; j < h; j++) {
          let z = 0;
          for (let k = 0; k < d; k++) z += alpha[i * d + k] * (v[k * h + j] + n[k * h + j]);
          worst = Math.max(worst, Math.abs(z - zFederated[i * h + j]));
          magnitude = Math.max(magnitude, Math.abs(z));
        }
      }
      expect(magnitude).toBeGreaterThan(0.1);
      expect(worst).toBeLessThan(1e-5);
      // The release itself is masked: without the label party's masks it is nowhere near α·W.
      expect(Math.min(...Array.from(released.subarray(0, 50), (r, t) => Math.abs(r - zFederated[t])))).toBeGreaterThan(
        1,
      );
      // Without N_f, the label party's own share gives a different product: it cannot invert α·V_f.
      let offByShare = 0;
      for (let j = 0; j < h; j++) {
        let zv = 0;
        for (let k = 0; k < d; k++) zv += alpha[k] * v[k * h + j];
        offByShare = Math.max(offByShare, Math.abs(zv - zFederated[j]));
      }
      expect(offByShare).toBeGreaterThan(1e-2);
    } finally {
      w.dispose();
    }
  }, 60_000);

  it('trains to the validation AUC of the same network trained centrally (within 0.005), epoch by epoch', async () => {
    const options = breastOptions();
    const reference = await splitNnPlaintextReference(options);
    const federated = await runSplitNn(options);
    expect(federated.epochs).toHaveLength(5);
    expect(federated.validationAuc).toBeGreaterThan(0.97);
    federated.epochs.forEach((e, i) =>
      expect(Math.abs(e.validationAuc - reference.epochs[i].validationAuc)).toBeLessThan(0.005),
    );
    federated.epochs.forEach((e, i) => expect(Math.abs(e.loss - reference.epochs[i].loss)).toBeLessThan(1e-3));
    expect(federated.bytesPerEpoch).toBeGreaterThan(1e6);
    expect(federated.epochs[0].decryptions).toBeGreaterThan(0);
    expect(federated.backend).toMatch(/^tfjs /);
  }, 60_000);

  it('supports two feature parties (the host columns split in two), still tracking the central reference', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-nn-k2-'));
    try {
      const lines = fs
        .readFileSync(path.join(DATA, 'breast_hetero_host.csv'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(','));
      const part = (from: number, to: number): string =>
        lines.map((cells) => [cells[0], ...cells.slice(from, to)].join(',')).join('\n') + '\n';
      fs.writeFileSync(path.join(dir, 'a.csv'), part(1, 11));
      fs.writeFileSync(path.join(dir, 'b.csv'), part(11, 21));
      const architecture = {
        ...BREAST_ARCHITECTURE,
        bottomByParty: { shopB: [{ units: 8 }, { units: 2, activation: 'linear' as const }] },
        training: { ...BREAST_ARCHITECTURE.training, epochs: 3 },
      };
      const options = {
        ...breastOptions(architecture),
        featureFiles: [path.join(dir, 'a.csv'), path.join(dir, 'b.csv')],
        featureIds: ['shopA', 'shopB'],
      };
      const reference = await splitNnPlaintextReference(options);
      const federated = await runSplitNn(options);
      expect(federated.validationAuc).toBeGreaterThan(0.95);
      federated.epochs.forEach((e, i) =>
        expect(Math.abs(e.validationAuc - reference.epochs[i].validationAuc)).toBeLessThan(0.005),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("stops early on validation AUC and every party returns to the best epoch's weights", async () => {
    const architecture = {
      ...BREAST_ARCHITECTURE,
      training: {
        ...BREAST_ARCHITECTURE.training,
        learningRate: 0.05,
        epochs: 40,
        earlyStopping: { patience: 2 },
        schedule: { kind: 'constant' as const },
      },
    };
    const federated = await runSplitNn(breastOptions(architecture));
    expect(federated.stoppedEarly).toBe(true);
    expect(federated.epochs.length).toBeLessThan(40);
    expect(federated.epochs.length).toBe(federated.bestEpoch + 3);
    // re-evaluated after the restore: the best epoch's model, not the last one's
    expect(Math.abs(federated.validationAuc - federated.bestValidationAuc)).toBeLessThan(1e-3);
  }, 60_000);

  it('with the gaussian defence still learns, and reports the label-DP cost', async () => {
    const defended = await runSplitNn({
      ...breastOptions(),
      defence: { kind: 'gaussian', noiseMultiplier: 1, clipNorm: 0.5 },
    });
    expect(defended.validationAuc).toBeGreaterThan(0.9);
    expect(defended.epsilon).toBeCloseTo(gaussianLabelDpEpsilon(1, 5), 10);
    expect(defended.epsilon).toBeGreaterThan(1);
    expect(defended.defence).toEqual({ kind: 'gaussian', noiseMultiplier: 1, clipNorm: 0.5 });
  }, 60_000);
});

describe('gradient defence', () => {
  it('clips each row of δ to the clipping norm before adding noise', () => {
    const delta = Float64Array.from([3, 4, 0.3, 0.4]);
    expect(applyDefence({ kind: 'gaussian', noiseMultiplier: 1, clipNorm: 1 }, delta, 2, () => 0)).toBe(1);
    expect(Array.from(delta)).toEqual([0.6, 0.8, 0.3, 0.4].map((x) => expect.closeTo(x, 12)));
    const noisy = Float64Array.from([0, 0]);
    applyDefence({ kind: 'gaussian', noiseMultiplier: 2, clipNorm: 0.5 }, noisy, 2, () => 1);
    expect(Array.from(noisy)).toEqual([1, 1]);
    expect(applyDefence({ kind: 'none' }, noisy, 2, () => 1)).toBe(0);
  });

  it('accounts ε that grows with epochs and shrinks with the noise multiplier', () => {
    expect(gaussianLabelDpEpsilon(1, 10)).toBeGreaterThan(gaussianLabelDpEpsilon(1, 1));
    expect(gaussianLabelDpEpsilon(4, 10)).toBeLessThan(gaussianLabelDpEpsilon(1, 10));
    // one epoch at z = 1: ε(α) = 2α + ln(1e5)/(α − 1), minimised near α ≈ 3.4
    expect(gaussianLabelDpEpsilon(1, 1)).toBeCloseTo(2 + 2 * Math.sqrt(2 * Math.log(1e5)), 1);
  });
});
