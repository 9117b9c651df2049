/**
 * How SecureBoost puts a node's g, h and a feature party's bins into BFV polynomials so that one
 * plaintext × ciphertext product yields every bin sum of several features (Cheetah-style
 * coefficient packing; docs/protocol.md §5).
 *
 * A node's rows are cut into chunks of n rows. Chunk polynomial (label party, encrypted), with g
 * and h of a row packed in one coefficient (SecureBoost+'s GH packing):
 *   G(X) = Σ_i (g_i + 2^K·h_i)·X^i                       (i < n, fixed point, residues mod t)
 * One-hot polynomial of a product group (feature party, plaintext), for its features q < k:
 *   P(X) = Σ_q Σ_i X^((q·S + bin_q(row_i))·n − i)        (S = maxBins + 1 slots per feature)
 * In G·P the coefficient (q·S + b)·n is Σ (g_i + 2^K·h_i) over the chunk's rows in bin b of
 * feature q: a cross term with i ≠ l lands i − l (0 < |i − l| < n) away from a multiple of n,
 * and k·S·n ≤ N keeps the negacyclic wrap of X^(−i) clear of every output. Summing G·P over a
 * node's chunks sums the bins over all its rows.
 */
import { randomBytes } from 'node:crypto';
import type { GbdtParams } from '@vfl/ml';

export interface NodeLayout {
  /** Ring degree N. */
  readonly degree: number;
  /** Histogram slots per feature: maxBins + 1 (the last is the missing-value bin). */
  readonly slots: number;
  /** Rows per chunk (n), and the spacing of the outputs. */
  readonly block: number;
  /** Features per product (k). */
  readonly featuresPerProduct: number;
  readonly chunks: number;
}

/** The layout of a node of `rows` rows: the widest block that fits, narrower for small nodes. */
export function nodeLayout(degree: number, maxBins: number, rows: number): NodeLayout {
  const slots = maxBins + 1;
  const widest = Math.floor(degree / slots);
  if (widest < 1) throw new RangeError(`${maxBins} bins do not fit a ring of degree ${degree}`);
  const block = Math.min(widest, Math.max(1, rows));
  return {
    degree,
    slots,
    block,
    featuresPerProduct: Math.floor(degree / (slots * block)),
    chunks: Math.ceil(rows / block),
  };
}

/** Product groups: the sampled features, k at a time. */
export function productGroups(layout: NodeLayout, features: readonly number[]): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < features.length; i += layout.featuresPerProduct)
    groups.push(features.slice(i, i + layout.featuresPerProduct));
  return groups;
}

/**
 * How g and h share a coefficient: both as integers of 2^-fractionBits, h shifted up by gBits.
 * A sum over any set of rows stays decodable: |Σ g| < 2^(gBits−1) and Σ h·2^gBits + 2^(gBits−1) < t/2.
 */
export interface GradientPacking {
  readonly fractionBits: number;
  readonly gBits: number;
}

/**
 * The finest fixed point that keeps every node's sums decodable for `rows` training rows with
 * |g| ≤ gBound and 0 ≤ h ≤ hBound (both before scaling), under a plaintext modulus of `tBits` bits.
 */
export function gradientPacking(tBits: number, rows: number, gBound: number, hBound: number): GradientPacking {
  const lg = Math.ceil(Math.log2(Math.max(1, rows * gBound)));
  const lh = Math.ceil(Math.log2(Math.max(1, rows * hBound)));
  const fractionBits = Math.min(20, Math.floor((tBits - 5 - lg - lh) / 2));
  if (fractionBits < 6)
    throw new RangeError(
      `${rows} training rows leave the packed gradients fewer than 6 bits of precision: sample the rows (rowSample) or lower positiveWeight`,
    );
  return { fractionBits, gBits: fractionBits + lg + 2 };
}

