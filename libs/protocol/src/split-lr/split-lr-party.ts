/**
 * One party's half of split logistic regression under CKKS (after Hardy et al. 2017, with masked
 * decryption so the coordinator never sees a gradient).
 *
 * Per mini-batch B (rows agreed by seed; u = u_label + Σ u_feature):
 *   feature f -> label     Enc(u_f / 4)                         (FeaturePartyLr.forward)
 *   label -> every f       Enc(d), d = Σ u_f/4 + u_label/4 + 1/2 - y   (LabelPartyLr.residual)
 *   each party -> coord.   Enc(d_i·x_ij / |B| + r_p) per slot, r_p a fresh uniform mask on every slot
 *                          (BlockPacking: one block of rows per column, no rotations)
 *   coord. -> each party   round(Σ_block (d_i·x_ij / |B| + r_p) + flood) = X_pᵀ d / |B| + Σ r_p + noise
 *   each party             subtracts its mask sums, steps its own optimizer on its own weights.
 * The label party never sees u_f in the clear; a feature party never sees d or y in the clear;
 * the coordinator sees only masked values.
 *
 * With the cubic sigmoid (d = 1/2 + a·u + b·u³ - y) the forward share is two ciphertexts per
 * chunk, Enc(c·u_f) and Enc(a·u_f) with c = ∛b, and the label party forms
 *   V = Σ Enc(c·u_f) + Enc(c·u_label),  Enc(d) = V ⊗ V ⊗ V + Σ Enc(a·u_f) + Enc(a·u_label + 1/2 - y),
 * cross terms between parties included. No level is spent before the gradient's plaintext
 * product: the scales multiply instead (CubicScales), so the gradient is still decrypted one
 * level below the top.
 *
 * Linear regression (objective `regression`, squared loss) is the same round with no sigmoid: the
 * forward share is Enc(u_f) and d = Σ u_f + u_label - y, y the target standardised on the training
 * rows (so d stays O(1) like the logistic residual). Multiclass runs one such party per class
 * (one-vs-rest heads, each its own weights and optimizer) on the same batches.
 */
import { CkksContext, CkksError, CipherText, CkksEngine, InlineCkksEngine, CkksEncryptor } from '@vfl/crypto';
import { CUBIC_SIGMOID, isRowWeighted, LrHyperparameters, LrOptimizer, OptimizerState, TfLinearScorer } from '@vfl/ml';
import { packCiphertexts } from '../wire/codec';
import { BlockPacking } from './block-packing';
import { SLOT_MASK_BOUND, secureUniformMasks } from './masked-decryption';

export class SplitLrProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplitLrProtocolError';
  }
}

/**
 * Scales (as powers of two) and levels of each ciphertext of a round, so every receiver can check them:
 *   taylor: Enc(u/4) and Enc(d) at 2^40, one level below the top; features (x/|B|) at 2^32; the
 *           gradient is their product at 2^72, not rescaled: masked values up to 2^24 fill 2^96 of
 *           the level's ~2^100 modulus. Encrypting below the top makes every ciphertext a third
 *           smaller and each encryption cheaper, and skipping the rescale saves six NTTs a product;
 *   taylor with a positive-class weight: at the top level, Enc(Σ u_f/4) times the row weights at
 *           2^20, so Enc(w·d) at 2^60; features at 2^40, the gradient rescaled by the top prime;
 *   cubic:  at the top level, Enc(c·u) at 2^28 (cubed: 2^84), Enc(a·u) and Enc(d) at 2^84,
 *           features (x/|B|) at 2^26, gradient 2^110 rescaled: 2^70, so values up to 2^29 fit at
 *           level 1 (2^100), 2^5 above the 2^24 masks.
 * The gradient is always decrypted one level below the top.
 */
export interface RoundScales {
  readonly forward: number;
  readonly cubeRoot: number;
  readonly rowWeights: number;
  readonly residual: number;
  readonly features: number;
  /** Levels below the top at which the forward shares and Enc(d) travel (1: the gradient needs no rescale). */
  readonly residualDepth: 0 | 1;
}

type ScaleChoices = Pick<LrHyperparameters, 'sigmoid' | 'positiveWeight'>;

