/**
 * SecureBoost's lossless reference: the same GBDT in plaintext on the pooled data, rows in the
 * federation's order (the shared IDs by code units, split by the job's seed), each party's block
 * binned as that party bins it, g and h at the precision the label party picks. The federated
 * trees must equal these, node for node (the tests), and their AUC this AUC (the bench).
 */
import { PartyTable, selectRows } from '@vfl/data';
import { binBlock, ReferenceResult, RowSplit, trainGbdtReference, trainValidationSplit } from '@vfl/ml';
import { boosterParams, SecureBoostSettings } from './settings';
import { labelPartyPacking } from './packing';
import { BFV_N4096_T58 } from '@vfl/crypto';

export interface PooledReference extends ReferenceResult {
  /** The shared IDs in row order. */
  readonly ids: readonly string[];
  readonly split: RowSplit;
  /** Labels by row. */
  readonly labels: Float64Array;
  /** Per block, its columns binned by row (the bench times Paillier on them). */
  readonly blocks: ReturnType<typeof binBlock>[];
}

/** `tables`: the label party's first (with labels), then the feature parties' in roster order. */
export async function pooledSecureBoostReference(
  tables: readonly PartyTable[],
  settings: SecureBoostSettings,
  onBuild?: (tree: number, rows: number) => void,
): Promise<PooledReference> {
  const [label, ...others] = tables;
  if (!label.labels) throw new RangeError("the first table must be the label party's, with its labels");
  const held = others.map((t) => new Set(t.ids));
  const ids = label.ids.filter((id) => held.every((s) => s.has(id))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const split = trainValidationSplit(ids.length, settings.validationFraction, settings.seed);
  const aligned = tables.map((t) => selectRows(t, ids));
  const blocks = aligned.map((t) => binBlock(t.features, t.featureNames.length, split.train, settings.maxBins));
  const labels = Float64Array.from(aligned[0].labels!);
  const { fractionBits } = labelPartyPacking(settings, labels, split.train, BFV_N4096_T58.plainModulusBits);
  const result = await trainGbdtReference({
    blocks,
    labels,
    train: split.train,
    validation: split.validation,
    params: boosterParams(settings, fractionBits),
    onBuild,
  });
  return { ...result, ids, split, labels, blocks };
}
