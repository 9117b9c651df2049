/**
 * A feature party of split NN: its bottom network, and its share N_f of its interactive weights
 * W_f = V_f + N_f (the label party holds V_f). All its state lives in this object; each protocol
 * step is one method taking and returning message objects.
 *
 *   forward   α_f = bottom(x_f[B]);  → label: Enc(α_f), m;  → coordinator: α_f·N_f + m
 *   backward  from label Enc(B·δ̃) and masks;  → coordinator: Enc(B·δ̃ ⊙ N_f rows) and
 *             Σ_chunks Enc(B·δ̃ ⊙ α_f columns), every slot masked
 *   apply     release B·δ̃·W_fᵀ and B·(α_fᵀ·δ̃ − R_f): backprop δ̃·W_fᵀ into the bottom network,
 *             step N_f with α_fᵀ·δ̃ − R_f (the label party steps V_f with R_f)
 */
import type * as Tf from '@tensorflow/tfjs';
import { CkksContext, CipherText, CkksEncryptor } from '@vfl/crypto';
import {
  INTERACTIVE_DEFAULTS,
  scheduleFactor,
  DenseStack,
  firstNonFinite,
  readTensor,
  bottomDropoutSeed,
  buildBottom,
  interactiveShare,
  MomentumShare,
  TfOptimizer,
} from '@vfl/ml';
import { secureUniformMasks } from '../split-lr/masked-decryption';
import { SLOT_MASK_BOUND_NN } from './slot-sum-decryption';
import { FeatureLayout, SplitNnJobLayout } from './job-layout';
import { slotSums } from './layout';
import {
  BatchKey,
  batchKeyString,
  NnBackwardProducts,
  NnBackwardToFeature,
  NnForwardShare,
  NnForwardToLabel,
} from './messages';
import type { NnCheckpointState, NnFeatureParameters } from './model-state';

export class SplitNnProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplitNnProtocolError';
  }
}

export interface SplitNnPartyOptions {
  readonly id: string;
  readonly layout: SplitNnJobLayout;
  readonly tf: typeof Tf;
  readonly ckks: CkksContext;
  readonly encryptor: CkksEncryptor;
  /** Standardised features of the aligned rows, row-major. */
  readonly features: Float64Array;
  /** The party's own seed: initialisation and dropout (keep it secret from the other parties). */
  readonly seed: number;
  /** A bottom network built elsewhere; checked against the job config. */
  readonly bottom?: DenseStack;
  readonly masks?: (count: number) => Float64Array;
}

interface PendingForward {
  readonly rows: Int32Array;
  readonly alpha: Float64Array;
  readonly dropoutSeed: number;
  maskTotal?: Float64Array;
}

export class SplitNnFeatureParty {
  readonly bottom: DenseStack;
  /** N_f, d_f × h row-major. */
  readonly share: MomentumShare;
  private readonly f: FeatureLayout;
  private readonly x: Tf.Tensor2D;
  private readonly optimizer: TfOptimizer;
  private readonly pending = new Map<string, PendingForward>();
  private readonly masks: (count: number) => Float64Array;
  /** The best epoch's parameters so far (early stopping). */
  private saved?: NnFeatureParameters;
  /** Dropout masks derive from it; a resumed job takes the interrupted one's from its checkpoint. */
  private seed: number;

  constructor(private readonly o: SplitNnPartyOptions) {
    this.seed = o.seed;
    this.f = o.layout.feature(o.id);
    const arch = o.layout.architecture;
    const rows = o.features.length / this.f.inputWidth;
    if (!Number.isInteger(rows))
      throw new SplitNnConfigMismatch(
        `party ${o.id}: ${o.features.length} values do not form rows of ${this.f.inputWidth} columns`,
      );
    this.bottom = o.bottom ?? buildBottom(o.tf, arch, o.id, this.f.inputWidth, o.seed);
    checkBottom(this.bottom, o.id, this.f.inputWidth, this.f.outputWidth);
    this.x = o.tf.tensor2d(Float32Array.from(o.features), [rows, this.f.inputWidth]);
    this.share = new MomentumShare(
      interactiveShare('feature', o.seed, o.id, this.f.outputWidth, o.layout.units),
      arch.interactive.momentum ?? INTERACTIVE_DEFAULTS.momentum,
    );
    this.optimizer = new TfOptimizer(o.tf, arch.training.optimizer);
    this.masks = o.masks ?? ((n) => secureUniformMasks(n, SLOT_MASK_BOUND_NN));
  }