export function roundScales(hp: ScaleChoices): RoundScales {
  if (hp.sigmoid === 'cubic')
    return {
      forward: 2 ** 84,
      cubeRoot: 2 ** 28,
      rowWeights: 1,
      residual: 2 ** 84,
      features: 2 ** 26,
      residualDepth: 0,
    };
  if (isRowWeighted(hp))
    return {
      forward: 2 ** 40,
      cubeRoot: 2 ** 40,
      rowWeights: 2 ** 20,
      residual: 2 ** 60,
      features: 2 ** 40,
      residualDepth: 0,
    };
  return { forward: 2 ** 40, cubeRoot: 2 ** 40, rowWeights: 1, residual: 2 ** 40, features: 2 ** 32, residualDepth: 1 };
}

/** The scale of a round's gradient ciphertexts (one level below the top). */
export function gradientScale(ckks: CkksContext, hp: ScaleChoices): number {
  const s = roundScales(hp);
  const product = s.residual * s.features;
  return s.residualDepth === 1 ? product : ckks.rescaledScale(product, ckks.topLevel);
}

/** What a feature party sends the label party per batch: Taylor, `chunks` only; cubic, both. */
export interface ForwardShare {
  readonly chunks: readonly Uint8Array[];
  readonly linear?: readonly Uint8Array[];
}

const CUBE_ROOT_B = Math.cbrt(CUBIC_SIGMOID.b);

/** A split-LR party's training state at the end of an epoch. */
export interface LrPartyState {
  readonly weights: readonly number[];
  readonly optimizer: OptimizerState;
  /** Early stopping: the best epoch's weights so far. */
  readonly best?: readonly number[];
}

export interface SplitLrPartyOptions {
  readonly ckks: CkksContext;
  readonly encryptor: CkksEncryptor;
  readonly hp: LrHyperparameters;
  readonly scorer: TfLinearScorer;
  /** Row-major standardised features (label party: intercept column last). */
  readonly matrix: Float64Array;
  readonly columns: number;
  readonly interceptIndex?: number;
  readonly masks?: (count: number) => Float64Array;
  /** Where the gradient products and encryptions run (default: inline on the calling thread). */
  readonly engine?: CkksEngine;
  /** Label party: the weight of a positive row, resolved from hp.positiveWeight ("balanced" included). */
  readonly positiveWeight?: number;
}

abstract class SplitLrPartyBase {
  readonly weights: Float64Array;
  private readonly optimizer: LrOptimizer;
  /** Per pending gradient, the block sums of the masks this party added. */
  private readonly pendingMasks = new Map<string, Float64Array>();

  protected readonly engine: CkksEngine;

  constructor(protected readonly o: SplitLrPartyOptions) {
    this.engine = o.engine ?? new InlineCkksEngine({ ckks: o.ckks, encryptor: o.encryptor });
    this.weights = new Float64Array(o.columns);
    this.optimizer = new LrOptimizer(o.hp, o.columns, o.interceptIndex ?? -1);
  }

  private best?: Float64Array;

  /** What a checkpoint keeps: the weights, the optimizer's state, and the early-stopping snapshot if any. */
  checkpointState(): LrPartyState {
    return {
      weights: Array.from(this.weights),
      optimizer: this.optimizer.state(),
      ...(this.best ? { best: Array.from(this.best) } : {}),
    };
  }

  restoreState(state: LrPartyState): void {
    if (state?.weights?.length !== this.weights.length)
      throw new SplitLrProtocolError(
        `checkpoint holds ${state?.weights?.length} weights, this party has ${this.weights.length} columns`,
      );
    if (state.best !== undefined && state.best.length !== this.weights.length)
      throw new SplitLrProtocolError(
        `checkpoint holds a best-epoch snapshot of ${state.best.length} weights, this party has ${this.weights.length} columns`,
      );
    this.optimizer.restore(state.optimizer);
    this.weights.set(state.weights);
    this.best = state.best ? Float64Array.from(state.best) : undefined;
  }

  /** Early stopping: remembers the current weights as the best so far. */
  snapshot(): void {
    this.best = Float64Array.from(this.weights);
  }

  /** Early stopping: back to the remembered weights. */
  restore(): void {
    if (!this.best) throw new SplitLrProtocolError('no snapshot to restore');
    this.weights.set(this.best);
  }

