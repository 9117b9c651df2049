/**
 * What a party keeps on its own disk: a trained model's part and per-epoch checkpoints. Each
 * model folder extends these with its own weights or state (split-lr/model.ts, split-nn/…).
 */
import type { FittedPreprocessing, IdRule } from '@vfl/data';
import type { DataReference, PartyRole } from '../wire/roster';

export interface StoredPartyModel {
  /** The model family; split-LR models carry none (they predate it). */
  readonly family?: string;
  readonly jobId: string;
  readonly partyId: string;
  readonly role: PartyRole;
  /** What it trained on, the default for prediction, and the ID rules that scoring applies too. */
  readonly data: DataReference;
  readonly idRules: readonly IdRule[];
  readonly columns: string[];
  /** How the party maps raw values to model inputs: (x - mean) / deviation, then clipped to ±clipSigma (0: not clipped). */
  readonly standardization: { means: number[]; deviations: number[]; clipSigma: number };
  /** Fill values and category levels fitted on the training rows (when the job declared preprocessing). */
  readonly preprocessing?: FittedPreprocessing;
}

/** The end of an epoch at one party: enough to resume the job there and reach the same model. */
export interface StoredCheckpoint {
  readonly family?: string;
  readonly jobId: string;
  readonly partyId: string;
  /** Epochs completed. */
  readonly epoch: number;
  /** The dataset and training settings it belongs to: a resume with others is refused. */
  readonly contentSha256: string;
  readonly hyperparametersDigest: string;
}

export function familyOf(m: { readonly family?: string }): string {
  return m.family ?? 'split-lr';
}
