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
 */
import { CkksContext, CipherText } from '../../../crypto/src/ckks-context';
import { CkksEncryptor } from '../../../crypto/src/ckks-keys';
import { LrHyperparameters, LrOptimizer } from '../../../ml/src/logistic';
import { TfLinearScorer } from '../../../ml/src/tf-linear';
import { packCiphertexts } from '../messages';
import { BlockPacking } from './block-packing';
import { SLOT_MASK_BOUND, secureUniformMasks } from './masked-decryption';

export class SplitLrProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplitLrProtocolError';
  }
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
}

abstract class SplitLrPartyBase {
  readonly weights: Float64Array;
  private readonly optimizer: LrOptimizer;
  private readonly pendingMasks = new Map<string, Float64Array>();

  constructor(protected readonly o: SplitLrPartyOptions) {
    this.weights = new Float64Array(o.columns);
    this.optimizer = new LrOptimizer(o.hp, o.columns, o.interceptIndex ?? -1);
  }

  /** This party's partial logits X_p[rows]·w_p. */
  partialLogits(rows: Int32Array): Float64Array {
    return this.o.scorer.logits(rows, this.weights);
  }

  /** Unmasks the coordinator's release and steps the optimizer. */
  applyUpdate(key: string, released: Float64Array): void {
    const mask = this.pendingMasks.get(key);
    if (!mask) throw new SplitLrProtocolError(`no gradient is pending for ${key}`);
    if (released.length !== this.o.columns) {
      throw new SplitLrProtocolError(`update for ${key} has ${released.length} values, expected ${this.o.columns}`);
    }
    this.pendingMasks.delete(key);
    const gradient = new Float64Array(this.o.columns);
    for (let j = 0; j < gradient.length; j++) gradient[j] = released[j] - mask[j];
    this.optimizer.apply(this.weights, gradient);
  }

  /** Enc(d_i·x_ij / |B| + r) in the batch's block layout, packed; remembers r's block sums under `key`. */
  protected maskedGradient(key: string, batch: Int32Array, residual: CipherText[]): Uint8Array {
    const { ckks } = this.o;
    const packing = this.packing(batch);
    const plains = packing.features(this.o.matrix, this.o.columns, batch, 1 / batch.length);
    const sums: (CipherText | undefined)[] = Array.from({ length: packing.gradientCiphertexts(this.o.columns) }, () => undefined);
    try {
      plains.forEach((chunk, c) => {
        chunk.forEach((layout, g) => {
          const plain = ckks.encode(layout);
          try {
            const product = ckks.multiplyPlainRescale(residual[c], plain);
            const sum = sums[g];
            if (!sum) sums[g] = product;
            else {
              ckks.evaluator.add(sum, product, sum);
              product.delete();
            }
          } finally {
            plain.delete();
          }
        });
      });
      const masks = Array.from(sums, () => (this.o.masks ?? ((n) => secureUniformMasks(n, SLOT_MASK_BOUND)))(ckks.slots));
      sums.forEach((sum, g) => ckks.addValues(sum!, masks[g]));
      this.pendingMasks.set(key, packing.blockSums(masks, this.o.columns));
      for (const m of masks) m.fill(0);
      return packCiphertexts(sums.map((sum) => ckks.serialize(sum!)));
    } finally {
      for (const sum of sums) sum?.delete();
    }
  }

  protected packing(batch: Int32Array): BlockPacking {
    if (batch.length === 0) throw new SplitLrProtocolError('empty batch');
    return new BlockPacking(this.o.ckks.slots, batch.length);
  }

  protected readResidual(batch: Int32Array, chunks: readonly Uint8Array[], what: string): CipherText[] {
    const { ckks } = this.o;
    const expected = this.packing(batch).chunks;
    if (chunks.length !== expected) {
      throw new SplitLrProtocolError(`${what}: expected ${expected} ciphertexts for ${batch.length} rows, got ${chunks.length}`);
    }
    const out: CipherText[] = [];
    try {
      for (const bytes of chunks) out.push(ckks.deserialize(bytes, { level: ckks.topLevel }));
      return out;
    } catch (e) {
      out.forEach((c) => c.delete());
      throw e;
    }
  }
}

export class FeaturePartyLr extends SplitLrPartyBase {
  /** Enc(u_f / 4) in the replicated row layout, one ciphertext per chunk of the batch. */
  forward(batch: Int32Array): Uint8Array[] {
    const quarter = this.partialLogits(batch).map((u) => u / 4);
    return this.packing(batch).replicate(quarter).map((chunk) => {
      const ct = this.o.encryptor.encrypt(chunk);
      try {
        return this.o.ckks.serialize(ct);
      } finally {
        ct.delete();
      }
    });
  }

  /** Masked encrypted gradient from the label party's Enc(d). */
  gradient(key: string, batch: Int32Array, residualChunks: readonly Uint8Array[]): Uint8Array {
    const residual = this.readResidual(batch, residualChunks, 'residual from the label party');
    try {
      return this.maskedGradient(key, batch, residual);
    } finally {
      residual.forEach((c) => c.delete());
    }
  }
}

export class LabelPartyLr extends SplitLrPartyBase {
  constructor(
    o: SplitLrPartyOptions,
    private readonly labels: Uint8Array,
  ) {
    super(o);
  }

  /**
   * Forms Enc(d) from every feature party's Enc(u_f / 4) and returns it (for the feature
   * parties) with this party's own masked encrypted gradient.
   */
  residual(key: string, batch: Int32Array, forwards: readonly (readonly Uint8Array[])[]): { residual: Uint8Array[]; gradient: Uint8Array } {
    if (forwards.length === 0) throw new SplitLrProtocolError('no forward shares from feature parties');
    const { ckks } = this.o;
    const sums = this.readResidual(batch, forwards[0], 'forward share');
    try {
      for (const other of forwards.slice(1)) {
        const cts = this.readResidual(batch, other, 'forward share');
        cts.forEach((ct, c) => {
          ckks.evaluator.add(sums[c], ct, sums[c]);
          ct.delete();
        });
      }
      const own = this.partialLogits(batch);
      const plainPart = own.map((u, k) => u / 4 + 0.5 - this.labels[batch[k]]);
      // Added as a fresh encryption, never as a plaintext: adding a plaintext changes only the
      // first ciphertext component, so the feature party could subtract the Enc(u_f/4) it sent
      // and read u_label/4 + 1/2 - y under any key. A fresh Enc re-randomises both components.
      this.packing(batch).replicate(plainPart).forEach((chunk, c) => {
        const mine = this.o.encryptor.encrypt(chunk);
        try {
          ckks.evaluator.add(sums[c], mine, sums[c]);
        } finally {
          mine.delete();
        }
        chunk.fill(0);
      });
      plainPart.fill(0);
      return { residual: sums.map((ct) => ckks.serialize(ct)), gradient: this.maskedGradient(key, batch, sums) };
    } finally {
      sums.forEach((c) => c.delete());
    }
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