  /** Has the engine make the encryptions of zero this party's rounds will use, and readies this thread's encoder. */
  async prepare(): Promise<void> {
    const reserves = Promise.all(
      this.encryptionScales().map((scale) => this.engine.prepare(scale, this.residualLevel)),
    );
    this.o.ckks.prepareEncoding(this.residualLevel);
    await reserves;
  }

  /** The scales this party encrypts at in a round. */
  protected abstract encryptionScales(): number[];

  /** This party's partial logits X_p[rows]·w_p. */
  partialLogits(rows: Int32Array): Float64Array {
    return this.o.scorer.logits(rows, this.weights);
  }

  /** Unmasks the coordinator's release and steps the optimizer (at epoch `epoch`'s learning rate). */
  applyUpdate(key: string, released: Float64Array, epoch = 0): void {
    const maskSums = this.pendingMasks.get(key);
    if (!maskSums) throw new SplitLrProtocolError(`no gradient is pending for ${key}`);
    if (released.length !== this.o.columns) {
      throw new SplitLrProtocolError(`update for ${key} has ${released.length} values, expected ${this.o.columns}`);
    }
    this.pendingMasks.delete(key);
    const gradient = new Float64Array(this.o.columns);
    for (let j = 0; j < gradient.length; j++) gradient[j] = released[j] - maskSums[j];
    this.optimizer.apply(this.weights, gradient, epoch);
  }

  protected get cubic(): boolean {
    return this.o.hp.sigmoid === 'cubic';
  }

  protected get scales(): RoundScales {
    return roundScales(this.o.hp);
  }

  /**
   * Enc(d_i·x_ij / |B| + r) in the batch's block layout, packed; remembers r's block sums under
   * `key`. The engine spreads the gradient ciphertexts over its worker threads.
   */
  protected async maskedGradient(key: string, batch: Int32Array, residual: readonly Uint8Array[]): Promise<Uint8Array> {
    const { ckks } = this.o;
    const scales = this.scales;
    const packing = this.packing(batch);
    // x/|B| per slot, so that what the coordinator sees under a 2^24 mask is tiny (≈ 2^-6 at most).
    const plains = packing.features(this.o.matrix, this.o.columns, batch, 1 / batch.length);
    const count = packing.gradientCiphertexts(this.o.columns);
    const masks = Array.from({ length: count }, () =>
      (this.o.masks ?? ((n) => secureUniformMasks(n, SLOT_MASK_BOUND)))(ckks.slots),
    );
    if (this.pendingMasks.has(key)) throw new SplitLrProtocolError(`a gradient for ${key} is already pending`);
    this.pendingMasks.set(key, packing.blockSums(masks, this.o.columns));
    const expect = { level: this.residualLevel, scale: scales.residual };
    try {
      const outputs = masks.map((add, g) => ({ plains: plains.map((chunk) => chunk[g]), add }));
      return packCiphertexts(
        await this.engine.productSums({
          ciphertexts: residual,
          expect,
          plainScale: scales.features,
          rescale: scales.residualDepth === 0,
          outputs,
        }),
      );
    } catch (e) {
      this.pendingMasks.delete(key);
      throw e;
    } finally {
      for (const m of masks) if (m.length > 0) m.fill(0); // a worker engine took (and zeroes) the rest
    }
  }

  protected get residualLevel(): number {
    return this.o.ckks.topLevel - this.scales.residualDepth;
  }

  protected packing(batch: Int32Array): BlockPacking {
    if (batch.length === 0) throw new SplitLrProtocolError('empty batch');
    return new BlockPacking(this.o.ckks.slots, batch.length);
  }

  protected checkChunkCount(
    batch: Int32Array,
    chunks: readonly Uint8Array[] | undefined,
    what: string,
  ): asserts chunks is readonly Uint8Array[] {
    const expected = this.packing(batch).chunks;
    if (!Array.isArray(chunks) || chunks.length !== expected) {
      throw new SplitLrProtocolError(
        `${what}: expected ${expected} ciphertexts for ${batch.length} rows, got ${Array.isArray(chunks) ? chunks.length : 'none'}`,
      );
    }
  }

  /** A scale mismatch usually means the parties disagree on the sigmoid or positiveWeight. */
  protected namedCkksError(what: string, e: unknown, scale: number): SplitLrProtocolError {
    return new SplitLrProtocolError(
      `${what}: ${e instanceof Error ? e.message : String(e)} (expected scale 2^${Math.log2(scale)})`,
    );
  }

