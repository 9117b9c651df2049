/**
 * SecureBoost's lossless reference: the same GBDT in plaintext on the pooled data, rows in the
 * federation's order (the shared IDs by code units, split by the job's seed), each party's block
 * binned as that party bins it, g and h at the precision the label party picks (per tree for
 * squared error). The federated trees must equal these, node for node (the tests), and their AUC
 * (or R²) this one (the bench).
 */
import { PartyTable, selectRows } from '@vfl/data';
import { binBlock, ReferenceResult, RowSplit, trainGbdtReference, trainValidationSplit } from '@vfl/ml';
import { boosterParams, SecureBoostSettings } from './settings';
import { labelPartyPrecision } from './packing';
import { BFV_N4096_T58 } from '@vfl/crypto';

export interface PooledReference extends ReferenceResult {
  /** The shared IDs in row order. */
  readonly ids: readonly string[];
  readonly split: RowSplit;
  /** Labels (or a regression job's targets) by row. */
  readonly labels: Float64Array;
  /** Per block, its columns binned by row (the bench times Paillier on them). */
  readonly blocks: ReturnType<typeof binBlock>[];
}

/** `tables`: the label party's first (with labels, or targets for squared error), then the feature parties' in roster order. */
export async function pooledSecureBoostReference(
  tables: readonly PartyTable[],
  settings: SecureBoostSettings,
  onBuild?: (tree: number, rows: number) => void,
): Promise<PooledReference> {
  const [label, ...others] = tables;
  const regression = settings.objective === 'reg:squarederror';
  if (!(regression ? label.targets : label.labels))
    throw new RangeError(`the first table must be the label party's, with its ${regression ? 'targets' : 'labels'}`);
  const held = others.map((t) => new Set(t.ids));
  const ids = label.ids.filter((id) => held.every((s) => s.has(id))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const split = trainValidationSplit(ids.length, settings.validationFraction, settings.seed);
  const aligned = tables.map((t) => selectRows(t, ids));
  const blocks = aligned.map((t) => binBlock(t.features, t.featureNames.length, split.train, settings.maxBins));
  const labels = Float64Array.from(regression ? aligned[0].targets! : aligned[0].labels!);
  const precision = labelPartyPrecision(settings, labels, split.train, BFV_N4096_T58.plainModulusBits);
  const result = await trainGbdtReference({
    blocks,
    labels,
    train: split.train,
    validation: split.validation,
    params: boosterParams(settings, precision),
    onBuild,
  });
  return { ...result, ids, split, labels, blocks };
}
