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
  const lg = sumBits(rows * gBound);
  const fractionBits = finestBits(tBits, rows * gBound, rows * hBound);
  if (fractionBits < 6)
    throw new RangeError(
      `${rows} training rows leave the packed gradients fewer than 6 bits of precision: sample the rows (rowSample) or lower positiveWeight`,
    );
  return { fractionBits, gBits: fractionBits + lg + 2 };
}

/** Bits of a sum of magnitudes up to `sum` (before scaling). */
function sumBits(sum: number): number {
  return Math.ceil(Math.log2(Math.max(1, sum)));
}

/**
 * The most fraction bits (at most 20) with which sums of |g| up to gSum and of h up to hSum fit
 * t: Σ|g|·2^f < 2^(K−1) with K = f + lg + 2, and Σh·2^f·2^K < t/2, with 2 bits to spare.
 */
function finestBits(tBits: number, gSum: number, hSum: number): number {
  return Math.min(20, Math.floor((tBits - 5 - sumBits(gSum) - sumBits(hSum)) / 2));
}

/**
 * How the label party fixes the precision of g and h. Logistic: one packing for the job, from
 * the bounds |g| ≤ w and h ≤ w/4 (w: the positive weight). Squared error: g = score − y has no
 * bound fixed in advance (it is the residual, in the target's units), so each tree's precision
 * comes from that tree's residuals, which the label party computes anyway: Σ|g| over the tree's
 * rows bounds every node's sum. The floor is relative to the target's spread: the rounding step
 * stays at most 2^-6 of the first tree's mean |y − base|, so amounts in the thousands keep fewer
 * fraction bits and lose nothing, and an offset (targets around 10^6) costs no precision at all.
 */
export interface LabelPartyPrecision {
  /** The job's fraction bits (logistic), or those of the first tree's residuals (squared error). */
  readonly fractionBits: number;
  /** Squared error: each tree's fraction bits, from its g and h (the booster calls it per tree). */
  readonly treeFractionBits?: (g: Float64Array, h: Float64Array) => number;
  /** Logistic: the packing every tree uses. */
  readonly packing?: GradientPacking;
}

/** Fraction bits below which squared-error residuals would lose more than 2^-6 of the target's spread. */
const RELATIVE_PRECISION_BITS = 6;

export function labelPartyPrecision(
  params: Pick<GbdtParams, 'objective' | 'positiveWeight'>,
  labels: ArrayLike<number>,
  train: Int32Array,
  tBits: number,
): LabelPartyPrecision {
  if (params.objective === 'binary:logistic') {
    const packing = labelPartyPacking(params, labels, train, tBits);
    return { fractionBits: packing.fractionBits, packing };
  }
  let sum = 0;
  for (const r of train) sum += labels[r];
  const base = sum / Math.max(1, train.length);
  // The first tree's residuals: every row starts at the base score (the training rows' mean).
  const first = Float64Array.from(train, (r) => base - labels[r]);
  let spread = 0;
  for (const g of first) spread += Math.abs(g);
  spread /= Math.max(1, train.length);
  const floor =
    spread > 0 && Number.isFinite(spread)
      ? Math.max(0, RELATIVE_PRECISION_BITS - Math.floor(Math.log2(spread)))
      : RELATIVE_PRECISION_BITS;
  const treeFractionBits = (g: Float64Array, h: Float64Array): number => residualBits(tBits, g, h, floor);
  return { fractionBits: treeFractionBits(first, new Float64Array(first.length).fill(1)), treeFractionBits };
}

/** The finest fraction bits for one tree's squared-error g and h; refused below `floor` (never NaN). */
function residualBits(tBits: number, g: Float64Array, h: Float64Array, floor: number): number {
  // One unit per row covers each value's rounding to the fixed point (at most 2^-(f+1) each).
  let gSum = g.length;
  let hSum = h.length;
  for (let i = 0; i < g.length; i++) {
    gSum += Math.abs(g[i]);
    hSum += h[i];
  }
  const bits = finestBits(tBits, gSum, hSum);
  if (!(Number.isFinite(gSum) && Number.isFinite(hSum) && bits >= floor))
    throw new RangeError(
      `the regression target does not pack: its residuals over ${g.length} training rows leave too few bits of precision; rescale the target (for example to thousands) or sample the rows (rowSample)`,
    );
  return bits;
}

/** A tree's packing of its fixed-point g and h (integers, by row id): K from their actual Σ|g|. */
export function treePacking(fractionBits: number, gFixed: Float64Array): GradientPacking {
  let g = 0;
  for (const v of gFixed) g += Math.abs(v);
  return { fractionBits, gBits: sumBits(g + 1) + 2 };
}

/** The label party's logistic packing: bounds of |g| and h from the labels and the positive weight. */
export function labelPartyPacking(
  params: Pick<GbdtParams, 'objective' | 'positiveWeight'>,
  labels: ArrayLike<number>,
  train: Int32Array,
  tBits: number,
): GradientPacking {
  if (params.objective !== 'binary:logistic')
    throw new RangeError('squared error is packed per tree (labelPartyPrecision), not with one packing for the job');
  let positives = 0;
  for (const r of train) positives += labels[r] === 1 ? 1 : 0;
  const pw = params.positiveWeight;
  const weight = pw === undefined ? 1 : pw === 'balanced' ? (train.length - positives) / Math.max(positives, 1) : pw;
  const w = Math.max(1, weight);
  // Logistic: |g| = w·|p − y| ≤ w, h = w·p(1 − p) ≤ w/4.
  return gradientPacking(tBits, train.length, w, w / 4);
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