  get id(): string {
    return this.o.id;
  }

  /** Steps 1 and 2: Enc(α_f) and the share mask for the label party, α_f·N_f + mask for the coordinator. */
  forward(key: BatchKey, rows: Int32Array): { toLabel: NnForwardToLabel; toCoordinator: NnForwardShare } {
    const { tf, ckks, encryptor, layout } = this.o;
    const training = key.phase === 'train';
    const dropoutSeed = bottomDropoutSeed(this.seed, key.epoch, key.batch);
    const options = { training, dropoutSeed, updateStatistics: training };
    const alpha = readTensor(tf, () =>
      this.bottom.forward(tf.gather<Tf.Tensor2D>(this.x, tf.tensor1d(rows, 'int32')), options),
    );
    if (firstNonFinite(alpha) >= 0) {
      const xb = tf.gather<Tf.Tensor2D>(this.x, tf.tensor1d(rows, 'int32'));
      try {
        this.bottom.locateNonFinite(xb, options, `at party ${this.o.id}, ${batchKeyString(key)}`);
      } finally {
        xb.dispose();
      }
    }
    const d = this.f.outputWidth;
    const h = layout.units;
    const encrypted = this.f.alpha.pack(alpha, rows.length).map((values) => {
      const ct = encryptor.encrypt(values);
      try {
        return ckks.serialize(ct);
      } finally {
        ct.delete();
        values.fill(0);
      }
    });
    const n = this.share.weights;
    const mask = this.masks(rows.length * h);
    const share = new Float64Array(rows.length * h);
    for (let i = 0; i < rows.length; i++) {
      for (let j = 0; j < h; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += alpha[i * d + k] * n[k * h + j];
        share[i * h + j] = s + mask[i * h + j];
      }
    }
    if (training) this.pending.set(batchKeyString(key), { rows, alpha, dropoutSeed });
    return {
      toLabel: { party: this.o.id, outputWidth: this.bottom.outputWidth, alpha: encrypted, shareMask: mask },
      toCoordinator: { party: this.o.id, share },
    };
  }