  protected readResidual(
    batch: Int32Array,
    chunks: readonly Uint8Array[] | undefined,
    what: string,
    scale: number,
  ): CipherText[] {
    const { ckks } = this.o;
    this.checkChunkCount(batch, chunks, what);
    const out: CipherText[] = [];
    try {
      chunks.forEach((bytes, c) => {
        try {
          out.push(ckks.deserialize(bytes, { level: this.residualLevel, scale }));
        } catch (e) {
          throw this.namedCkksError(`${what}, ciphertext ${c}`, e, scale);
        }
      });
      return out;
    } catch (e) {
      out.forEach((c) => c.delete());
      throw e;
    }
  }
}

export class FeaturePartyLr extends SplitLrPartyBase {
  protected encryptionScales(): number[] {
    return this.cubic ? [this.scales.cubeRoot, this.scales.residual] : [this.scales.forward];
  }

  /** Taylor: Enc(u_f / 4); cubic: Enc(c·u_f) and Enc(a·u_f); regression: Enc(u_f). One ciphertext per chunk each. */
  forward(batch: Int32Array): ForwardShare {
    const u = this.partialLogits(batch);
    const factor = this.o.hp.objective === 'regression' ? 1 : 1 / 4;
    const encrypt = (values: Float64Array, scale: number) =>
      this.packing(batch)
        .replicate(values)
        .map((chunk) => {
          const ct = this.engine.encrypt(chunk, scale, this.residualLevel);
          try {
            return this.o.ckks.serialize(ct);
          } finally {
            ct.delete();
          }
        });
    if (!this.cubic)
      return {
        chunks: encrypt(
          u.map((v) => v * factor),
          this.scales.forward,
        ),
      };
    return {
      chunks: encrypt(
        u.map((v) => CUBE_ROOT_B * v),
        this.scales.cubeRoot,
      ),
      linear: encrypt(
        u.map((v) => CUBIC_SIGMOID.a * v),
        this.scales.residual,
      ),
    };
  }

  /** Masked encrypted gradient from the label party's Enc(d). */
  async gradient(key: string, batch: Int32Array, residualChunks: readonly Uint8Array[]): Promise<Uint8Array> {
    const what = 'residual from the label party';
    this.checkChunkCount(batch, residualChunks, what);
    try {
      // The engine parses and checks each ciphertext (level, scale, size) before any work.
      return await this.maskedGradient(key, batch, residualChunks);
    } catch (e) {
      throw e instanceof CkksError ? this.namedCkksError(what, e, this.scales.residual) : e;
    }
  }
}

export class LabelPartyLr extends SplitLrPartyBase {
  /** @param labels 0/1 (binary, or a multiclass head's "class is k"), or the standardised targets (regression). */
  constructor(
    o: SplitLrPartyOptions,
    private readonly labels: ArrayLike<number>,
  ) {
    super(o);
  }

  protected encryptionScales(): number[] {
    return this.cubic ? [this.scales.cubeRoot, this.scales.residual] : [this.scales.residual];
  }

