/*
 * Why a job did not finish: the party, the step it was at, the reason, and the data file the
 * request named for that party; what the operator can do next (retry, or resume from a checkpoint).
 */
import { facts, h, time } from '../dom.js';
import { registerPanel } from '../registry.js';

registerPanel({
  id: 'failure',
  title: 'What went wrong',
  order: 10,
  wide: true,
  applies: (job) => job.state === 'failed' || job.state === 'cancelled',
  render(body, job) {
    if (job.state === 'cancelled') {
      body.append(h('p', { text: `The job was cancelled (last update ${time(job.updatedAt)}). It has no outcome.` }));
      return;
    }
    const party = job.parties.find((p) => p.partyId === job.failedParty);
    const step = (job.progress && job.progress.phase) || 'starting';
    body.append(
      h('p', { id: 'job-error', class: 'error', text: job.error || 'The job failed without a recorded reason.' }),
      facts([
        ['party', job.failedParty || 'the coordinator (no single party)'],
        ['step', step + (job.progress && job.progress.epoch ? `, epoch ${job.progress.epoch}` : '')],
        [
          'requested data',
          party
            ? `${party.partyId}: ${party.data.path}`
            : job.parties.map((p) => `${p.partyId}: ${p.data.path}`).join('; '),
        ],
        ['failed at', time(job.updatedAt)],
        [
          'next',
          job.checkpointEpoch
            ? `resume continues after epoch ${job.checkpointEpoch}; retry starts over`
            : 'retry starts the same request again (no checkpoint to resume from)',
        ],
      ]),
    );
  },
});