  /** Step 7: the masked products the coordinator sums into B·δ̃·W_fᵀ and B·α_fᵀ·δ̃. */
  backward(key: BatchKey, message: NnBackwardToFeature): NnBackwardProducts {
    const k = batchKeyString(key);
    const p = this.pending.get(k);
    if (!p) throw new SplitNnProtocolError(`party ${this.o.id}: no forward pass is pending for ${k}`);
    if (p.maskTotal) throw new SplitNnProtocolError(`party ${this.o.id}: backward for ${k} was already computed`);
    const { ckks, layout } = this.o;
    const rows = p.rows.length;
    const d = this.f.outputWidth;
    const h = layout.units;
    const plan = layout.backwardPlan(this.o.id, rows, ckks.topLevel - 1);
    const expected = layout.delta.ciphertextsFor(rows);
    if (message.delta.length !== expected) {
      throw new SplitNnProtocolError(
        `interactive layer gradient for party ${this.o.id}: expected ${expected} ciphertexts for ${rows} rows of ${h} units, got ${message.delta.length}`,
      );
    }
    const [gMask, wMask] = message.shareMasks;
    if (
      !(gMask instanceof Float64Array) ||
      gMask.length !== rows * d ||
      !(wMask instanceof Float64Array) ||
      wMask.length !== d * h
    ) {
      throw new SplitNnProtocolError(
        `interactive layer gradient for party ${this.o.id}: share masks expected ${rows * d} and ${d * h} values`,
      );
    }
    const delta: CipherText[] = [];
    const gMasks: Float64Array[] = [];
    const wMasks: Float64Array[] = [];
    try {
      for (const bytes of message.delta) delta.push(ckks.deserialize(bytes, { level: ckks.topLevel }));
      const n = this.share.weights;
      // δ̃·N_fᵀ: for each chunk c and each k, Enc(δ̃_c) ⊙ tile(N_f[k, :]); the coordinator sums each row's h slots.
      const nRows = Array.from({ length: d }, (_, kk) =>
        ckks.encode(layout.delta.tile(n.subarray(kk * h, (kk + 1) * h))),
      );
      const g: Uint8Array[] = [];
      try {
        delta.forEach((ct) => {
          for (let kk = 0; kk < d; kk++) g.push(this.maskedProduct(ct, nRows[kk], gMasks));
        });
      } finally {
        nRows.forEach((pt) => pt.delete());
      }
      // α_fᵀ·δ̃: for each k, Σ_c Enc(δ̃_c) ⊙ spread(α_f[:, k]); the coordinator sums each unit's slots over the rows.
      const w: Uint8Array[] = [];
      for (let kk = 0; kk < d; kk++) {
        let sum: CipherText | undefined;
        try {
          delta.forEach((ct, c) => {
            const pt = ckks.encode(layout.delta.spread(p.alpha, d, kk, c, rows));
            try {
              const product = ckks.multiplyPlainRescale(ct, pt);
              if (!sum) sum = product;
              else {
                ckks.evaluator.add(sum, product, sum);
                product.delete();
              }
            } finally {
              pt.delete();
            }
          });
          const mask = this.masks(ckks.slots);
          ckks.addValues(sum!, mask);
          wMasks.push(mask);
          w.push(ckks.serialize(sum!));
        } finally {
          sum?.delete();
        }
      }
      const total = slotSums(plan.parts[0], gMasks, plan.width);
      const wTotal = slotSums(plan.parts[1], wMasks, plan.width);
      for (let t = 0; t < total.length; t++) total[t] += wTotal[t];
      for (let t = 0; t < gMask.length; t++) total[t] += gMask[t];
      for (let t = 0; t < wMask.length; t++) total[rows * d + t] += wMask[t];
      p.maskTotal = total;
      return { g, w };
    } finally {
      delta.forEach((c) => c.delete());
      gMasks.forEach((m) => m.fill(0));
      wMasks.forEach((m) => m.fill(0));
    }
  }

  /** Step 9: unmasks the release, backpropagates δ̃·W_fᵀ into the bottom network, steps N_f. */
  applyRelease(key: BatchKey, released: Float64Array): void {
    const k = batchKeyString(key);
    const p = this.pending.get(k);
    if (!p?.maskTotal) throw new SplitNnProtocolError(`party ${this.o.id}: no backward is pending for ${k}`);
    if (released.length !== p.maskTotal.length) {
      throw new SplitNnProtocolError(
        `party ${this.o.id}: release for ${k} has ${released.length} values, expected ${p.maskTotal.length}`,
      );
    }
    this.pending.delete(k);
    const { tf, layout } = this.o;
    const rows = p.rows.length;
    const d = this.f.outputWidth;
    const arch = layout.architecture;
    const gradAlpha = new Float32Array(rows * d);
    for (let t = 0; t < gradAlpha.length; t++) gradAlpha[t] = (released[t] - p.maskTotal[t]) / rows;
    const shareGradient = new Float64Array(d * layout.units);
    for (let t = 0; t < shareGradient.length; t++)
      shareGradient[t] = (released[rows * d + t] - p.maskTotal[rows * d + t]) / rows;
    p.maskTotal.fill(0);
    const bad = firstNonFinite(gradAlpha);
    if (bad >= 0)
      throw new SplitNnProtocolError(
        `interactive layer gradient for party ${this.o.id} is non-finite at ${bad} (${k})`,
      );
    const factor = scheduleFactor(arch.training.schedule, key.epoch, arch.training.epochs);
    tf.tidy(() => {
      const xb = tf.gather<Tf.Tensor2D>(this.x, tf.tensor1d(p.rows, 'int32'));
      const upstream = tf.tensor2d(gradAlpha, [rows, d]);
      const { grads } = tf.variableGrads(
        () =>
          tf.sum<Tf.Scalar>(tf.mul(this.bottom.forward(xb, { training: true, dropoutSeed: p.dropoutSeed }), upstream)),
        this.bottom.trainable(),
      );
      this.optimizer.apply(this.bottom.trainable(), grads, arch.training.learningRate * factor);
    });
    this.share.apply(shareGradient, (arch.interactive.learningRate ?? INTERACTIVE_DEFAULTS.learningRate) * factor);
  }

