/*
 * Gain and lift by decile: the cumulative gains curve of the federated model over the label
 * party's own (how many defaulters each catches in its top x% of scores), and the table.
 */
import { chanceLine, chartFigure, COLORS, draw, line, unitAxes } from '../charts.js';
import { count, fixed, h, modelResult, percent, table } from '../dom.js';
import { registerPanel } from '../registry.js';
import { hasBinaryOutcome } from './outcome.js';

/** The gains curve's points: (0, 0), then each decile's (cumulative share of rows, share of positives caught). */
function gains(rows) {
  let rowsSoFar = 0;
  let positivesSoFar = 0;
  const totalRows = rows.reduce((s, r) => s + r.count, 0);
  const totalPositives = rows.reduce((s, r) => s + r.positives, 0) || 1;
  return [{ x: 0, y: 0 }].concat(
    rows.map((r) => {
      rowsSoFar += r.count;
      positivesSoFar += r.positives;
      return { x: rowsSoFar / totalRows, y: positivesSoFar / totalPositives };
    }),
  );
}

registerPanel({
  id: 'lift',
  title: 'Gain and lift by decile (validation)',
  order: 35,
  wide: true,
  // Drawn from a model's outcome only; until there is one, the Outcome panel says why not.
  applies: hasBinaryOutcome,
  render(body, job) {
    const model = modelResult(job);
    const fed = model.validation.gainLift;
    const own = model.labelOnly.validation.gainLift;
    const label = (job.parties.find((p) => p.role === 'label') || {}).partyId || 'label party';
    const top = fed[0];
    const ownTop = own && own[0];
    const summary =
      `The top 10% of federated scores hold ${percent(top.gain)} of the defaults (lift ${fixed(top.lift, 2)})` +
      (ownTop ? `; ${label} alone, ${percent(ownTop.gain)} (lift ${fixed(ownTop.lift, 2)}).` : '.');
    const layout = h('div', { class: 'split' });
    body.append(layout);
    const chartHost = h('div');
    layout.append(chartHost);
    const canvas = chartFigure(chartHost, { id: 'chart-gain', title: 'Cumulative gains curve', summary });
    const datasets = [line('federated', gains(fed), COLORS.federated, { pointRadius: 3 })];
    if (own) datasets.push(line(`${label} alone`, gains(own), COLORS.labelOnly, { pointRadius: 3 }));
    datasets.push(chanceLine('random targeting'));
    draw(canvas, {
      type: 'scatter',
      data: { datasets },
      options: { scales: unitAxes('share of rows, highest scores first', 'share of defaults caught') },
    });
    layout.append(
      table({
        id: 'lift',
        caption: 'Gain and lift by decile, federated model, validation',
        head: ['decile', 'rows', 'defaults', 'score range', 'cumulative share', 'gain', 'lift'].concat(
          own ? [`lift, ${label} alone`] : [],
        ),
        numeric: [1, 2, 4, 5, 6, 7],
        rows: fed.map((r, i) => {
          const tr = document.createElement('tr');
          const cells = [
            r.bin,
            count(r.count),
            count(r.positives),
            `${fixed(r.minScore, 3)}–${fixed(r.maxScore, 3)}`,
            percent(r.cumulativeShare),
            percent(r.gain),
            fixed(r.lift, 2),
          ].concat(own ? [own[i] ? fixed(own[i].lift, 2) : '—'] : []);
          cells.forEach((c, j) =>
            tr.append(h('td', { class: [1, 2, 4, 5, 6, 7].includes(j) ? 'num' : false, text: c })),
          );
          return tr;
        }),
      }),
    );
  },
});
