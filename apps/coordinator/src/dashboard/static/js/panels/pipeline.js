/*
 * Binning, selection and pipelines: the chain of steps with each one's state, the IV table (what
 * each owner shared, and whether selection kept the column), and the WOE of each bin of a chosen
 * feature as bars. Only what the owners shared reaches this page (binning.share): a feature whose
 * owner shared its IV alone has no WOE bars, and the page says so.
 */
import { chartFigure, COLORS, draw } from '../charts.js';
import { count, emptyState, fixed, h, table } from '../dom.js';
import { registerPanel } from '../registry.js';

const STEP_STATES = { pending: 'waiting', running: 'running', succeeded: 'done', failed: 'failed', skipped: 'skipped' };

/** The pipeline's steps: from the result once it ended, from live progress while it runs. */
function stepsOf(job) {
  return (job.result && job.result.steps) || (job.progress && job.progress.steps) || null;
}

/** Per party, the features as binned: a pipeline's `binning`, a binning job's `parties`. */
function binningOf(job) {
  const r = job.result;
  if (!r) return null;
  return (r.model === 'binning' ? r.parties : r.binning) || null;
}

registerPanel({
  id: 'pipeline',
  title: 'Pipeline steps',
  order: 15,
  applies: (job) => Boolean(stepsOf(job)),
  render(body, job) {
    const steps = stepsOf(job);
    body.append(
      h(
        'ol',
        { class: 'steps', id: 'pipeline-steps' },
        steps.map((s) =>
          h(
            'li',
            { class: `step step-${s.state}`, dataset: { step: s.step, state: s.state } },
            h('strong', { text: s.step }),
            ` ${STEP_STATES[s.state] || s.state}`,
            s.seconds !== undefined ? ` in ${fixed(s.seconds, 1)} s` : '',
            s.error ? h('span', { class: 'step-error', text: `: ${s.error}` }) : '',
          ),
        ),
      ),
    );
    const card = job.result && job.result.scorecard;
    if (card)
      body.append(
        h('p', {
          id: 'scorecard-summary',
          text:
            `Scorecard: base ${card.scale.baseScore} points at odds ${card.scale.baseOdds}:1, ` +
            `${card.scale.pdo} points to double the odds; validation AUC ${fixed(card.validationAuc, 4)} ` +
            `over ${count(card.validationRows)} applicants, mean score ${fixed(card.meanScore, 1)}. ` +
            'Points per bin stay with each feature’s owner.',
        }),
      );
  },
});

registerPanel({
  id: 'iv',
  title: 'Information value and WOE per feature',
  order: 16,
  wide: true,
  applies: (job) => Boolean(binningOf(job)),
  render(body, job) {
    const parties = binningOf(job);
    const selection = new Map(
      ((job.result && job.result.selection) || []).map((s) => [`${s.partyId}\u0000${s.column}`, s]),
    );
    const features = parties
      .flatMap((p) => p.features.map((f) => ({ ...f, partyId: p.partyId })))
      .sort((a, b) => b.iv - a.iv);
    if (features.length === 0) {
      body.append(emptyState('No party shared the IV of any feature.'));
      return;
    }
    const maxIv = Math.max(...features.map((f) => f.iv), 1e-12);
    body.append(
      table({
        id: 'iv-table',
        caption: 'Information value per feature, highest first',
        head: ['party', 'feature', 'bins', 'IV', 'strength', 'selection'],
        numeric: [2, 3],
        rows: features.map((f) => {
          const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
          bar.style.width = `${((100 * f.iv) / maxIv).toFixed(1)}%`;
          const chosen = selection.get(`${f.partyId}\u0000${f.column}`);
          const kept = chosen ? (chosen.kept ? 'kept' : `dropped (${chosen.reason || 'rule'})`) : '–';
          const tr = document.createElement('tr');
          for (const [i, c] of [f.partyId, f.column, count(f.bins), fixed(f.iv, 4)].entries())
            tr.append(h('td', { class: i >= 2 ? 'num' : false, text: c }));
          tr.append(h('td', {}, bar, ` ${ivStrength(f.iv)}`), h('td', { text: kept }));
          return tr;
        }),
      }),
    );
    const withWoe = features.filter((f) => Array.isArray(f.woe) && f.woe.length > 0);
    if (withWoe.length === 0) {
      body.append(emptyState('The owners shared IV only: no WOE per bin to show.'));
      return;
    }
    const select = h(
      'select',
      { id: 'woe-feature', 'aria-label': 'Feature whose WOE per bin is shown' },
      withWoe.map((f, i) => h('option', { value: String(i), text: `${f.partyId} · ${f.column}` })),
    );
    const figure = h('div');
    const show = () => {
      figure.replaceChildren();
      woeChart(figure, withWoe[Number(select.value)]);
    };
    select.addEventListener('change', show);
    body.append(h('label', { class: 'control' }, 'WOE per bin of ', select), figure);
    show();
  },
});

/** Siddiqi's rule of thumb for a feature's IV. */
function ivStrength(iv) {
  if (iv < 0.02) return 'not predictive';
  if (iv < 0.1) return 'weak';
  if (iv < 0.3) return 'medium';
  return 'strong';
}

function woeChart(parent, feature) {
  // Value bins first, then the missing-value bin (always last; WOE 0 when it is empty).
  const labels = feature.woe.map((_, i) => (i === feature.woe.length - 1 ? 'missing' : `bin ${i + 1}`));
  const summary = feature.woe.map((w, i) => `${labels[i]} ${fixed(w, 3)}`).join(', ');
  const canvas = chartFigure(parent, {
    id: 'woe-chart',
    title: `WOE per bin of ${feature.column}`,
    summary: `WOE (log of the bin's share of events y = 1 over its share of non-events; above 0 is riskier than average): ${summary}`,
  });
  draw(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        {
          label: `WOE of ${feature.column}`,
          data: feature.woe,
          backgroundColor: feature.woe.map((w) => (w > 0 ? COLORS.bad : COLORS.good)),
        },
      ],
    },
    options: { scales: { y: { title: { display: true, text: 'WOE' } } } },
  });
}
