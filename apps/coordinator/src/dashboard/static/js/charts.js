/*
 * chart.js (a UMD global loaded before the modules) with the dashboard's defaults: no animation,
 * so a render is final at once; every chart in a <figure> whose canvas has role="img" and an
 * aria-label saying what the chart shows in numbers, and a visible caption with the same.
 */
import { h } from './dom.js';

/** Line colours, each at least 3:1 against the white card (WCAG 1.4.11, non-text contrast). */
export const COLORS = {
  federated: '#1d4ed8',
  labelOnly: '#b45309',
  train: '#475569',
  validation: '#1d4ed8',
  loss: '#c2410c',
  bad: '#c2410c',
  good: '#15803d',
  chance: '#6b7280',
  marker: '#111827',
  second: '#7c3aed',
};

/** A figure for one chart: returns its canvas. `summary` is the chart's text alternative. */
export function chartFigure(parent, { id, title, summary, tall = false }) {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': `${title}. ${summary}` });
  parent.append(
    h(
      'figure',
      { class: 'chart-figure' },
      h('div', { class: tall ? 'chart tall' : 'chart' }, canvas),
      h('figcaption', { class: 'muted', text: summary }),
    ),
  );
  return canvas;
}

export function draw(canvas, config) {
  const existing = window.Chart.getChart(canvas);
  if (existing) existing.destroy();
  config.options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    ...config.options,
    plugins: { legend: { labels: { boxWidth: 14, color: '#1f2937' } }, ...(config.options || {}).plugins },
  };
  return new window.Chart(canvas, config);
}

/** Destroys the charts under `root` (their canvases are about to be removed). */
export function destroyCharts(root) {
  if (!window.Chart) return;
  for (const canvas of root.querySelectorAll('canvas')) window.Chart.getChart(canvas)?.destroy();
}

export const xy = (points, x, y) => points.map((p) => ({ x: p[x], y: p[y] }));

/** A line through points ({x, y}) on a scatter chart. */
export function line(label, data, color, extra = {}) {
  return {
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    showLine: true,
    pointRadius: 0,
    borderWidth: 2,
    ...extra,
  };
}

export const chanceLine = (label = 'chance') =>
  line(
    label,
    [
      { x: 0, y: 0 },
      { x: 1, y: 1 },
    ],
    COLORS.chance,
    { borderDash: [4, 4], borderWidth: 1 },
  );

export const unitAxes = (xTitle, yTitle) => ({
  x: { type: 'linear', min: 0, max: 1, title: { display: true, text: xTitle } },
  y: { min: 0, max: 1, title: { display: true, text: yTitle } },
});
