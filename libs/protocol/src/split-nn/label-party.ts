/**
 * The label party of split NN: its own bottom network, the interactive layer (its own weights
 * W_L and bias b, and its share V_f of every feature party's W_f = V_f + N_f), the top network
 * and the labels. All state in this object; one method per protocol step.
 *
 *   forwardProducts  from each f: Enc(α_f); → coordinator Enc(α_f ⊙ tile(V_f[:, j])) + masks
 *   trainStep        release Σ_f α_f·W_f (+ masks it removes); forward the rest, loss, δ = ∂loss/∂z;
 *                    steps its own parameters; → each f: Enc(B·δ̃), masks;
 *                    → coordinator: B·δ̃·V_fᵀ + mask, −B·R_f + mask; steps V_f with R_f
 *   predict          release Σ_f α_f·W_f for evaluation rows: probabilities
 *
 * Objectives: binary (one logit, sigmoid cross-entropy), regression (one output, squared error on
 * the target standardised on the training rows) and multiclass (K logits, softmax cross-entropy).
 * Only the top network and the loss change: what crosses the interactive layer is the same.
 */
import type * as Tf from '@tensorflow/tfjs';
import type { Objective } from '@vfl/data';
import { CipherText } from '@vfl/crypto';
import {
  INTERACTIVE_DEFAULTS,
  scheduleFactor,
  activate,
  DenseStack,
  ForwardOptions,
  firstNonFinite,
  NonFiniteActivationError,
  readTensor,
  bottomDropoutSeed,
  buildBottom,
  buildTop,
  interactiveShare,
  labelInteractiveWeights,
  topDropoutSeed,
  MomentumShare,
  TfOptimizer,
} from '@vfl/ml';
import { secureGaussian, secureUniformMasks } from '../split-lr/masked-decryption';
import { SLOT_MASK_BOUND_NN } from './slot-sum-decryption';
import { applyDefence, DefenceSpec, NO_DEFENCE } from './defence';
import { checkBottom, SplitNnConfigMismatch, SplitNnPartyOptions, SplitNnProtocolError } from './feature-party';
import { slotSums } from './layout';
import {
  BatchKey,
  batchKeyString,
  NnBackwardShare,
  NnBackwardToFeature,
  NnForwardProducts,
  NnForwardToLabel,
} from './messages';
import type { NnCheckpointState, NnLabelParameters } from './model-state';

export interface SplitNnLabelPartyOptions extends SplitNnPartyOptions {
  /** 0/1 labels (binary), standardised targets (regression) or class numbers 0..K-1 (multiclass). */
  readonly labels: ArrayLike<number>;
  readonly objective?: Objective;
  /** Multiclass: K. */
  readonly classCount?: number;
  readonly defence?: DefenceSpec;
  readonly gaussian?: () => number;
}

export interface LabelTrainStep {
  readonly toFeatures: NnBackwardToFeature[];
  readonly toCoordinator: NnBackwardShare[];
  readonly loss: number;
  /** Rows whose δ was clipped by the defence. */
  readonly clipped: number;
}

/** Released interactive values larger than this mean a diverged model or a wrong mask. */
const MAX_INTERACTIVE_MAGNITUDE = 1e6;

export class SplitNnLabelParty {
  readonly bottom: DenseStack;
  readonly top: DenseStack;
  readonly interactiveKernel: Tf.Variable;
  readonly interactiveBias: Tf.Variable;
  /** V_f per feature party (job order), d_f × h row-major. */
  readonly shares: MomentumShare[];
  private readonly x: Tf.Tensor2D;
  private readonly y: Tf.Tensor2D;
  private readonly optimizer: TfOptimizer;
  private readonly interactiveOptimizer: TfOptimizer;
  private readonly pending = new Map<string, { rows: Int32Array; maskTotal: Float64Array }>();
  private readonly masks: (count: number) => Float64Array;
  private readonly gaussian: () => number;
  readonly defence: DefenceSpec;
  /** The best epoch's parameters so far (early stopping). */
  private saved?: NnLabelParameters;
  /** Dropout masks derive from it; a resumed job takes the interrupted one's from its checkpoint. */
  private seed: number;

