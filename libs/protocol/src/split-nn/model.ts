/** What a split-NN party keeps on disk: its own part of the trained network, and per-epoch checkpoints. */
import type { Objective } from '@vfl/data';
import type { NnArchitecture } from '@vfl/ml';
import type { StoredCheckpoint, StoredPartyModel } from '../party/stored-model';
import type { DefenceSpec } from './defence';
import type { NnCheckpointState, NnParameters } from './model-state';

/** A party's part (nn/model-state.ts) over its own columns, and the architecture every part belongs to. */
export interface NnPartyModel extends StoredPartyModel {
  readonly family: 'split-nn';
  readonly architecture: NnArchitecture;
  readonly parameters: NnParameters;
  /** Label party: what the top predicts (absent: a binary label), K for multiclass, a regression target's scale. */
  readonly objective?: Objective;
  readonly classCount?: number;
  readonly target?: { readonly mean: number; readonly deviation: number };
}

/** What a split-NN job trains under: its rows' split and batches, the architecture, the defence. */
export interface NnSettings {
  readonly data: {
    readonly validationFraction: number;
    readonly seed: number;
    readonly clipSigma: number;
    readonly batchSize: number;
  };
  readonly architecture: NnArchitecture;
  readonly defence: DefenceSpec;
}

export interface NnEarlyStoppingState {
  readonly bestEpoch: number;
  readonly bestAuc: number;
  /** Epochs since the best one without improvement. */
  readonly sinceBest: number;
}

/** The end of an epoch at a split-NN party, with the settings it trained under (a resume under others is refused naming what differs). */
export interface NnPartyCheckpoint extends StoredCheckpoint {
  readonly family: 'split-nn';
  readonly settings: NnSettings;
  readonly state: NnCheckpointState;
  /** Early stopping: the coordinator's record at this epoch (it comes back with model.resume). */
  readonly earlyStopping?: NnEarlyStoppingState;
}

export function isNnPartyModel(m: StoredPartyModel): m is NnPartyModel {
  return m.family === 'split-nn';
}

export function isNnCheckpoint(c: StoredCheckpoint): c is NnPartyCheckpoint {
  return c.family === 'split-nn';
}
