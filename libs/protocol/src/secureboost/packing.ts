/**
 * How SecureBoost puts a node's g, h and a feature party's bins into BFV polynomials so that one
 * plaintext × ciphertext product yields every bin sum of several features (Cheetah-style
 * coefficient packing; docs/protocol.md §5).
 *
 * A node of m rows is cut into chunks of r = n/2 rows. Chunk polynomial (label party, encrypted):
 *   G(X) = Σ_i g_i·X^i + Σ_i h_i·X^(n/2 + i)            (i < r, fixed-point residues mod t)
 * One-hot polynomial of a product group (feature party, plaintext), for its features q < k:
 *   P(X) = Σ_q Σ_i X^((q·S + bin_q(row_i))·n − i)        (S = maxBins + 1 slots per feature)
 * In G·P the coefficient (q·S + b)·n is Σ g_i over the chunk's rows in bin b of feature q, and
 * (q·S + b)·n + n/2 the same for h: a cross term g_i·X^(… − l) with i ≠ l lands i − l (0 < |i − l| < n/2)
 * away from a multiple of n, and k·S·n ≤ N keeps the negacyclic wrap of X^(−i) clear of every output.
 * Summing G·P over a node's chunks sums the bins over all its rows.
 */
import { randomBytes } from 'node:crypto';

export interface NodeLayout {
  /** Ring degree N. */
  readonly degree: number;
  /** Histogram slots per feature: maxBins + 1 (the last is the missing-value bin). */
  readonly slots: number;
  /** Block length n (even): a chunk holds n/2 rows. */
  readonly block: number;
  readonly rowsPerChunk: number;
  /** Features per product (k). */
  readonly featuresPerProduct: number;
  readonly chunks: number;
}

/** The layout of a node of `rows` rows: the widest block that fits, narrower for small nodes. */
export function nodeLayout(degree: number, maxBins: number, rows: number): NodeLayout {
  const slots = maxBins + 1;
  const widest = 2 * Math.floor(degree / (2 * slots));
  if (widest < 2) throw new RangeError(`${maxBins} bins do not fit a ring of degree ${degree}`);
  const block = Math.min(widest, 2 * Math.max(1, rows));
  const rowsPerChunk = block / 2;
  return {
    degree,
    slots,
    block,
    rowsPerChunk,
    featuresPerProduct: Math.floor(degree / (slots * block)),
    chunks: Math.ceil(rows / rowsPerChunk),
  };
}

/** Product groups: the sampled features, k at a time. */
export function productGroups(layout: NodeLayout, features: readonly number[]): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < features.length; i += layout.featuresPerProduct)
    groups.push(features.slice(i, i + layout.featuresPerProduct));
  return groups;
}

/** The label party's chunk polynomials: residues of fixed-point g and h (by row id) for the node's rows. */
export function gradientChunks(
  layout: NodeLayout,
  rows: Int32Array,
  gFixed: Float64Array,
  hFixed: Float64Array,
  mod: (v: number) => number,
): Float64Array[] {
  const out: Float64Array[] = [];
  const half = layout.block / 2;
  for (let c = 0; c < layout.chunks; c++) {
    const coefficients = new Float64Array(layout.block);
    const start = c * layout.rowsPerChunk;
    const end = Math.min(rows.length, start + layout.rowsPerChunk);
    for (let i = 0; i < end - start; i++) {
      coefficients[i] = mod(gFixed[rows[start + i]]);
      coefficients[half + i] = mod(hFixed[rows[start + i]]);
    }
    out.push(coefficients);
  }
  return out;
}

/** The feature party's one-hot polynomial for chunk `chunk` of the node and one product group. */
export function oneHotPolynomial(
  layout: NodeLayout,
  rows: Int32Array,
  chunk: number,
  group: readonly number[],
  binned: readonly Uint8Array[],
  plainModulus: number,
): Float64Array {
  const { degree, block, slots } = layout;
  const coefficients = new Float64Array(degree);
  const start = chunk * layout.rowsPerChunk;
  const end = Math.min(rows.length, start + layout.rowsPerChunk);
  group.forEach((feature, q) => {
    const column = binned[feature];
    for (let i = 0; i < end - start; i++) {
      const exponent = (q * slots + column[rows[start + i]]) * block - i;
      // X^(−i) = −X^(N − i) in Z[X]/(X^N + 1).
      if (exponent >= 0) coefficients[exponent] = 1;
      else coefficients[degree + exponent] = plainModulus - 1;
    }
  });
  return coefficients;
}

/** Where the sums land: for feature q of a group and slot b, g at [2·(q·S + b)] and h at [2·(q·S + b) + 1]. */
export function outputPositions(layout: NodeLayout, groupSize: number): Int32Array {
  const out = new Int32Array(2 * groupSize * layout.slots);
  for (let q = 0; q < groupSize; q++)
    for (let b = 0; b < layout.slots; b++) {
      const at = (q * layout.slots + b) * layout.block;
      out[2 * (q * layout.slots + b)] = at;
      out[2 * (q * layout.slots + b) + 1] = at + layout.block / 2;
    }
  return out;
}

/** N residues uniform in [0, t) from the OS CSPRNG (rejection sampling on 6-byte draws). */
export function uniformResidues(count: number, plainModulus: number): Float64Array {
  const out = new Float64Array(count);
  const bound = Math.floor(2 ** 48 / plainModulus) * plainModulus;
  let pool = randomBytes(6 * (count + 16));
  let at = 0;
  for (let i = 0; i < count;) {
    if (at + 6 > pool.length) {
      pool = randomBytes(6 * (count - i + 16));
      at = 0;
    }
    const v = pool.readUIntLE(at, 6);
    at += 6;
    if (v < bound) out[i++] = v % plainModulus;
  }
  return out;
}