  constructor(private readonly o: SplitNnLabelPartyOptions) {
    this.seed = o.seed;
    const { tf, layout } = o;
    const arch = layout.architecture;
    const inputWidth = layout.spec.label.inputWidth;
    if (o.id !== layout.spec.label.id)
      throw new SplitNnConfigMismatch(`${o.id} is not the label party of this job (${layout.spec.label.id} is)`);
    const rows = o.features.length / inputWidth;
    if (!Number.isInteger(rows) || o.labels.length !== rows) {
      throw new SplitNnConfigMismatch(
        `label party ${o.id}: ${o.features.length} values and ${o.labels.length} labels do not form rows of ${inputWidth} columns`,
      );
    }
    this.bottom = o.bottom ?? buildBottom(tf, arch, o.id, inputWidth, o.seed);
    checkBottom(this.bottom, o.id, inputWidth, layout.labelOutputWidth);
    this.top = buildTop(tf, arch, o.seed, this.outputs);
    const h = layout.units;
    this.interactiveKernel = tf.variable(
      tf.tensor2d(labelInteractiveWeights(o.seed, layout.labelOutputWidth, h), [layout.labelOutputWidth, h]),
    );
    this.interactiveBias = tf.variable(tf.zeros([h]));
    const momentum = arch.interactive.momentum ?? INTERACTIVE_DEFAULTS.momentum;
    this.shares = layout.features.map(
      (f) => new MomentumShare(interactiveShare('label', o.seed, f.id, f.outputWidth, h), momentum),
    );
    this.x = tf.tensor2d(Float32Array.from(o.features), [rows, inputWidth]);
    this.y =
      o.objective === 'multiclass'
        ? tf.tidy(
            () => tf.oneHot(tf.tensor1d(Int32Array.from(o.labels), 'int32'), this.outputs).toFloat() as Tf.Tensor2D,
          )
        : tf.tensor2d(Float32Array.from(o.labels), [rows, 1]);
    this.optimizer = new TfOptimizer(tf, arch.training.optimizer);
    this.interactiveOptimizer = new TfOptimizer(tf, 'momentum', momentum);
    this.masks = o.masks ?? ((n) => secureUniformMasks(n, SLOT_MASK_BOUND_NN));
    this.gaussian = o.gaussian ?? secureGaussian;
    this.defence = o.defence ?? NO_DEFENCE;
  }

