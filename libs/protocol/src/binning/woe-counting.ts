/**
 * Per-bin event counts under BFV with coefficient packing (as SecureBoost's, secureboost/packing.ts,
 * with g = y): the label party encrypts its training rows' labels in chunks of n rows, row i of a
 * chunk at coefficient n − 1 − i:
 *   G(X) = Σ_{i<n} y_i·X^(n−1−i)
 * A feature party multiplies each chunk by the one-hot polynomial of its bins (k features per
 * product, S = bins + 1 slots per feature, the last for missing values)
 *   P(X) = Σ_q Σ_i X^((q·S + bin_q(i) + 1)·n + i − (n − 1))
 * and sums over the chunks. Term (i, l) of G·P lands at (q·S + bin + 1)·n + (l − i): for i = l on
 * the output (q·S + b + 1)·n, which then holds the events of bin b of feature q; a cross term lands
 * less than n away, on no output. Every exponent is positive and (k·S + 1)·n ≤ N keeps the highest
 * below N, so P has only +1 coefficients and nothing wraps (that keeps the noise small:
 * BFV_N4096_T21). The feature party adds a uniform mask to every coefficient before the sum leaves;
 * the coordinator decrypts and releases only the output coefficients, still masked, to that party,
 * which removes its mask (docs/protocol.md §6).
 */
import type { BfvContext, BfvEngine } from '@vfl/crypto';
import { PartyError } from '../party/party-error';
import { bytesToU64, u64ToBytes } from '../secureboost/bytes';
import { uniformResidues } from '../secureboost/packing';

/** Products handed to the engine at once: bounds the one-hot terms held in memory. */
const GROUPS_PER_CALL = 32;

export interface CountingLayout {
  readonly degree: number;
  /** Slots per feature: the counted value bins and the missing-value bin. */
  readonly slots: number;
  /** Rows per chunk (n). */
  readonly block: number;
  /** Features per product (k). */
  readonly featuresPerProduct: number;
  readonly chunks: number;
}

/** The layout of the job's training rows with `countedBins` value slots and a missing slot. */
export function countingLayout(degree: number, countedBins: number, trainRows: number): CountingLayout {
  const slots = countedBins + 1;
  const widest = Math.floor(degree / (slots + 1));
  if (widest < 1) throw new RangeError(`${countedBins} bins do not fit a ring of degree ${degree}`);
  const block = Math.min(widest, Math.max(1, trainRows));
  return {
    degree,
    slots,
    block,
    featuresPerProduct: Math.max(1, Math.floor((Math.floor(degree / block) - 1) / slots)),
    chunks: Math.ceil(trainRows / block),
  };
}

/** The product groups of `features` features (k per product). */
export function featureGroups(layout: CountingLayout, features: number): number[][] {
  const groups: number[][] = [];
  for (let f = 0; f < features; f += layout.featuresPerProduct)
    groups.push(Array.from({ length: Math.min(layout.featuresPerProduct, features - f) }, (_, q) => f + q));
  return groups;
}

/** Where the counts land: feature q of a group, slot b, at (q·S + b + 1)·n. */
export function outputPositions(layout: CountingLayout, groupSize: number): Int32Array {
  const out = new Int32Array(groupSize * layout.slots);
  for (let at = 0; at < out.length; at++) out[at] = (at + 1) * layout.block;
  return out;
}

/** The label party's plaintext chunks: y of chunk row i at coefficient n − 1 − i. */
export function labelChunks(layout: CountingLayout, train: Int32Array, labels: ArrayLike<number>): BigUint64Array[] {
  return Array.from({ length: layout.chunks }, (_, c) => {
    const start = c * layout.block;
    const out = new BigUint64Array(layout.block);
    for (let i = 0; i < layout.block && start + i < train.length; i++)
      out[layout.block - 1 - i] = BigInt(labels[train[start + i]]);
    return out;
  });
}

/** The one-hot exponents of chunk `chunk` and one group of features (their slot per row id). */
export function oneHotExponents(
  layout: CountingLayout,
  train: Int32Array,
  chunk: number,
  group: readonly number[],
  slots: readonly Uint8Array[],
): Int32Array {
  const { block: n, slots: S } = layout;
  const start = chunk * n;
  const count = Math.min(train.length, start + n) - start;
  const out = new Int32Array(count * group.length);
  group.forEach((feature, q) => {
    const column = slots[feature];
    for (let i = 0; i < count; i++) out[q * count + i] = (q * S + column[train[start + i]] + 1) * n + i - (n - 1);
  });
  return out;
}

/** A feature party's masked sums: one ciphertext per group, and its masks at the output coefficients. */
export async function maskedEventSums(
  bfv: BfvContext,
  engine: BfvEngine,
  layout: CountingLayout,
  train: Int32Array,
  slots: readonly Uint8Array[],
  chunks: readonly Uint8Array[],
): Promise<{ sums: Uint8Array[]; masks: BigUint64Array[] }> {
  if (chunks.length !== layout.chunks)
    throw new PartyError(`${chunks.length} label chunks for ${train.length} training rows, expected ${layout.chunks}`);
  const groups = featureGroups(layout, slots.length);
  const sums: Uint8Array[] = [];
  const masks: BigUint64Array[] = [];
  for (let from = 0; from < groups.length; from += GROUPS_PER_CALL) {
    const batch = groups.slice(from, from + GROUPS_PER_CALL);
    const outputs = batch.map((group) => ({
      terms: Array.from({ length: layout.chunks }, (_, c) => oneHotExponents(layout, train, c, group, slots)),
      mask: uniformResidues(bfv.degree, bfv.plainModulus),
    }));
    sums.push(...(await engine.productSums(chunks, outputs)));
    outputs.forEach((o, k) =>
      masks.push(BigUint64Array.from(outputPositions(layout, batch[k].length), (p) => o.mask[p])),
    );
  }
  return { sums, masks };
}

/** The coordinator's release of one decrypted sum: its output coefficients only (still masked). */
export function releasedOutputs(layout: CountingLayout, groupSize: number, coefficients: BigUint64Array): Uint8Array {
  return u64ToBytes(BigUint64Array.from(outputPositions(layout, groupSize), (p) => coefficients[p]));
}

/** Events per slot of every feature: (released − mask) mod t, group by group. */
export function unmaskedEvents(
  bfv: BfvContext,
  layout: CountingLayout,
  features: number,
  released: readonly Uint8Array[],
  masks: readonly BigUint64Array[],
): number[][] {
  const groups = featureGroups(layout, features);
  if (released.length !== groups.length || masks.length !== groups.length)
    throw new PartyError(`expected ${groups.length} released sums, got ${released.length}`);
  const out: number[][] = [];
  groups.forEach((group, k) => {
    const values = bytesToU64(released[k], 'released sums');
    if (values.length !== masks[k].length) throw new PartyError(`released sum ${k} has the wrong length`);
    group.forEach((_, q) => {
      const events: number[] = [];
      for (let b = 0; b < layout.slots; b++) {
        const at = q * layout.slots + b;
        events.push(Number(bfv.mod(values[at] - masks[k][at])));
      }
      out.push(events);
    });
  });
  return out;
}
