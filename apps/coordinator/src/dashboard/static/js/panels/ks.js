/* The KS plot: cumulative shares of defaults and non-defaults by score rank, and where they are widest apart. */
import { chartFigure, COLORS, draw, line, unitAxes, xy } from '../charts.js';
import { fixed, modelResult, percent } from '../dom.js';
import { registerPanel } from '../registry.js';
import { hasBinaryOutcome } from './outcome.js';

registerPanel({
  id: 'ks',
  title: 'KS plot (validation)',
  order: 60,
  // Drawn from a model's outcome only; until there is one, the Outcome panel says why not.
  applies: hasBinaryOutcome,
  render(body, job) {
    const model = modelResult(job);
    const validation = model.validation;
    const points = validation.ksCurve;
    const widest = points.reduce((best, p) => (p.bad - p.good > best.bad - best.good ? p : best), points[0]);
    const canvas = chartFigure(body, {
      id: 'chart-ks',
      title: 'KS plot',
      summary: `KS ${fixed(validation.ks)}: widest at the top ${percent(widest.share)} of scores, which hold ${percent(widest.bad)} of defaults and ${percent(widest.good)} of non-defaults.`,
    });
    draw(canvas, {
      type: 'scatter',
      data: {
        datasets: [
          line('defaults (bad), cumulative share', xy(points, 'share', 'bad'), COLORS.bad),
          line('non-defaults (good), cumulative share', xy(points, 'share', 'good'), COLORS.good),
          line(
            `KS ${fixed(validation.ks)}`,
            [
              { x: widest.share, y: widest.good },
              { x: widest.share, y: widest.bad },
            ],
            COLORS.marker,
            { borderDash: [3, 3], pointRadius: 3 },
          ),
        ],
      },
      options: { scales: unitAxes('share of rows, highest scores first', 'cumulative share of class') },
    });
  },
});