  /** Step 3: Enc(α_f ⊙ tile(V_f[:, j])) + masks for every feature party f and unit j. */
  forwardProducts(key: BatchKey, rows: Int32Array, fromFeatures: readonly NnForwardToLabel[]): NnForwardProducts {
    const { ckks, layout } = this.o;
    const k = batchKeyString(key);
    if (this.pending.has(k)) throw new SplitNnProtocolError(`label party: forward for ${k} was already computed`);
    if (fromFeatures.length !== layout.features.length) {
      throw new SplitNnProtocolError(
        `interactive layer: expected forward messages from ${layout.features.length} feature parties, got ${fromFeatures.length}`,
      );
    }
    const h = layout.units;
    const plan = layout.forwardPlan(rows.length, ckks.topLevel - 1);
    const maskTotal = new Float64Array(plan.width);
    const products = layout.features.map((f, fi) => {
      const message = fromFeatures[fi];
      if (message.party !== f.id)
        throw new SplitNnProtocolError(
          `interactive layer: forward message ${fi} is from ${message.party}, expected ${f.id}`,
        );
      if (message.outputWidth !== f.outputWidth) {
        throw new SplitNnConfigMismatch(
          `interactive layer input from party ${f.id}: bottom output has ${message.outputWidth} units, the job config expects ${f.outputWidth}`,
        );
      }
      const expected = f.alpha.ciphertextsFor(rows.length);
      if (message.alpha.length !== expected) {
        throw new SplitNnProtocolError(
          `interactive layer input from party ${f.id}: expected ${expected} ciphertexts for ${rows.length} rows of width ${f.outputWidth}, got ${message.alpha.length}`,
        );
      }
      if (!(message.shareMask instanceof Float64Array) || message.shareMask.length !== rows.length * h) {
        throw new SplitNnProtocolError(
          `interactive layer input from party ${f.id}: share mask expected ${rows.length * h} values`,
        );
      }
      const alpha: CipherText[] = [];
      const masks: Float64Array[] = [];
      const v = this.shares[fi].weights;
      const columns = Array.from({ length: h }, (_, j) =>
        ckks.encode(f.alpha.tile(Array.from({ length: f.outputWidth }, (_, kk) => v[kk * h + j]))),
      );
      try {
        for (const bytes of message.alpha) alpha.push(ckks.deserialize(bytes, { level: ckks.topLevel }));
        const out: Uint8Array[] = [];
        for (const ct of alpha) {
          for (let j = 0; j < h; j++) {
            const product = ckks.multiplyPlainRescale(ct, columns[j]);
            try {
              const mask = this.masks(ckks.slots);
              ckks.addValues(product, mask);
              masks.push(mask);
              out.push(ckks.serialize(product));
            } finally {
              product.delete();
            }
          }
        }
        const sums = slotSums(plan.parts[fi], masks, plan.width);
        for (let t = 0; t < maskTotal.length; t++) maskTotal[t] += sums[t] + message.shareMask[t];
        return out;
      } finally {
        alpha.forEach((c) => c.delete());
        columns.forEach((c) => c.delete());
        masks.forEach((m) => m.fill(0));
      }
    });
    this.pending.set(k, { rows, maskTotal });
    return { products };
  }