/** The label party's packing: bounds of |g| and h from the objective, the labels and the positive weight. */
export function labelPartyPacking(
  params: Pick<GbdtParams, 'objective' | 'positiveWeight'>,
  labels: ArrayLike<number>,
  train: Int32Array,
  tBits: number,
): GradientPacking {
  let positives = 0;
  let largest = 0;
  for (const r of train) {
    positives += labels[r] === 1 ? 1 : 0;
    largest = Math.max(largest, Math.abs(labels[r]));
  }
  const pw = params.positiveWeight;
  const weight = pw === undefined ? 1 : pw === 'balanced' ? (train.length - positives) / Math.max(positives, 1) : pw;
  const w = Math.max(1, weight);
  // Logistic: |g| = w·|p − y| ≤ w, h = w·p(1 − p) ≤ w/4. Squared error: h = 1, |g| = |score − y|,
  // which boosting with a learning rate ≤ 1 keeps within about twice the labels' range.
  return params.objective === 'binary:logistic'
    ? gradientPacking(tBits, train.length, w, w / 4)
    : gradientPacking(tBits, train.length, 2 * Math.max(1, largest) + 1, 1);
}

/** Whether these fixed-point g, h (integers) sum decodably over any subset of the rows. */
export function fitsPacking(packing: GradientPacking, gFixed: Float64Array, hFixed: Float64Array, t: bigint): boolean {
  let g = 0;
  let h = 0;
  for (let i = 0; i < gFixed.length; i++) {
    g += Math.abs(gFixed[i]);
    h += hFixed[i];
  }
  const half = 2 ** (packing.gBits - 1);
  return g < half && BigInt(Math.ceil(h)) * 2n ** BigInt(packing.gBits) + BigInt(half) < t / 2n;
}

/** The label party's chunk polynomials for the node's rows: g + 2^K·h (by row id) as residues mod t. */
export function gradientChunks(
  layout: NodeLayout,
  rows: Int32Array,
  gFixed: Float64Array,
  hFixed: Float64Array,
  packing: GradientPacking,
  t: bigint,
): BigUint64Array[] {
  const out: BigUint64Array[] = [];
  const shift = 2n ** BigInt(packing.gBits);
  for (let c = 0; c < layout.chunks; c++) {
    const start = c * layout.block;
    const end = Math.min(rows.length, start + layout.block);
    const coefficients = new BigUint64Array(end - start);
    for (let i = 0; i < end - start; i++) {
      const v = BigInt(gFixed[rows[start + i]]) + BigInt(hFixed[rows[start + i]]) * shift;
      coefficients[i] = v < 0n ? v + t : v;
    }
    out.push(coefficients);
  }
  return out;
}

/** A packed sum (a residue mod t) back to its fixed-point g and h sums. */
export function unpackSum(residue: bigint, packing: GradientPacking, t: bigint): { g: number; h: number } {
  const v = residue > t / 2n ? residue - t : residue;
  const K = BigInt(packing.gBits);
  const h = (v + 2n ** (K - 1n)) >> K;
  return { g: Number(v - (h << K)), h: Number(h) };
}

/** The exponents (±: the sign of the term) of the one-hot polynomial of chunk `chunk` and one product group. */
export function oneHotTerms(
  layout: NodeLayout,
  rows: Int32Array,
  chunk: number,
  group: readonly number[],
  binned: readonly Uint8Array[],
): Int32Array {
  const { block, slots } = layout;
  const start = chunk * block;
  const count = Math.min(rows.length, start + block) - start;
  const terms = new Int32Array(count * group.length);
  group.forEach((feature, q) => {
    const column = binned[feature];
    for (let i = 0; i < count; i++) terms[q * count + i] = (q * slots + column[rows[start + i]]) * block - i;
  });
  return terms;
}

/** Where the sums land: for feature q of a group and slot b, at (q·S + b)·n. */
export function outputPositions(layout: NodeLayout, groupSize: number): Int32Array {
  const out = new Int32Array(groupSize * layout.slots);
  for (let q = 0; q < groupSize; q++)
    for (let b = 0; b < layout.slots; b++) out[q * layout.slots + b] = (q * layout.slots + b) * layout.block;
  return out;
}

/** Residues uniform in [0, t) from the OS CSPRNG (rejection sampling on draws of t's bit length). */
export function uniformResidues(count: number, t: bigint): BigUint64Array {
  const bits = t.toString(2).length;
  const mask = (1n << BigInt(bits)) - 1n;
  const out = new BigUint64Array(count);
  let pool = new BigUint64Array(randomBytes(8 * (count + 16)).buffer);
  let at = 0;
  for (let i = 0; i < count;) {
    if (at >= pool.length) {
      pool = new BigUint64Array(randomBytes(8 * (count - i + 16)).buffer);
      at = 0;
    }
    const v = pool[at++] & mask;
    if (v < t) out[i++] = v;
  }
  return out;
}
