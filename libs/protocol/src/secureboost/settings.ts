/**
 * A SecureBoost job's settings: the API's `secureboost` object, checked at job.prepare by every
 * party with the same schema, and turned into the booster's parameters (libs/ml/gbdt).
 */
import { z } from 'zod';
import { GBDT_DEFAULTS, GbdtParams, MAX_BINS_LIMIT } from '@vfl/ml';

/** Bins per feature: one product of the packing must hold at least one feature (N = 4096). */
export const SECUREBOOST_MAX_BINS = 126;

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

export const secureBoostSettings = z
  .object({
    objective: z.enum(['binary:logistic', 'reg:squarederror']).default(GBDT_DEFAULTS.objective),
    trees: z.number().int().min(1).max(1000).default(GBDT_DEFAULTS.trees),
    maxDepth: z.number().int().min(1).max(12).default(GBDT_DEFAULTS.maxDepth),
    learningRate: finite.pipe(z.number().gt(0).max(1)).default(GBDT_DEFAULTS.learningRate),
    lambda: finite.pipe(z.number().min(0)).default(GBDT_DEFAULTS.lambda),
    gamma: finite.pipe(z.number().min(0)).default(GBDT_DEFAULTS.gamma),
    minChildWeight: finite.pipe(z.number().min(0)).default(GBDT_DEFAULTS.minChildWeight),
    maxBins: z.number().int().min(2).max(Math.min(SECUREBOOST_MAX_BINS, MAX_BINS_LIMIT)).default(GBDT_DEFAULTS.maxBins),
    rowSample: finite.pipe(z.number().gt(0).max(1)).default(1),
    colSample: finite.pipe(z.number().gt(0).max(1)).default(1),
    positiveWeight: z.union([finite.pipe(z.number().positive()), z.literal('balanced')]).optional(),
    earlyStopping: z
      .object({ patience: z.number().int().min(1).max(1000), minDelta: finite.pipe(z.number().min(0)).optional() })
      .strict()
      .optional(),
    seed: z.number().int().default(GBDT_DEFAULTS.seed),
    validationFraction: finite.pipe(z.number().min(0).max(0.95)).default(0.3),
  })
  .strict();

export type SecureBoostSettings = z.output<typeof secureBoostSettings>;
export type SecureBoostInput = z.input<typeof secureBoostSettings>;

/**
 * The booster's parameters. `fractionBits`: the precision of g and h, which the label party fixes
 * from its rows and labels (packing.ts, labelPartyPacking); the plaintext reference takes the same.
 * Parties that compute no gradient pass none.
 */
export function boosterParams(s: SecureBoostSettings, fractionBits = GBDT_DEFAULTS.fractionBits): GbdtParams {
  return {
    objective: s.objective,
    trees: s.trees,
    maxDepth: s.maxDepth,
    learningRate: s.learningRate,
    lambda: s.lambda,
    gamma: s.gamma,
    minChildWeight: s.minChildWeight,
    maxBins: s.maxBins,
    rowSample: s.rowSample,
    colSample: s.colSample,
    ...(s.positiveWeight !== undefined ? { positiveWeight: s.positiveWeight } : {}),
    ...(s.earlyStopping ? { earlyStopping: s.earlyStopping } : {}),
    seed: s.seed,
    fractionBits,
  };
}