  /** Steps 5 and 6, after the coordinator released Σ_f α_f·W_f + masks for a training batch. */
  trainStep(key: BatchKey, released: Float64Array): LabelTrainStep {
    const { tf, ckks, encryptor, layout } = this.o;
    const { rows, zFederated } = this.federatedInput(key, released);
    const arch = layout.architecture;
    const h = layout.units;
    const B = rows.length;
    const factor = scheduleFactor(arch.training.schedule, key.epoch, arch.training.epochs);
    const options = {
      training: true,
      dropoutSeed: bottomDropoutSeed(this.seed, key.epoch, key.batch),
      updateStatistics: true,
    };
    const topOptions = {
      training: true,
      dropoutSeed: topDropoutSeed(this.seed, key.epoch, key.batch),
      updateStatistics: true,
    };
    let loss = NaN;
    const perExample = new Float64Array(B * h);
    tf.tidy(() => {
      const xb = tf.gather<Tf.Tensor2D>(this.x, tf.tensor1d(rows, 'int32'));
      const yb = tf.gather<Tf.Tensor2D>(this.y, tf.tensor1d(rows, 'int32'));
      const zVar = tf.variable(tf.tensor2d(Float32Array.from(zFederated), [B, h]), true);
      const own = [...this.bottom.trainable(), ...this.top.trainable()];
      const interactive = [this.interactiveKernel, this.interactiveBias];
      const { value, grads } = tf.variableGrads(() => {
        const a = this.bottom.forward(xb, options);
        const z = tf.add<Tf.Tensor2D>(tf.add(tf.matMul(a, this.interactiveKernel), this.interactiveBias), zVar);
        const logit = this.top.forward(
          activate(tf, z, arch.interactive.activation ?? INTERACTIVE_DEFAULTS.activation),
          topOptions,
        );
        return this.loss(yb, logit);
      }, [...own, ...interactive, zVar]);
      loss = value.dataSync()[0];
      if (!Number.isFinite(loss)) this.locateNonFinite(xb, zFederated, B, { ...options, updateStatistics: false }, key);
      const delta = grads[zVar.name].dataSync();
      for (let t = 0; t < delta.length; t++) perExample[t] = delta[t] * B;
      this.optimizer.apply(own, grads, arch.training.learningRate * factor);
      this.interactiveOptimizer.apply(
        interactive,
        grads,
        (arch.interactive.learningRate ?? INTERACTIVE_DEFAULTS.learningRate) * factor,
      );
      zVar.dispose();
    });
    const clipped = applyDefence(this.defence, perExample, h, this.gaussian);
    const delta = layout.delta.pack(perExample, B).map((values) => {
      const ct = encryptor.encrypt(values);
      try {
        return ckks.serialize(ct);
      } finally {
        ct.delete();
        values.fill(0);
      }
    });
    const interactiveRate = (arch.interactive.learningRate ?? INTERACTIVE_DEFAULTS.learningRate) * factor;
    const shareNoise = arch.interactive.shareNoise ?? INTERACTIVE_DEFAULTS.shareNoise;
    const toFeatures: NnBackwardToFeature[] = [];
    const toCoordinator: NnBackwardShare[] = [];
    layout.features.forEach((f, fi) => {
      const d = f.outputWidth;
      const v = this.shares[fi].weights;
      const gMask = this.masks(B * d);
      const wMask = this.masks(d * h);
      const gShare = new Float64Array(B * d);
      for (let i = 0; i < B; i++) {
        for (let kk = 0; kk < d; kk++) {
          let s = 0;
          for (let j = 0; j < h; j++) s += perExample[i * h + j] * v[kk * h + j];
          gShare[i * d + kk] = s + gMask[i * d + kk];
        }
      }
      // R_f splits the update of W_f: the feature party steps N_f with α_fᵀδ − R_f, this party V_f with R_f.
      const r = Float64Array.from({ length: d * h }, () => shareNoise * this.gaussian());
      const wShare = new Float64Array(d * h);
      for (let t = 0; t < wShare.length; t++) wShare[t] = -B * r[t] + wMask[t];
      this.shares[fi].apply(r, interactiveRate);
      r.fill(0);
      toFeatures.push({ delta, shareMasks: [gMask, wMask] });
      toCoordinator.push({ party: f.id, gShare, wShare });
    });
    perExample.fill(0);
    return { toFeatures, toCoordinator, loss, clipped };
  }

  /** Probabilities for evaluation rows after the coordinator released Σ_f α_f·W_f + masks. */
  predict(key: BatchKey, released: Float64Array): Float64Array {
    const { tf, layout } = this.o;
    const { rows, zFederated } = this.federatedInput(key, released);
    const arch = layout.architecture;
    const xb = tf.gather<Tf.Tensor2D>(this.x, tf.tensor1d(rows, 'int32'));
    try {
      const p = readTensor(tf, () => {
        const a = this.bottom.forward(xb, { training: false });
        const z = tf.add<Tf.Tensor2D>(
          tf.add(tf.matMul(a, this.interactiveKernel), this.interactiveBias),
          tf.tensor2d(Float32Array.from(zFederated), [rows.length, layout.units]),
        );
        return this.output(
          this.top.forward(activate(tf, z, arch.interactive.activation ?? INTERACTIVE_DEFAULTS.activation), {
            training: false,
          }),
        );
      });
      if (firstNonFinite(p) >= 0) this.locateNonFinite(xb, zFederated, rows.length, { training: false }, key);
      return p;
    } finally {
      xb.dispose();
    }
  }

  labelsOf(rows: Int32Array): Uint8Array {
    return Uint8Array.from(rows, (r) => this.o.labels[r]);
  }

  /** Units of the top's output: K for multiclass, else 1. */
  get outputs(): number {
    return this.o.objective === 'multiclass' ? this.o.classCount! : 1;
  }

