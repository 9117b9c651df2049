/**
 * The demo's summary of a regression or multiclass job: the figures by objective (validation R²
 * and RMSE, or accuracy and macro-F1), the label party's own model beside them, and the audit.
 */
import type { TargetJobResult, TargetMetrics } from '@vfl/protocol';

export interface ObjectiveSummary {
  readonly jobId: string;
  readonly intersection: number;
  readonly model: string;
  readonly objective: 'regression' | 'multiclass';
  readonly [figure: string]: unknown;
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

/** The figures of one split's metrics, named with `prefix` (train, validation, labelOnlyValidation). */
function figures(prefix: string, m: TargetMetrics): Record<string, number | (number | null)[]> {
  const name = (f: string) => `${prefix}${f}`;
  if (m.objective === 'regression')
    return { [name('R2')]: round(m.r2), [name('Rmse')]: round(m.rmse), [name('Mae')]: round(m.mae) };
  return {
    [name('Accuracy')]: round(m.accuracy),
    [name('MacroF1')]: round(m.macroF1),
    [name('Auc')]: round(m.auc),
    [name('PerClassAuc')]: m.perClassAuc.map((a) => (a === null ? null : round(a))),
  };
}

export function objectiveSummary(
  jobId: string,
  r: TargetJobResult & { seconds?: number },
  seconds: number,
  audit: { records: number; valid: boolean; signedHeads: number },
): ObjectiveSummary {
  return {
    jobId,
    intersection: r.intersection,
    model: r.model,
    objective: r.objective,
    ...(r.classes ? { classes: r.classes } : {}),
    ...figures('train', r.train),
    ...figures('validation', r.validation),
    ...figures('labelOnlyValidation', r.labelOnly.validation),
    epochs: r.epochs.length,
    seconds: round(seconds, 1),
    ...(r.seconds !== undefined ? { trainingSeconds: round(r.seconds, 1) } : {}),
    backend: r.backend,
    bytesPerEpoch: r.bytesPerEpoch,
    audit,
  };
}

export function printObjectiveSummary(s: ObjectiveSummary, r: TargetJobResult, say: (line: string) => void): void {
  const line = (m: TargetMetrics) =>
    m.objective === 'regression'
      ? `R² ${m.r2.toFixed(4)}  RMSE ${m.rmse.toFixed(3)}  MAE ${m.mae.toFixed(3)}`
      : `accuracy ${m.accuracy.toFixed(4)}  macro-F1 ${m.macroF1.toFixed(4)}  AUC per class ${m.perClassAuc.map((a) => (a === null ? '-' : a.toFixed(3))).join(' ')}`;
  const audit = s.audit as { records: number; valid: boolean; signedHeads: number };
  say('');
  say(`job ${s.jobId} succeeded in ${String(s.seconds)} s (${r.model}, objective ${r.objective})`);
  say(`  customers in common (PSI)   ${r.intersection} (train ${r.trainRows}, validation ${r.validationRows})`);
  say(`  federated model, training   ${line(r.train)}`);
  say(`  federated model, validation ${line(r.validation)}`);
  say(`  bank's features only, val.  ${line(r.labelOnly.validation)}`);
  if (r.validation.objective === 'regression' && r.labelOnly.validation.objective === 'regression')
    say(
      `  uplift from federation      ${signed(r.validation.r2 - r.labelOnly.validation.r2)} validation R² (RMSE ${signed(r.validation.rmse - r.labelOnly.validation.rmse)})`,
    );
  const unit = r.model === 'secureboost' ? 'tree ' : 'epoch';
  say(`  traffic per ${unit}          ${(r.bytesPerEpoch / 1e6).toFixed(1)} MB`);
  say(
    `  audit trail                 ${audit.records} records, ${audit.signedHeads} signed chain heads, ${audit.valid ? 'valid' : 'BROKEN'}`,
  );
}
