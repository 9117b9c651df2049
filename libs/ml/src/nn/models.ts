/**
 * Builders for the split network's pieces, shared by the federated parties and the central
 * plaintext reference so both start from literally the same seeded weights.
 *
 * Seeds: each party derives everything from its own seed (`deriveSeed(seed, purpose, ...)`).
 * The interactive weights of a feature party f start as W_f = V_f + N_f, V_f drawn by the label
 * party from its seed, N_f by f from its seed, each Glorot-uniform scaled by 1/√2 so their sum has
 * Glorot's variance and neither party alone knows W_f.
 */
import type * as Tf from '@tensorflow/tfjs';
import { SeededRandom } from '@vfl/data';
import { bottomOf, bottomPath, NnArchitecture } from './architecture';
import { deriveSeed, DenseStack, glorotUniform } from './dense-stack';

export function buildBottom(
  tf: typeof Tf,
  arch: NnArchitecture,
  partyId: string,
  inputWidth: number,
  partySeed: number,
): DenseStack {
  return new DenseStack(
    tf,
    inputWidth,
    bottomOf(arch, partyId),
    deriveSeed(partySeed, 'bottom'),
    bottomPath(arch, partyId),
  );
}

/** The label party's top network: the spec's hidden layers plus the output logit (dense 1, linear). */
/** The top network: the architecture's layers, then `outputs` linear units (one logit, or one per class). */
export function buildTop(tf: typeof Tf, arch: NnArchitecture, labelSeed: number, outputs = 1): DenseStack {
  return new DenseStack(
    tf,
    arch.interactive.units,
    [...arch.top, { units: outputs, activation: 'linear' }],
    deriveSeed(labelSeed, 'top'),
    'top',
  );
}

/** The label party's own interactive weights W_L (its bottom width × units), float32 for tfjs. */
export function labelInteractiveWeights(labelSeed: number, fanIn: number, units: number): Float32Array {
  return glorotUniform(new SeededRandom(deriveSeed(labelSeed, 'interactive')), fanIn, units);
}

/**
 * One share of a feature party's interactive weights: `holder` is 'label' (V_f, from the label
 * party's seed and the feature party's id) or 'feature' (N_f, from the feature party's seed).
 */
export function interactiveShare(
  holder: 'label' | 'feature',
  seed: number,
  featurePartyId: string,
  fanIn: number,
  units: number,
): Float64Array {
  const s =
    holder === 'label' ? deriveSeed(seed, 'interactive-share', featurePartyId) : deriveSeed(seed, 'interactive-share');
  return Float64Array.from(glorotUniform(new SeededRandom(s), fanIn, units, Math.SQRT1_2));
}

export function bottomDropoutSeed(partySeed: number, epoch: number, batch: number): number {
  return deriveSeed(partySeed, 'bottom-dropout', epoch, batch);
}

export function topDropoutSeed(labelSeed: number, epoch: number, batch: number): number {
  return deriveSeed(labelSeed, 'top-dropout', epoch, batch);
}

/** The seed a party uses in the in-process runner and the reference (a deployment gives each party a secret one). */
export function partySeed(jobSeed: number, partyId: string): number {
  return deriveSeed(jobSeed, 'party', partyId);
}
