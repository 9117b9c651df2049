/**
 * Per-bin event counts under BFV, with SecureBoost's coefficient packing (secureboost/packing.ts)
 * and g = y: the label party encrypts its training rows' labels in chunks of n rows; a feature
 * party multiplies each chunk by the one-hot polynomial of its bins (k features per product) and
 * sums over the chunks, so that coefficient (q·S + b)·n of the product holds the events of bin b
 * of feature q; it adds a uniform mask to every coefficient before the sum leaves. The
 * coordinator decrypts and releases only the output coefficients, still masked, to the feature
 * party, which removes its mask (docs/protocol.md §6).
 */
import type { BfvContext, BfvEngine } from '@vfl/crypto';
import { PartyError } from '../party/party-error';
import { bytesToU64, u64ToBytes } from '../secureboost/bytes';
import {
  NodeLayout,
  nodeLayout,
  oneHotTerms,
  outputPositions,
  productGroups,
  uniformResidues,
} from '../secureboost/packing';

/** Products handed to the engine at once: bounds the one-hot terms held in memory. */
const GROUPS_PER_CALL = 32;

/** The layout of the job's training rows with `countedBins` value slots and a missing slot. */
export function countingLayout(degree: number, countedBins: number, trainRows: number): NodeLayout {
  return nodeLayout(degree, countedBins, trainRows);
}

/** The product groups of `features` features (k per product). */
export function featureGroups(layout: NodeLayout, features: number): number[][] {
  return productGroups(
    layout,
    Array.from({ length: features }, (_, f) => f),
  );
}

/** The label party's plaintext chunks: y of the training rows, n per chunk, as residues. */
export function labelChunks(layout: NodeLayout, train: Int32Array, labels: ArrayLike<number>): BigUint64Array[] {
  return Array.from({ length: layout.chunks }, (_, c) => {
    const start = c * layout.block;
    const end = Math.min(train.length, start + layout.block);
    return BigUint64Array.from({ length: end - start }, (_, i) => BigInt(labels[train[start + i]]));
  });
}

/** A feature party's masked sums: one ciphertext per group, and its masks at the output coefficients. */
export async function maskedEventSums(
  bfv: BfvContext,
  engine: BfvEngine,
  layout: NodeLayout,
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
    const outputs = groups.slice(from, from + GROUPS_PER_CALL).map((group) => ({
      group,
      terms: Array.from({ length: layout.chunks }, (_, c) => oneHotTerms(layout, train, c, group, slots)),
      mask: uniformResidues(bfv.degree, bfv.plainModulus),
    }));
    sums.push(...(await engine.productSums(chunks, outputs)));
    for (const o of outputs) masks.push(BigUint64Array.from(outputPositions(layout, o.group.length), (p) => o.mask[p]));
  }
  return { sums, masks };
}

/** The coordinator's release of one decrypted sum: its output coefficients only (still masked). */
export function releasedOutputs(layout: NodeLayout, groupSize: number, coefficients: BigUint64Array): Uint8Array {
  return u64ToBytes(BigUint64Array.from(outputPositions(layout, groupSize), (p) => coefficients[p]));
}

/** Events per slot of every feature: (released − mask) mod t, group by group. */
export function unmaskedEvents(
  bfv: BfvContext,
  layout: NodeLayout,
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
