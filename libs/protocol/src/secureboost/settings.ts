/**
 * A SecureBoost job's settings: the API's `secureboost` object, checked at job.prepare by every
 * party with the same schema, and turned into the booster's parameters (libs/ml/gbdt).
 */
import { z } from 'zod';
import type { Objective } from '@vfl/data';
import { GBDT_DEFAULTS, GbdtParams, MAX_BINS_LIMIT, ObjectiveName } from '@vfl/ml';

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
 * The boosting objective a job's objective implies: `regression` boosts squared error, a binary
 * job the logistic loss. `secureboost.objective` may repeat it but not contradict it.
 */
export function impliedBoostingObjective(objective: Objective | undefined): ObjectiveName {
  return objective === 'regression' ? 'reg:squarederror' : 'binary:logistic';
}

/**
 * What of `raw` (the `secureboost` object) the job's `objective` refuses, each naming its fields:
 * a contradicting `secureboost.objective`, and a positive weight on a regression target.
 */
export function boostingObjectiveProblems(objective: Objective | undefined, raw: unknown): string[] {
  const given = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const problems: string[] = [];
  const implied = impliedBoostingObjective(objective);
  // An unknown value is the schema's to name.
  if ((given.objective === 'binary:logistic' || given.objective === 'reg:squarederror') && given.objective !== implied)
    problems.push(
      `secureboost.objective: "${given.objective}" contradicts objective "${objective ?? 'binary'}" (a ${objective === 'regression' ? 'regression job boosts reg:squarederror' : 'binary job boosts binary:logistic; for a continuous target set objective "regression"'}; leave secureboost.objective out to take the job's)`,
    );
  if (implied === 'reg:squarederror' && given.positiveWeight !== undefined)
    problems.push('secureboost.positiveWeight: weights the positive class of a binary label, not a regression target');
  return problems;
}

/**
 * A job's settings: `raw` (the API's `secureboost` object) with the objective the job's objective
 * implies filled in. @throws {RangeError} on a bad field or a contradicting objective.
 */
export function jobSecureBoostSettings(raw: unknown, objective: Objective | undefined): SecureBoostSettings {
  const given = raw && typeof raw === 'object' ? (raw as { objective?: unknown }).objective : undefined;
  const problems = boostingObjectiveProblems(objective, raw);
  if (problems.length) throw new RangeError(problems.join('; '));
  const parsed = secureBoostSettings.safeParse({
    ...(raw && typeof raw === 'object' ? raw : {}),
    objective: given ?? impliedBoostingObjective(objective),
  });
  if (!parsed.success)
    throw new RangeError(
      `secureboost: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * The booster's parameters. `precision`: the fixed point of g and h, which the label party fixes
 * from its rows and labels (packing.ts, labelPartyPrecision): for the job, or per tree for
 * squared error; the plaintext reference takes the same. Parties that compute no gradient pass none.
 */
export function boosterParams(
  s: SecureBoostSettings,
  precision: Pick<GbdtParams, 'fractionBits' | 'treeFractionBits'> = { fractionBits: GBDT_DEFAULTS.fractionBits },
): GbdtParams {
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
    fractionBits: precision.fractionBits,
    ...(precision.treeFractionBits ? { treeFractionBits: precision.treeFractionBits } : {}),
  };
}
