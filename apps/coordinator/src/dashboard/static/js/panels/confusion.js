/*
 * The confusion matrix at a cut the analyst chooses. The result holds the matrix at score 0.5 and
 * the validation KS curve: for each percentile cut, the shares of defaults and non-defaults among
 * the top-scored rows (aggregates the label party released). Each cut's matrix follows exactly:
 * tp = bad share × positives, fp = good share × negatives. The slider moves over those cuts;
 * "score 0.5" gives the stored matrix back.
 */
import { count, fixed, h, modelResult, percent } from '../dom.js';
import { registerPanel } from '../registry.js';
import { hasBinaryOutcome } from './outcome.js';

/** The matrix when the top `point.share` of rows is flagged. */
export function matrixAtCut(point, positives, rows) {
  const negatives = rows - positives;
  const tp = Math.round(point.bad * positives);
  const fp = Math.round(point.good * negatives);
  return rates({ tp, fp, fn: positives - tp, tn: negatives - fp });
}

function rates(m) {
  const precision = m.tp + m.fp ? m.tp / (m.tp + m.fp) : 0;
  const recall = m.tp + m.fn ? m.tp / (m.tp + m.fn) : 0;
  const rows = m.tp + m.fp + m.tn + m.fn;
  return {
    ...m,
    precision,
    recall,
    accuracy: (m.tp + m.tn) / rows,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}

function matrixTable(m) {
  const cell = (id, v) => h('td', { id, class: 'num', text: count(v) });
  return h(
    'table',
    { id: 'confusion' },
    h('caption', { class: 'visually-hidden', text: 'Confusion matrix, validation' }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('td'),
        h('th', { scope: 'col', text: 'predicted 1' }),
        h('th', { scope: 'col', text: 'predicted 0' }),
      ),
    ),
    h(
      'tbody',
      {},
      h('tr', {}, h('th', { scope: 'row', text: 'actual 1' }), cell('cm-tp', m.tp), cell('cm-fn', m.fn)),
      h('tr', {}, h('th', { scope: 'row', text: 'actual 0' }), cell('cm-fp', m.fp), cell('cm-tn', m.tn)),
    ),
  );
}

registerPanel({
  id: 'confusion',
  title: 'Confusion matrix (validation)',
  order: 32,
  // Drawn from a model's outcome only; until there is one, the Outcome panel says why not.
  applies: hasBinaryOutcome,
  render(body, job, ctx) {
    const v = modelResult(job).validation;
    const cuts = v.ksCurve.filter((p) => p.share > 0);
    const state = ctx.state('confusion', { cut: null }); // null: the stored matrix at score 0.5
    const flaggedAt05 = (v.confusion.tp + v.confusion.fp) / v.rows;
    // The slider starts at the cut nearest to what 0.5 flags.
    const nearest = cuts.reduce(
      (best, p, i) => (Math.abs(p.share - flaggedAt05) < Math.abs(cuts[best].share - flaggedAt05) ? i : best),
      0,
    );
    const caption = h('p', { id: 'confusion-threshold' });
    const matrix = h('div');
    const rates = h('p', { id: 'confusion-rates', class: 'muted' });
    const slider = h('input', {
      id: 'threshold',
      type: 'range',
      min: 0,
      max: cuts.length - 1,
      step: 1,
      value: state.cut ?? nearest,
      on: {
        input: (e) => {
          state.cut = Number(e.target.value);
          show();
        },
      },
    });
    const reset = h('button', {
      type: 'button',
      id: 'threshold-reset',
      text: 'Back to score 0.5',
      on: {
        click: () => {
          state.cut = null;
          slider.value = String(nearest);
          show();
        },
      },
    });
    // Only the numbers change as the slider moves: the slider itself stays, so a drag is not cut short.
    const show = () => {
      const atCut = state.cut !== null && cuts[state.cut];
      const m = atCut ? matrixAtCut(cuts[state.cut], v.positives, v.rows) : v.confusion;
      const flagged = (m.tp + m.fp) / v.rows;
      caption.textContent = atCut
        ? `Flagging the top ${percent(flagged)} of scores`
        : `Score at least ${fixed(v.confusion.threshold, 2)} flags ${percent(flagged)} of rows`;
      slider.setAttribute('aria-valuetext', `top ${percent(flagged)} of scores flagged`);
      reset.disabled = !atCut;
      matrix.replaceChildren(matrixTable(m));
      rates.textContent = `precision ${fixed(m.precision)}, recall ${fixed(m.recall)}, accuracy ${fixed(m.accuracy)}, F1 ${fixed(m.f1)}`;
    };
    body.append(
      caption,
      h(
        'label',
        { class: 'field wide-field', for: 'threshold' },
        h('span', { text: 'Share of customers flagged (highest scores first)' }),
        slider,
      ),
      reset,
      matrix,
      rates,
    );
    show();
  },
});
