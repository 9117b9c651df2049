/*
 * Two runs side by side (as MLflow users expect): settings and metrics in one table with the
 * difference, and both runs' ROC curves and validation AUC by epoch on shared axes.
 */
import { api } from './api.js';
import { chanceLine, chartFigure, COLORS, draw, line, unitAxes, xy } from './charts.js';
import { $, count, duration, emptyState, fixed, h, modelResult, signed, table } from './dom.js';
import { settingsOf } from './panels/parties.js';

const METRICS = [
  ['validation AUC', (r) => r.validation.auc],
  ['train AUC', (r) => r.train.auc],
  ['validation KS', (r) => r.validation.ks],
  ['validation log loss', (r) => r.validation.logLoss],
  ['label party alone, validation AUC', (r) => r.labelOnly.validation.auc],
  ['uplift from federation, validation AUC', (r) => r.validation.auc - r.labelOnly.validation.auc],
  ['score stability (population stability index)', (r) => r.validation.scoreStability],
];

export async function showCompare(idA, idB) {
  const view = $('compare-view');
  view.hidden = false;
  view.replaceChildren(h('h2', { id: 'compare-title', tabindex: -1, text: 'Comparing two runs' }));
  const [a, b] = await Promise.all([api(`/jobs/${idA}`), api(`/jobs/${idB}`)]);
  if (view.hidden) return;
  const name = (j) => j.id.slice(0, 8);
  const ra = modelResult(a);
  const rb = modelResult(b);
  const rows = [
    ['model', a.model, b.model, ''],
    ['state', a.state, b.state, ''],
    ['settings', settingsOf(a), settingsOf(b), ''],
    [
      'customers in common (PSI)',
      count(a.result && a.result.intersection),
      count(b.result && b.result.intersection),
      '',
    ],
    ['duration', duration(a.result && a.result.seconds), duration(b.result && b.result.seconds), ''],
    ['epochs (trees)', count(a.epochs.length), count(b.epochs.length), ''],
  ];
  for (const [label, pick] of METRICS) {
    const va = ra ? pick(ra) : null;
    const vb = rb ? pick(rb) : null;
    rows.push([label, fixed(va), fixed(vb), typeof va === 'number' && typeof vb === 'number' ? signed(vb - va) : '—']);
  }
  view.append(
    h(
      'p',
      {},
      h('a', { href: '#', text: '← All jobs' }),
      ' · ',
      h('a', { href: `#job/${a.id}`, text: `open ${name(a)}` }),
      ' · ',
      h('a', { href: `#job/${b.id}`, text: `open ${name(b)}` }),
    ),
    h(
      'section',
      { class: 'card', 'aria-label': 'Metrics of both runs' },
      table({
        id: 'compare',
        caption: `Run ${name(a)} against run ${name(b)}`,
        head: ['', `run ${name(a)}`, `run ${name(b)}`, `${name(b)} − ${name(a)}`],
        numeric: [3],
        rows: rows.map((cells) => {
          const tr = document.createElement('tr');
          cells.forEach((c, i) =>
            tr.append(h(i ? 'td' : 'th', { scope: i ? false : 'row', class: i === 3 ? 'num' : false, text: c })),
          );
          return tr;
        }),
      }),
    ),
  );
  const charts = h('section', { class: 'card chart-pair', 'aria-label': 'Curves of both runs' });
  view.append(charts);
  if (!ra || !rb) {
    charts.append(
      emptyState('Curves need two runs that succeeded with a model; at least one of these has no model outcome.'),
    );
  } else {
    const roc = chartFigure(charts, {
      id: 'chart-compare-roc',
      title: 'ROC curves of both runs',
      summary: `Validation AUC ${fixed(ra.validation.auc)} (run ${name(a)}) and ${fixed(rb.validation.auc)} (run ${name(b)}).`,
    });
    draw(roc, {
      type: 'scatter',
      data: {
        datasets: [
          line(`run ${name(a)}`, xy(ra.validation.rocCurve, 'fpr', 'tpr'), COLORS.federated),
          line(`run ${name(b)}`, xy(rb.validation.rocCurve, 'fpr', 'tpr'), COLORS.second),
          chanceLine(),
        ],
      },
      options: { scales: unitAxes('false positive rate', 'true positive rate') },
    });
  }
  if (a.epochs.length && b.epochs.length) {
    const auc = chartFigure(charts, {
      id: 'chart-compare-auc',
      title: 'Validation AUC by epoch of both runs',
      summary: `Run ${name(a)}: ${a.epochs.length} epochs, run ${name(b)}: ${b.epochs.length} epochs.`,
    });
    const points = (j) => j.epochs.map((e) => ({ x: e.epoch, y: e.validationAuc }));
    draw(auc, {
      type: 'scatter',
      data: {
        datasets: [
          line(`run ${name(a)}`, points(a), COLORS.federated, { pointRadius: 3 }),
          line(`run ${name(b)}`, points(b), COLORS.second, { pointRadius: 3 }),
        ],
      },
      options: {
        scales: {
          x: { type: 'linear', ticks: { precision: 0 }, title: { display: true, text: 'epoch' } },
          y: { min: 0.5, max: 1, title: { display: true, text: 'validation AUC' } },
        },
      },
    });
  }
  $('compare-title').focus();
}
