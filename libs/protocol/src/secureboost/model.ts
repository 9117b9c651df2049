/**
 * What each party keeps of a SecureBoost model. The label party keeps the trees' shape, its leaf
 * values and its own splits; a feature party's node is known there only as (party, record). Each
 * feature party keeps its records: which of its columns, the threshold in its standardised units,
 * and where missing values go.
 */
import type { BinEdges, BoosterState, ObjectiveName, TreeNode } from '@vfl/ml';
import type { StoredCheckpoint, StoredPartyModel } from '../party/stored-model';
import type { SbTrainingRecord } from './commands';
import type { SecureBoostFeature, SplitRecord } from './feature-party';
import type { RemoteSplit, SecureBoostLabel } from './label-party';

export type StoredSplit =
  | { readonly kind: 'own'; readonly column: number; readonly threshold: number; readonly missingLeft: boolean }
  | { readonly kind: 'party'; readonly owner: string; readonly record: number };

export interface StoredTreeNode {
  readonly leaf?: number;
  readonly split?: StoredSplit;
  readonly left?: number;
  readonly right?: number;
}

export interface SecureBoostLabelModel extends StoredPartyModel {
  readonly family: 'secureboost';
  readonly objective: ObjectiveName;
  readonly baseScore: number;
  readonly trees: StoredTreeNode[][];
}

export interface SecureBoostFeatureModel extends StoredPartyModel {
  readonly family: 'secureboost';
  readonly records: { column: number; threshold: number; missingLeft: boolean }[];
}

/** A party's state after `epoch` trees: enough to resume the job there and reach the same model. */
export interface SecureBoostCheckpoint extends StoredCheckpoint {
  readonly family: 'secureboost';
  readonly label?: { booster: BoosterState; remoteSplits: [string, RemoteSplit][] };
  readonly records?: readonly SplitRecord[];
  /** The coordinator's record of the run so far, handed back on resume. */
  readonly training?: SbTrainingRecord;
}

type Base = Omit<StoredPartyModel, 'family'>;

/** The bin's upper threshold: x ≤ threshold goes left (the last bin holds every larger value). */
export function isSecureBoostLabelModel(m: StoredPartyModel): m is SecureBoostLabelModel {
  return m.family === 'secureboost' && m.role === 'label' && Array.isArray((m as SecureBoostLabelModel).trees);
}

export function isSecureBoostFeatureModel(m: StoredPartyModel): m is SecureBoostFeatureModel {
  return m.family === 'secureboost' && m.role === 'feature' && Array.isArray((m as SecureBoostFeatureModel).records);
}

export function binThreshold(edges: BinEdges, bin: number): number {
  return bin < edges.thresholds.length ? edges.thresholds[bin] : Number.MAX_VALUE;
}

export function exportedLabelModel(base: Base, label: SecureBoostLabel): SecureBoostLabelModel {
  const kept = label.booster.keptTrees();
  const trees = label.booster.trees.slice(0, kept).map((nodes, tree) =>
    nodes.map((n: TreeNode): StoredTreeNode => {
      if (!n.split) return { leaf: n.leaf };
      const { block, candidate } = n.split;
      const split: StoredSplit =
        block === 0
          ? {
              kind: 'own',
              column: candidate.feature,
              threshold: binThreshold(label.ownEdges[candidate.feature], candidate.bin),
              missingLeft: candidate.missingLeft,
            }
          : remote(label, tree, n.id);
      return { split, left: n.left, right: n.right };
    }),
  );
  return {
    ...base,
    family: 'secureboost',
    objective: label.params.objective,
    baseScore: label.booster.baseScore,
    trees,
  };
}

function remote(label: SecureBoostLabel, tree: number, node: number): StoredSplit {
  const split = label.remoteSplits.get(`${tree}:${node}`);
  if (!split) throw new RangeError(`tree ${tree} node ${node}: no record of its owner's split`);
  return { kind: 'party', owner: split.partyId, record: split.record };
}

export function exportedFeatureModel(base: Base, feature: SecureBoostFeature): SecureBoostFeatureModel {
  return {
    ...base,
    family: 'secureboost',
    records: feature.records.map((r) => ({
      column: r.feature,
      threshold: binThreshold(feature.own.edges[r.feature], r.bin),
      missingLeft: r.missingLeft,
    })),
  };
}
