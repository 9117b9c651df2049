/*
 * SecureBoost: gain per feature over the kept trees, with a bar for its share of the total (the
 * bar's width is the number shown beside it). A feature party's columns appear by position: only
 * that party knows their names.
 */
import { count, fixed, h, percent, table } from '../dom.js';
import { registerPanel } from '../registry.js';

registerPanel({
  id: 'importance',
  title: 'Feature importance (total gain over the kept trees)',
  order: 70,
  applies: (job) => Boolean(job.result && job.result.importance),
  render(body, job) {
    const features = job.result.importance;
    const total = features.reduce((s, f) => s + f.gain, 0) || 1;
    body.append(
      h('p', {
        class: 'muted',
        text: "A feature party's columns appear by position: only that party knows their names.",
      }),
      table({
        id: 'importance',
        caption: 'Feature importance by total gain',
        head: ['party', 'feature', 'gain', 'splits', 'share of gain'],
        numeric: [2, 3],
        rows: features.slice(0, 20).map((f) => {
          const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
          bar.style.width = `${((100 * f.gain) / total).toFixed(1)}%`;
          const tr = document.createElement('tr');
          for (const [i, c] of [
            f.partyId,
            f.column ?? `column #${f.index + 1}`,
            fixed(f.gain, 2),
            count(f.splits),
          ].entries())
            tr.append(h('td', { class: i >= 2 ? 'num' : false, text: c }));
          tr.append(h('td', {}, bar, ` ${percent(f.gain / total)}`));
          return tr;
        }),
      }),
    );
  },
});
