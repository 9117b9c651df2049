/**
 * The split-LR round of split-lr-party.ts with Paillier (paillier-bigint, 2048-bit keys) in place
 * of CKKS, the way FATE runs hetero LR: one ciphertext per value, no SIMD. Same messages, same
 * Taylor residual, same masks-before-decryption and per-party optimizers, so the benchmark can
 * time one protocol under both schemes in one process.
 *
 * Fixed point: a value v travels as round(v·2^F) mod n (negatives wrap to n − |v|·2^F), F = 32.
 * A gradient entry Σ_i d_i·x_ij is a product of two such values, at scale 2^2F. Paillier
 * decryption is exact (no key-dependent noise), so the coordinator needs no flooding; it sees
 * gradient + mask with the mask uniform below 2^(2F + 64), ≥ 2^40 times any gradient entry.
 */
import { randomBytes } from 'node:crypto';
import * as paillier from 'paillier-bigint';
import { LrHyperparameters, LrOptimizer, partialLogits } from '@vfl/ml';

export const PAILLIER_FIXED_POINT_BITS = 32;
const MASK_BITS = 2 * PAILLIER_FIXED_POINT_BITS + 64;

export function encodeFixed(v: number, n: bigint, bits = PAILLIER_FIXED_POINT_BITS): bigint {
  if (!Number.isFinite(v)) throw new RangeError(`cannot encode ${v} for Paillier`);
  const k = BigInt(Math.round(v * 2 ** bits));
  return k < 0n ? n + k : k;
}

export function decodeFixed(m: bigint, n: bigint, bits: number): number {
  const signed = m > n / 2n ? m - n : m;
  return Number(signed) / 2 ** bits;
}

/** The coordinator's side: the key pair, and decryption of masked values only. */
export class PaillierKeyHolder {
  private constructor(private readonly keys: paillier.KeyPair) {}

  static async generate(bits = 2048): Promise<PaillierKeyHolder> {
    return new PaillierKeyHolder(await paillier.generateRandomKeys(bits));
  }

  get publicKey(): paillier.PublicKey {
    return this.keys.publicKey;
  }

  decrypt(ciphertexts: readonly bigint[]): bigint[] {
    return ciphertexts.map((c) => this.keys.privateKey.decrypt(c));
  }
}

/** One party's half (label or feature), over its own standardised rows. */
export class PaillierLrParty {
  readonly weights: Float64Array;
  private readonly optimizer: LrOptimizer;
  private masks?: bigint[];

  constructor(
    private readonly publicKey: paillier.PublicKey,
    private readonly matrix: Float64Array,
    private readonly columns: number,
    hp: LrHyperparameters,
    interceptIndex = -1,
    private readonly labels?: Uint8Array,
  ) {
    this.weights = new Float64Array(columns);
    this.optimizer = new LrOptimizer(hp, columns, interceptIndex);
  }

  /** Feature party: Enc(u_f / 4), one ciphertext per row. */
  forward(batch: Int32Array): bigint[] {
    const n = this.publicKey.n;
    return Array.from(partialLogits(this.matrix, this.columns, this.weights, batch), (u) =>
      this.publicKey.encrypt(encodeFixed(u / 4, n)),
    );
  }

  /** Label party: Enc(d) = Σ Enc(u_f/4) + Enc(u_label/4 + ½ − y), one ciphertext per row. */
  residual(batch: Int32Array, forwards: readonly (readonly bigint[])[]): bigint[] {
    if (!this.labels) throw new RangeError('only the label party forms the residual');
    const n = this.publicKey.n;
    const own = partialLogits(this.matrix, this.columns, this.weights, batch);
    return Array.from(batch, (row, k) => {
      const mine = this.publicKey.encrypt(encodeFixed(own[k] / 4 + 0.5 - this.labels![row], n));
      return this.publicKey.addition(mine, ...forwards.map((f) => f[k]));
    });
  }

  /** Enc(Σ_i d_i·x_ij + mask_j) per column: the masked gradient at scale 2^2F (the 1/|B| is applied after). */
  maskedGradient(batch: Int32Array, residual: readonly bigint[]): bigint[] {
    const { n, _n2: n2 } = this.publicKey;
    const F = 2 ** PAILLIER_FIXED_POINT_BITS;
    this.masks = [];
    return Array.from({ length: this.columns }, (_, j) => {
      // Σ over positive and negative x separately: exponents stay 32-bit instead of 2048-bit.
      let positive = 1n;
      let negative = 1n;
      batch.forEach((row, k) => {
        const x = Math.round(this.matrix[row * this.columns + j] * F);
        if (x > 0) positive = (positive * this.publicKey.multiply(residual[k], BigInt(x))) % n2;
        else if (x < 0) negative = (negative * this.publicKey.multiply(residual[k], BigInt(-x))) % n2;
      });
      const mask = randomBelow(MASK_BITS);
      this.masks!.push(mask);
      return this.publicKey.plaintextAddition((positive * modInverse(negative, n2)) % n2, mask % n);
    });
  }

  /** Removes the masks from the coordinator's release and steps the optimizer. */
  applyUpdate(released: readonly bigint[], batchRows: number): void {
    if (!this.masks || released.length !== this.columns)
      throw new RangeError(`expected ${this.columns} released values for a pending gradient`);
    const n = this.publicKey.n;
    const gradient = released.map(
      (m, j) => decodeFixed((((m - this.masks![j]) % n) + n) % n, n, 2 * PAILLIER_FIXED_POINT_BITS) / batchRows,
    );
    this.masks = undefined;
    this.optimizer.apply(this.weights, gradient);
  }
}

function randomBelow(bits: number): bigint {
  return BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) & ((1n << BigInt(bits)) - 1n);
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return ((oldS % m) + m) % m;
}
