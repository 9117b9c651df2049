/**
 * When an uplift over the label party's own model cannot be trusted: a validation split with few
 * rows of one class, or an interval that holds zero. The figures come from the result; nothing here
 * sees a row.
 */
import type { BinaryMetrics } from '@vfl/ml';
import type { AucUplift } from './commands';

/** Fewer validation rows of either class than this makes an AUC difference mostly noise. */
export const MIN_VALIDATION_ROWS_PER_CLASS = 50;

export function upliftWarnings(validation: BinaryMetrics, uplift?: AucUplift): string[] {
  const warnings: string[] = [];
  const negatives = validation.rows - validation.positives;
  const fewest = Math.min(validation.positives, negatives);
  const fmt = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
  if (fewest < MIN_VALIDATION_ROWS_PER_CLASS)
    warnings.push(
      `the validation split holds ${validation.positives} positive and ${negatives} negative rows: too few (under ${MIN_VALIDATION_ROWS_PER_CLASS} of a class) to trust an uplift` +
        (uplift ? `; differences within ±${(1.959963984540054 * uplift.standardError).toFixed(4)} AUC are noise` : '') +
        '; use more rows or a larger validationFraction',
    );
  if (uplift && uplift.low <= 0 && uplift.high >= 0)
    warnings.push(
      `the uplift ${fmt(uplift.difference)} is not distinguishable from 0 on ${validation.rows} validation rows (95% interval ${fmt(uplift.low)} to ${fmt(uplift.high)}, p = ${uplift.pValue.toFixed(2)})`,
    );
  return warnings;
}
