/**
 * `psi-cardinality`: a feasibility check. Alignment runs in cardinality mode (the feature party
 * sends its answers shuffled, the label party counts), and the result is that count: nobody
 * learns which IDs are shared, and no model is trained.
 */
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import type { Datasets } from '../job/job-types';
import type { JobStrategy } from '../job/strategy';

export const PSI_CARDINALITY = 'psi-cardinality';

/** How many IDs the parties share, and nothing about which. */
export interface PsiCardinalityResult {
  readonly model: 'psi-cardinality';
  readonly intersection: number;
  readonly datasets: Datasets;
}

export const psiCardinalityStrategy: JobStrategy<PsiCardinalityResult> = {
  model: PSI_CARDINALITY,
  alignment: 'cardinality',
  check(spec) {
    const features = spec.parties.filter((p) => p.role === 'feature').length;
    if (features !== 1)
      throw new RangeError(`a cardinality-only check takes exactly one feature party, got ${features}`);
  },
  // Nothing is split or trained; the parties still receive well-formed settings.
  dataSettings: () => ({
    validationFraction: DEFAULT_LR_HYPERPARAMETERS.validationFraction,
    seed: 0,
    clipSigma: 0,
    batchSize: 1,
  }),
  settings: () => ({}),
  run: (ctx) =>
    Promise.resolve({ model: 'psi-cardinality', intersection: ctx.alignment.intersection, datasets: ctx.datasets }),
};
