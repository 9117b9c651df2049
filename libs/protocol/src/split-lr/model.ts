/** What a split-LR party keeps on disk: its trained weights, and per-epoch checkpoints. */
import type { Objective } from '@vfl/data';
import type { OptimizerState } from '@vfl/ml';
import type { LrPartyState } from './split-lr-party';
import type { StoredCheckpoint, StoredPartyModel } from '../party/stored-model';
import type { LrTrainingRecord } from './commands';

/** A party's own weights over its own columns (the label party's intercept last). */
export interface PartyModel extends StoredPartyModel {
  /** Head 0's weights (the model's only head but for multiclass). */
  readonly weights: number[];
  /** What it predicts; absent: a binary label. */
  readonly objective?: Objective;
  /** Multiclass: every head's weights, head k scoring "class is k". */
  readonly heads?: number[][];
  /** Regression, label party: the training targets' mean and deviation (a prediction is u·deviation + mean). */
  readonly target?: { readonly mean: number; readonly deviation: number };
}

export interface PartyCheckpoint extends StoredCheckpoint {
  readonly weights: readonly number[];
  readonly optimizer: OptimizerState;
  /** Early stopping: the best epoch's weights so far. */
  readonly best?: readonly number[];
  /** Multiclass: heads 1..K-1 (head 0 is the fields above). */
  readonly otherHeads?: readonly LrPartyState[];
  /** The coordinator's record of the run so far, handed back on resume. */
  readonly training?: LrTrainingRecord;
}

export function isSplitLrModel(m: StoredPartyModel): m is PartyModel {
  return m.family === undefined && Array.isArray((m as PartyModel).weights);
}
