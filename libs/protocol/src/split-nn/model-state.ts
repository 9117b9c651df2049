/**
 * What a split-NN party keeps of its part of the model, as plain numbers (JSON, canonical for
 * digests): the parameters it scores with (saved at the end of a job, signed in the manifest),
 * and for a per-epoch checkpoint also the training state that makes a resumed run continue the
 * interrupted one (optimizer moments and step counts, the momenta of the interactive shares, and
 * the party's seed, from which every later dropout mask is derived).
 */
import type { TfOptimizerState } from '@vfl/ml';

export interface NnFeatureParameters {
  readonly role: 'feature';
  /** Every bottom variable (kernels, biases, batch-norm scale, shift and moving statistics), in layer order. */
  readonly bottom: number[][];
  /** N_f, this party's share of its interactive weights (d_f × h, row-major). */
  readonly share: number[];
}

export interface NnLabelParameters {
  readonly role: 'label';
  readonly bottom: number[][];
  /** The top network with its output unit. */
  readonly top: number[][];
  /** W_L (its bottom width × h) and b. */
  readonly interactiveKernel: number[];
  readonly interactiveBias: number[];
  /** V_f for every feature party, in the job's order. */
  readonly shares: { readonly party: string; readonly weights: number[] }[];
}

export type NnParameters = NnFeatureParameters | NnLabelParameters;

export interface NnTrainingState {
  /** The party's own seed: dropout masks of later epochs derive from it. Never leaves the party. */
  readonly seed: number;
  /** Bottom (and, at the label party, top) optimizer. */
  readonly optimizer: TfOptimizerState;
  /** Label party: the momentum optimizer of W_L and b. */
  readonly interactiveOptimizer?: TfOptimizerState;
  /** Momenta of the interactive shares held here (N_f, or every V_f), in the order of `parameters`. */
  readonly shareMomenta: number[][];
}

export interface NnCheckpointState {
  readonly parameters: NnParameters;
  readonly training: NnTrainingState;
  /** Early stopping: the best epoch's parameters so far (what the job returns to at the end). */
  readonly best?: NnParameters;
}