  /**
   * Forms Enc(d) from every feature party's forward share and returns it (for the feature
   * parties) with this party's own masked encrypted gradient, which is still being computed
   * (on the engine's threads) while the caller sends Enc(d) on.
   */
  residual(
    key: string,
    batch: Int32Array,
    forwards: readonly ForwardShare[],
  ): { residual: Uint8Array[]; gradient: Promise<Uint8Array> } {
    if (forwards.length === 0) throw new SplitLrProtocolError('no forward shares from feature parties');
    const { ckks } = this.o;
    const scales = this.scales;
    const own = this.partialLogits(batch);
    const sums = this.sumShares(
      batch,
      forwards.map((f) => f.chunks),
      'forward share',
      this.cubic ? scales.cubeRoot : scales.forward,
    );
    try {
      if (this.cubic) {
        this.addFresh(
          batch,
          sums,
          own.map((u) => CUBE_ROOT_B * u),
          scales.cubeRoot,
        );
        const relin = this.o.encryptor.relinKeys;
        if (!relin)
          throw new SplitLrProtocolError('the cubic sigmoid needs relinearisation keys, and the key bundle has none');
        // V³ = b·u³ for the whole logit u, every cross term between parties included.
        for (let c = 0; c < sums.length; c++) {
          const v = sums[c];
          const square = ckks.multiplyRelin(v, v, relin);
          try {
            sums[c] = ckks.multiplyRelin(square, v, relin);
            v.delete();
          } finally {
            square.delete();
          }
        }
        const linear = this.sumShares(
          batch,
          forwards.map((f) => f.linear),
          'linear forward share',
          scales.residual,
        );
        linear.forEach((ct, c) => {
          ckks.evaluator.add(sums[c], ct, sums[c]);
          ct.delete();
        });
        this.addFresh(
          batch,
          sums,
          own.map((u, k) => CUBIC_SIGMOID.a * u + 0.5 - this.labels[batch[k]]),
          scales.residual,
        );
      } else {
        const hp = this.o.hp;
        const positiveWeight = this.o.positiveWeight ?? (typeof hp.positiveWeight === 'number' ? hp.positiveWeight : 1);
        const weight = (k: number) => (this.labels[batch[k]] === 1 ? positiveWeight : 1);
        // Weighted or not as every party's scales say (a "balanced" weight may come out at exactly 1).
        if (isRowWeighted(hp)) {
          // w·Enc(Σ u_f/4): a plaintext product without rescale, so the scale grows instead of the level dropping.
          const weights = this.packing(batch).replicate(Float64Array.from(batch, (_, k) => weight(k)));
          weights.forEach((w, c) => {
            const plain = ckks.encode(w, this.residualLevel, scales.rowWeights);
            try {
              ckks.evaluator.multiplyPlain(sums[c], plain, sums[c]);
            } finally {
              plain.delete();
              w.fill(0);
            }
          });
        }
        // Regression: d = Σ u_f + u_label - y (squared loss), no sigmoid and no row weights.
        const regression = hp.objective === 'regression';
        this.addFresh(
          batch,
          sums,
          own.map((u, k) =>
            regression ? u - this.labels[batch[k]] : weight(k) * (u / 4 + 0.5 - this.labels[batch[k]]),
          ),
          scales.residual,
        );
      }
      const residual = sums.map((ct) => ckks.serialize(ct));
      return { residual, gradient: this.maskedGradient(key, batch, residual) };
    } finally {
      sums.forEach((c) => c.delete());
    }
  }

  /** The chunk-wise sum of every feature party's ciphertexts of one kind. */
  private sumShares(
    batch: Int32Array,
    shares: readonly (readonly Uint8Array[] | undefined)[],
    what: string,
    scale: number,
  ): CipherText[] {
    const { ckks } = this.o;
    const sums = this.readResidual(batch, shares[0], what, scale);
    try {
      for (const other of shares.slice(1)) {
        const cts = this.readResidual(batch, other, what, scale);
        cts.forEach((ct, c) => {
          ckks.evaluator.add(sums[c], ct, sums[c]);
          ct.delete();
        });
      }
      return sums;
    } catch (e) {
      sums.forEach((c) => c.delete());
      throw e;
    }
  }

  /**
   * Adds this party's part as a fresh encryption, never as a plaintext: adding a plaintext changes
   * only the first ciphertext component, so a feature party could subtract the share it sent and
   * read what was added under any key. A fresh Enc re-randomises both components.
   */
  private addFresh(batch: Int32Array, sums: CipherText[], values: Float64Array, scale: number): void {
    this.packing(batch)
      .replicate(values)
      .forEach((chunk, c) => {
        const mine = this.engine.encrypt(chunk, scale, this.residualLevel);
        try {
          this.o.ckks.evaluator.add(sums[c], mine, sums[c]);
        } finally {
          mine.delete();
        }
        chunk.fill(0);
      });
    values.fill(0);
  }

  /** Full logits for `rows` given every feature party's partial logits for the same rows. */
  logits(rows: Int32Array, peerPartials: readonly Float64Array[]): Float64Array {
    const out = this.partialLogits(rows);
    for (const partial of peerPartials) {
      if (partial.length !== rows.length) {
        throw new SplitLrProtocolError(`partial logits have ${partial.length} rows, expected ${rows.length}`);
      }
      for (let k = 0; k < out.length; k++) out[k] += partial[k];
    }
    return out;
  }
}