  /** The training loss of the objective, on a batch's outputs. */
  private loss(y: Tf.Tensor2D, out: Tf.Tensor2D): Tf.Scalar {
    const { tf } = this.o;
    if (this.o.objective === 'regression') return tf.losses.meanSquaredError<Tf.Tensor2D, Tf.Scalar>(y, out);
    if (this.o.objective === 'multiclass') return tf.losses.softmaxCrossEntropy<Tf.Tensor2D, Tf.Scalar>(y, out);
    return tf.losses.sigmoidCrossEntropy<Tf.Tensor2D, Tf.Scalar>(y, out);
  }

  /** What a prediction is: a probability (binary), a standardised value (regression), K probabilities per row. */
  private output(out: Tf.Tensor2D): Tf.Tensor2D {
    const { tf } = this.o;
    if (this.o.objective === 'regression') return out;
    if (this.o.objective === 'multiclass') return tf.softmax(out);
    return tf.sigmoid(out);
  }

  /** Keeps the current weights locally (the best epoch so far, for early stopping). */
  checkpoint(): void {
    this.saved = this.parameters();
  }

  /** Returns to the last checkpoint's weights (at the end of training: momenta are not kept). */
  restoreCheckpoint(): void {
    if (!this.saved) throw new SplitNnProtocolError('label party: no checkpoint to restore');
    this.loadParameters(this.saved);
  }

  /** The trained part this party keeps: bottom, top, W_L, b and every V_f. */
  parameters(): NnLabelParameters {
    return {
      role: 'label',
      bottom: this.bottom.exportValues(),
      top: this.top.exportValues(),
      interactiveKernel: Array.from(this.interactiveKernel.dataSync()),
      interactiveBias: Array.from(this.interactiveBias.dataSync()),
      shares: this.o.layout.features.map((f, i) => ({ party: f.id, weights: Array.from(this.shares[i].weights) })),
    };
  }

  /** Loads a saved part (for scoring); momenta are not part of a model and start at zero. */
  loadParameters(p: NnLabelParameters): void {
    if (p.role !== 'label')
      throw new SplitNnConfigMismatch(`label party: the saved part is a ${String(p.role)} party's`);
    const { tf, layout } = this.o;
    const parties = layout.features.map((f) => f.id);
    if (p.shares.length !== parties.length || p.shares.some((s, i) => s.party !== parties[i])) {
      throw new SplitNnConfigMismatch(
        `label party: the saved part holds shares for ${p.shares.map((s) => s.party).join(', ')}, the job has feature parties ${parties.join(', ')}`,
      );
    }
    this.bottom.restore(p.bottom);
    this.top.restore(p.top);
    const interactive: [Tf.Variable, number[]][] = [
      [this.interactiveKernel, p.interactiveKernel],
      [this.interactiveBias, p.interactiveBias],
    ];
    for (const [v, values] of interactive) {
      if (values.length !== v.size)
        throw new SplitNnConfigMismatch(
          `label party: the saved interactive layer has ${values.length} values where ${v.size} are expected`,
        );
    }
    tf.tidy(() => interactive.forEach(([v, values]) => v.assign(tf.tensor(Float32Array.from(values), v.shape))));
    this.shares.forEach((s, i) => s.restore({ weights: p.shares[i].weights, m: new Float64Array(s.weights.length) }));
  }

  /** Everything needed to continue training from here (between epochs: nothing may be pending). */
  checkpointState(): NnCheckpointState {
    if (this.pending.size > 0)
      throw new SplitNnProtocolError(`label party: cannot checkpoint with ${this.pending.size} batch(es) in flight`);
    return {
      parameters: this.parameters(),
      training: {
        seed: this.seed,
        optimizer: this.optimizer.exportState([...this.bottom.trainable(), ...this.top.trainable()]),
        interactiveOptimizer: this.interactiveOptimizer.exportState([this.interactiveKernel, this.interactiveBias]),
        shareMomenta: this.shares.map((s) => Array.from(s.snapshot().m)),
      },
      ...(this.saved ? { best: this.saved } : {}),
    };
  }