  /** Keeps the current weights locally (the best epoch so far, for early stopping). */
  checkpoint(): void {
    this.saved = this.parameters();
  }

  /** Returns to the last checkpoint's weights (at the end of training: momenta are not kept). */
  restoreCheckpoint(): void {
    if (!this.saved) throw new SplitNnProtocolError(`party ${this.o.id}: no checkpoint to restore`);
    this.loadParameters(this.saved);
  }

  /** The trained part this party keeps: its bottom network and N_f. */
  parameters(): NnFeatureParameters {
    return { role: 'feature', bottom: this.bottom.exportValues(), share: Array.from(this.share.weights) };
  }

  /** Loads a saved part (for scoring); the momentum is not part of a model and starts at zero. */
  loadParameters(p: NnFeatureParameters): void {
    if (p.role !== 'feature')
      throw new SplitNnConfigMismatch(`party ${this.o.id}: the saved part is a ${String(p.role)} party's`);
    this.bottom.restore(p.bottom);
    this.share.restore({ weights: p.share, m: new Float64Array(this.share.weights.length) });
  }

  /** Everything needed to continue training from here (between epochs: nothing may be pending). */
  checkpointState(): NnCheckpointState {
    if (this.pending.size > 0)
      throw new SplitNnProtocolError(
        `party ${this.o.id}: cannot checkpoint with ${this.pending.size} batch(es) in flight`,
      );
    return {
      parameters: this.parameters(),
      training: {
        seed: this.seed,
        optimizer: this.optimizer.exportState(this.bottom.trainable()),
        shareMomenta: [Array.from(this.share.snapshot().m)],
      },
      ...(this.saved ? { best: this.saved } : {}),
    };
  }

  restoreState(s: NnCheckpointState): void {
    const p = s.parameters;
    if (p.role !== 'feature' || s.training.shareMomenta.length !== 1)
      throw new SplitNnConfigMismatch(`party ${this.o.id}: the checkpoint is not a feature party's`);
    this.bottom.restore(p.bottom);
    this.share.restore({ weights: p.share, m: s.training.shareMomenta[0] });
    this.optimizer.importState(this.bottom.trainable(), s.training.optimizer);
    this.seed = s.training.seed;
    if (s.best && s.best.role !== 'feature')
      throw new SplitNnConfigMismatch(`party ${this.o.id}: the checkpoint's best epoch is not a feature party's`);
    this.saved = s.best;
  }

  dispose(): void {
    this.x.dispose();
    this.bottom.dispose();
    this.optimizer.dispose();
  }

  private maskedProduct(ct: CipherText, plain: ReturnType<CkksContext['encode']>, masks: Float64Array[]): Uint8Array {
    const { ckks } = this.o;
    const product = ckks.multiplyPlainRescale(ct, plain);
    try {
      const mask = this.masks(ckks.slots);
      ckks.addValues(product, mask);
      masks.push(mask);
      return ckks.serialize(product);
    } finally {
      product.delete();
    }
  }
}

export class SplitNnConfigMismatch extends SplitNnProtocolError {
  constructor(message: string) {
    super(message);
    this.name = 'SplitNnConfigMismatch';
  }
}

/** A party's bottom network must take its columns and output the width the job config says. */
export function checkBottom(bottom: DenseStack, partyId: string, inputWidth: number, outputWidth: number): void {
  if (bottom.inputWidth !== inputWidth) {
    throw new SplitNnConfigMismatch(
      `${bottom.path}[0] of party ${partyId} takes ${bottom.inputWidth} inputs, the party has ${inputWidth} feature columns`,
    );
  }
  if (bottom.outputWidth !== outputWidth) {
    throw new SplitNnConfigMismatch(
      `${bottom.path} of party ${partyId} outputs ${bottom.outputWidth} units, the job config expects ${outputWidth}`,
    );
  }
}
