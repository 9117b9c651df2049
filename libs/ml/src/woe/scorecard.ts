/**
 * Scorecard points from a logistic regression on WOE-encoded features (REFERENCES.md, "WOE, IV and
 * scorecards"): score = offset − factor·ln(odds), odds = p/(1 − p) of an event, factor = PDO/ln 2,
 * offset = baseScore − factor·ln(baseOdds), where baseOdds are the non-event odds (good:bad, e.g. 50
 * for 50:1) that score baseScore: so event odds 1/baseOdds score baseScore, and halving the event
 * odds adds PDO points. A feature's model input is (WOE − mean)/deviation (the
 * split LR standardises its columns), so the points of feature j in bin i are
 * −factor·w_j·(WOE_ij − mean_j)/deviation_j, and the intercept b goes to the base points,
 * offset − factor·b. An applicant's score is the base points plus one bin's points per feature.
 */

export interface ScorecardScale {
  /** The score at the base odds (e.g. 600). */
  readonly baseScore: number;
  /** Non-event odds (good:bad) that score baseScore (e.g. 50 for 50:1). */
  readonly baseOdds: number;
  /** Points that double the odds (e.g. 20): a higher score means lower event odds. */
  readonly pdo: number;
}

export const DEFAULT_SCORECARD_SCALE: ScorecardScale = Object.freeze({ baseScore: 600, baseOdds: 50, pdo: 20 });

export function scorecardFactor(scale: ScorecardScale): { factor: number; offset: number } {
  if (!(scale.pdo > 0 && scale.baseOdds > 0 && Number.isFinite(scale.baseScore)))
    throw new RangeError('scorecard: pdo and baseOdds must be positive and baseScore finite');
  const factor = scale.pdo / Math.LN2;
  return { factor, offset: scale.baseScore - factor * Math.log(scale.baseOdds) };
}

/** Points per bin of one feature (value bins, then missing), from its weight and standardisation. */
export function featurePoints(
  woe: readonly number[],
  weight: number,
  mean: number,
  deviation: number,
  scale: ScorecardScale,
): number[] {
  const { factor } = scorecardFactor(scale);
  return woe.map((w) => -factor * weight * ((w - mean) / deviation));
}

/** The base points: the offset and the intercept's share. */
export function basePoints(intercept: number, scale: ScorecardScale): number {
  const { factor, offset } = scorecardFactor(scale);
  return offset - factor * intercept;
}

/** The score of a logit: what an applicant's points must add up to. */
export function scoreOfLogit(logit: number, scale: ScorecardScale): number {
  const { factor, offset } = scorecardFactor(scale);
  return offset - factor * logit;
}