  restoreState(s: NnCheckpointState): void {
    const p = s.parameters;
    if (p.role !== 'label' || !s.training.interactiveOptimizer || s.training.shareMomenta.length !== this.shares.length)
      throw new SplitNnConfigMismatch("label party: the checkpoint is not this label party's");
    this.loadParameters(p);
    this.shares.forEach((share, i) => share.restore({ weights: p.shares[i].weights, m: s.training.shareMomenta[i] }));
    this.optimizer.importState([...this.bottom.trainable(), ...this.top.trainable()], s.training.optimizer);
    this.interactiveOptimizer.importState(
      [this.interactiveKernel, this.interactiveBias],
      s.training.interactiveOptimizer,
    );
    this.seed = s.training.seed;
    if (s.best && s.best.role !== 'label')
      throw new SplitNnConfigMismatch("label party: the checkpoint's best epoch is not a label party's");
    this.saved = s.best;
  }

  dispose(): void {
    [this.x, this.y, this.interactiveKernel, this.interactiveBias].forEach((t) => t.dispose());
    this.bottom.dispose();
    this.top.dispose();
    this.optimizer.dispose();
    this.interactiveOptimizer.dispose();
  }

  /**
   * Removes this party's masks from the forward release: Σ_f α_f·W_f for the batch (rows × units).
   * Consumes the pending forward; trainStep and predict call it.
   */
  federatedInput(key: BatchKey, released: Float64Array): { rows: Int32Array; zFederated: Float64Array } {
    const k = batchKeyString(key);
    const p = this.pending.get(k);
    if (!p) throw new SplitNnProtocolError(`label party: no forward is pending for ${k}`);
    if (released.length !== p.maskTotal.length) {
      throw new SplitNnProtocolError(
        `interactive layer: release for ${k} has ${released.length} values, expected ${p.maskTotal.length}`,
      );
    }
    this.pending.delete(k);
    const zFederated = new Float64Array(released.length);
    for (let t = 0; t < released.length; t++) {
      const z = released[t] - p.maskTotal[t];
      if (!Number.isFinite(z) || Math.abs(z) > MAX_INTERACTIVE_MAGNITUDE) {
        throw new NonFiniteActivationError(
          'interactive',
          `interactive layer: Σ α·W from the feature parties is ${z} at row ${Math.floor(t / this.o.layout.units)} of ${k}`,
        );
      }
      zFederated[t] = z;
    }
    p.maskTotal.fill(0);
    return { rows: p.rows, zFederated };
  }

  private locateNonFinite(
    xb: Tf.Tensor2D,
    zFederated: Float64Array,
    rows: number,
    options: ForwardOptions,
    key: BatchKey,
  ): never {
    const { tf, layout } = this.o;
    const where = `at the label party, ${batchKeyString(key)}`;
    const a = this.bottom.forward(xb, options);
    if (firstNonFinite(a.dataSync()) >= 0) this.bottom.locateNonFinite(xb, options, where);
    const z = tf.tidy(() =>
      tf.add<Tf.Tensor2D>(
        tf.add(tf.matMul(a, this.interactiveKernel), this.interactiveBias),
        tf.tensor2d(Float32Array.from(zFederated), [rows, layout.units]),
      ),
    );
    if (firstNonFinite(z.dataSync()) >= 0)
      throw new NonFiniteActivationError('interactive', `interactive layer produced a non-finite activation ${where}`);
    const act = activate(tf, z, layout.architecture.interactive.activation ?? INTERACTIVE_DEFAULTS.activation);
    this.top.locateNonFinite(act, { ...options, dropoutSeed: topDropoutSeed(this.seed, key.epoch, key.batch) }, where);
  }
}
