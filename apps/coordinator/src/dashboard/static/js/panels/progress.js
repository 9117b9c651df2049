/*
 * Where the job is: phase, PSI, epoch and batch, a progress bar that stops where a failed job
 * stopped (it never shows 100% for a job that did not finish), and the live events of this visit.
 */
import { count, emptyState, facts, h, percent, TERMINAL, time } from '../dom.js';
import { registerPanel } from '../registry.js';

/** The share of the run done, from the last progress report; 1 only for a job that succeeded. */
export function doneShare(job) {
  const p = job.progress || {};
  if (job.state === 'succeeded') return 1;
  if (p.phase === 'aligning' && p.elementsTotal) return 0.1 * (p.elementsDone / p.elementsTotal);
  if (p.epochs && p.batches) return 0.1 + 0.85 * (((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches));
  if (p.phase === 'evaluating') return 0.95;
  return 0;
}

function describe(type, d) {
  if (type === 'state') return d.state + (d.reason ? ` (${d.reason})` : '');
  if (type === 'epoch')
    return `epoch ${d.epoch}: validation AUC ${d.validationAuc.toFixed(4)}, loss ${d.validationLoss.toFixed(4)}`;
  if (type === 'progress') {
    if (d.elementsTotal) return `PSI ${d.elementsDone}/${d.elementsTotal}`;
    if (d.batches) return `epoch ${d.epoch}/${d.epochs} batch ${d.batch}/${d.batches}`;
    return d.phase || '';
  }
  return JSON.stringify(d);
}

registerPanel({
  id: 'progress',
  title: 'Progress',
  order: 15,
  render(body, job, ctx) {
    const p = job.progress || {};
    const ended = TERMINAL.includes(job.state);
    const items = [['state', job.state]];
    if (p.phase && !ended) items.push(['phase', p.phase]);
    if (p.phase && job.state === 'failed') items.push(['stopped while', p.phase]);
    if (p.elementsTotal) items.push(['PSI elements', `${count(p.elementsDone)} of ${count(p.elementsTotal)} blinded`]);
    if (p.epochs) items.push(['epoch', `${p.epoch} of ${p.epochs}`]);
    if (p.batches) items.push(['batch', `${p.batch} of ${p.batches}`]);
    if (p.rowsProcessed !== undefined) items.push(['rows processed', count(p.rowsProcessed)]);
    if (p.etaSeconds !== undefined && p.etaSeconds !== null && !ended) items.push(['ETA', `${p.etaSeconds} s`]);
    if (job.checkpointEpoch) items.push(['checkpointed', `after epoch ${job.checkpointEpoch}`]);
    const share = doneShare(job);
    body.append(
      facts(items, 'facts progress-facts'),
      h('progress', {
        id: 'progress-bar',
        class: job.state,
        max: 1,
        value: share,
        'aria-label': `${percent(share, 0)} of the run done${ended && job.state !== 'succeeded' ? `, stopped: ${job.state}` : ''}`,
      }),
      h('h4', { text: 'Live events' }),
    );
    if (ctx.live.length) {
      body.append(
        h(
          'ol',
          { id: 'live-events', reversed: true },
          ctx.live.map((e) =>
            h('li', {
              dataset: { type: e.type, ...(e.type === 'state' ? { state: e.data.state } : {}) },
              text: `${time(e.at.toISOString()).slice(11)} ${e.type} ${describe(e.type, e.data)}`,
            }),
          ),
        ),
      );
    } else {
      body.append(
        emptyState(
          ended
            ? `The job had ended (${job.state}) before it was opened, so it streams no events; its audit trail below holds every step.`
            : 'Waiting for the first event from the job…',
        ),
      );
    }
  },
});
