/* Who took part: each party's role, the data it was asked to use, and the job's settings. */
import { h, table, time } from '../dom.js';
import { registerPanel } from '../registry.js';

/** The settings that shaped the run, in words. */
export function settingsOf(job) {
  const hp = job.hyperparameters || {};
  const parts = [`${job.model}`, `created ${time(job.createdAt)}`];
  if (job.model === 'split-lr')
    parts.push(`${hp.epochs} epochs, batch ${hp.batchSize}, learning rate ${hp.learningRate}, ${hp.optimizer}`);
  if (job.alignment && job.alignment.idRules.length) parts.push(`ID rules ${job.alignment.idRules.join(', ')}`);
  if (job.resumedFrom)
    parts.push(`resumed from job ${job.resumedFrom.fromJobId.slice(0, 8)} after epoch ${job.resumedFrom.epoch}`);
  return parts.join('; ');
}

registerPanel({
  id: 'parties',
  title: 'Parties and settings',
  order: 16,
  render(body, job) {
    body.append(
      table({
        id: 'parties',
        caption: 'Parties of the job',
        head: ['party', 'role', 'data', 'label column'],
        rows: job.parties.map((p) => {
          const tr = document.createElement('tr');
          for (const c of [p.partyId, p.role, p.data.path, p.data.labelColumn || '—']) tr.append(h('td', { text: c }));
          return tr;
        }),
      }),
      h('p', { id: 'job-meta', class: 'muted', text: settingsOf(job) }),
    );
  },
});
