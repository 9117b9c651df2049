/** What a split-LR party keeps on disk: its trained weights, and per-epoch checkpoints. */
import type { OptimizerState } from '@vfl/ml';
import type { StoredCheckpoint, StoredPartyModel } from '../party/stored-model';
import type { LrTrainingRecord } from './commands';

/** A party's own weights over its own columns (the label party's intercept last). */
export interface PartyModel extends StoredPartyModel {
  readonly weights: number[];
}

export interface PartyCheckpoint extends StoredCheckpoint {
  readonly weights: readonly number[];
  readonly optimizer: OptimizerState;
  /** Early stopping: the best epoch's weights so far. */
  readonly best?: readonly number[];
  /** The coordinator's record of the run so far, handed back on resume. */
  readonly training?: LrTrainingRecord;
}

export function isSplitLrModel(m: StoredPartyModel): m is PartyModel {
  return m.family === undefined && Array.isArray((m as PartyModel).weights);
}
