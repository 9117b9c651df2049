/*
 * The business answer first: how much federation lifts the label party's own model, as a
 * headline with a bar for each, then the metrics table. PSI is named for what it measures each
 * time: "customers in common" (private set intersection) or "score stability" (population stability).
 */
import { count, duration, emptyState, fixed, h, modelResult, percent, signed, table } from '../dom.js';
import { registerPanel } from '../registry.js';

/** The sentence a panel without an outcome shows, by job state. */
export function noOutcome(job) {
  if (job.state === 'failed') return 'No outcome: the job failed (see "What went wrong").';
  if (job.state === 'cancelled') return 'No outcome: the job was cancelled.';
  if (job.state === 'succeeded') return 'This job produced no model outcome.';
  return `No outcome yet: the job is ${job.state}.`;
}

export const isModelJob = (job) => job.model !== 'psi-cardinality';

/** Panels drawn from a model's outcome apply once the job has one. */
export const hasOutcome = (job) => Boolean(modelResult(job));

/** Curves, confusion and lift are a binary model's: a regression or multiclass result has none. */
export const hasBinaryOutcome = (job) => hasOutcome(job) && !job.result.objective;

const isRegression = (model) => model.objective === 'regression';

function bar(label, value, className, floor = 0.5) {
  const fill = h('span', { class: `bar-fill ${className}` });
  // AUC 0.5 is chance: the bar spans 0.5..1, so the visible difference is the real one (R²: 0..1).
  fill.style.width = `${Math.max(0, Math.min(1, (value - floor) / (1 - floor))) * 100}%`;
  return h(
    'div',
    { class: 'bar-row' },
    h('span', { class: 'bar-label', text: label }),
    h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
    h('span', { class: 'bar-value num', text: fixed(value, 3) }),
  );
}

registerPanel({
  id: 'outcome',
  title: 'Outcome',
  order: 20,
  wide: true,
  render(body, job) {
    const result = job.result;
    if (!result) {
      body.append(emptyState(noOutcome(job)));
      return;
    }
    const model = modelResult(job);
    if (!model) {
      body.append(
        h('p', {
          class: 'headline',
          text: `${count(result.intersection)} customers in common (PSI, private set intersection).`,
        }),
        h('p', {
          class: 'muted',
          text: `A cardinality check: no model was trained. Finished in ${duration(result.seconds)}.`,
        }),
      );
      return;
    }
    const label = job.parties.find((p) => p.role === 'label');
    if (isRegression(model)) {
      renderRegression(body, model, label ? label.partyId : 'label party');
      return;
    }
    const fed = model.validation.auc;
    const alone = model.labelOnly.validation.auc;
    const uplift = fed - alone;
    body.append(
      ...upliftAtAGlance('AUC', fed, alone, label ? label.partyId : 'label party'),
      table({
        id: 'summary',
        caption: 'Outcome by split',
        head: ['', 'train', 'validation'],
        numeric: [1, 2],
        rows: [
          ['rows', count(model.trainRows), count(model.validationRows)],
          ['AUC', fixed(model.train.auc), fixed(model.validation.auc)],
          ['KS', fixed(model.train.ks), fixed(model.validation.ks)],
          ['log loss', fixed(model.train.logLoss), fixed(model.validation.logLoss)],
          ['label party alone, AUC', fixed(model.labelOnly.train.auc), fixed(model.labelOnly.validation.auc)],
          ['uplift from federation, AUC', signed(model.train.auc - model.labelOnly.train.auc), signed(uplift)],
        ].map(summaryRow),
      }),
      h('p', {
        id: 'summary-notes',
        class: 'muted',
        text: [
          `customers in common (PSI): ${count(model.intersection)}`,
          `score stability, validation vs train (population stability index): ${fixed(model.validation.scoreStability)}`,
          model.model === 'secureboost'
            ? `${model.trees} trees (${model.keptTrees} kept), ${(model.bytesPerTree / 1e6).toFixed(1)} MB per tree; ${model.he}`
            : `${(model.bytesPerEpoch / 1e6).toFixed(1)} MB per epoch; ${model.backend}`,
          `finished in ${duration(model.seconds)}`,
          `positives in validation: ${percent(model.validation.positives / model.validation.rows)}`,
        ].join(' · '),
      }),
    );
  },
});

/** The headline and the two bars: the federated model's validation score against the label party's alone. */
function upliftAtAGlance(metric, fed, alone, labelId, floor) {
  const uplift = fed - alone;
  return [
    h(
      'p',
      { class: 'headline', id: 'uplift-headline' },
      `Federation ${uplift >= 0 ? 'lifts' : 'lowers'} validation ${metric} from `,
      h('strong', { text: fixed(alone, 3) }),
      ` (${labelId} alone) to `,
      h('strong', { text: fixed(fed, 3) }),
      ' ',
      h('span', { class: uplift >= 0 ? 'good' : 'bad', text: `(${signed(uplift, 3)})` }),
      '.',
    ),
    h(
      'div',
      {
        class: 'bars',
        role: 'img',
        'aria-label': `Validation ${metric}: federated ${fixed(fed, 3)}, label party alone ${fixed(alone, 3)}`,
      },
      bar('federated', fed, 'federated', floor),
      bar(`${labelId} alone`, alone, 'label-only', floor),
    ),
  ];
}

/** A row of the outcome table: a header cell, then numbers. */
function summaryRow(cells) {
  const row = document.createElement('tr');
  cells.forEach((c, i) =>
    row.append(h(i ? 'td' : 'th', { class: i ? 'num' : false, scope: i ? false : 'row', text: c })),
  );
  return row;
}

/** A continuous target's outcome: R² lifted (or not) over the label party's own model, RMSE, MAE, MSE. */
function renderRegression(body, model, labelId) {
  const fed = model.validation.r2;
  const alone = model.labelOnly.validation.r2;
  const uplift = fed - alone;
  body.append(
    ...upliftAtAGlance('R²', fed, alone, labelId, 0),
    table({
      id: 'summary',
      caption: 'Outcome by split (in the target’s units)',
      head: ['', 'train', 'validation'],
      numeric: [1, 2],
      rows: [
        ['rows', count(model.trainRows), count(model.validationRows)],
        ['R²', fixed(model.train.r2), fixed(model.validation.r2)],
        ['RMSE', fixed(model.train.rmse), fixed(model.validation.rmse)],
        ['MAE', fixed(model.train.mae), fixed(model.validation.mae)],
        ['mean squared error', fixed(model.train.loss), fixed(model.validation.loss)],
        ['label party alone, R²', fixed(model.labelOnly.train.r2), fixed(model.labelOnly.validation.r2)],
        ['label party alone, RMSE', fixed(model.labelOnly.train.rmse), fixed(model.labelOnly.validation.rmse)],
        ['uplift from federation, R²', signed(model.train.r2 - model.labelOnly.train.r2), signed(uplift)],
      ].map(summaryRow),
    }),
    h('p', {
      id: 'summary-notes',
      class: 'muted',
      text: [
        `customers in common (PSI): ${count(model.intersection)}`,
        model.model === 'secureboost'
          ? `${model.trees} trees (${model.keptTrees} kept), ${(model.bytesPerTree / 1e6).toFixed(1)} MB per tree; ${model.he}`
          : `${(model.bytesPerEpoch / 1e6).toFixed(1)} MB per epoch; ${model.backend}`,
        `finished in ${duration(model.seconds)}`,
      ].join(' · '),
    }),
  );
}
