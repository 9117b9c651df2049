/*
 * What each party did (the per-party view FATE-Board users look for): the rows and columns it
 * brought, the SHA-256 of the file it read (so an auditor can match it to the data the party
 * holds), and what it sent and received per epoch, by link, in the last epoch.
 */
import { count, h, table } from '../dom.js';
import { registerPanel } from '../registry.js';

const megabytes = (bytes) => (typeof bytes === 'number' ? `${(bytes / 1e6).toFixed(2)} MB` : '—');

/** Bytes a party sent and received per epoch, from the result's "from->to" link totals. */
function traffic(byLink, partyId) {
  if (!byLink) return { sent: undefined, received: undefined };
  let sent = 0;
  let received = 0;
  for (const [link, bytes] of Object.entries(byLink)) {
    const [from, to] = link.split('->');
    if (from === partyId) sent += bytes;
    if (to === partyId) received += bytes;
  }
  return { sent, received };
}

registerPanel({
  id: 'by-party',
  title: 'By party',
  order: 80,
  wide: true,
  applies: (job) => Boolean(job.result && job.result.datasets),
  render(body, job) {
    const { datasets, bytesPerEpochByLink } = job.result;
    body.append(
      table({
        id: 'by-party',
        caption: 'What each party brought and exchanged',
        head: ['party', 'role', 'rows', 'columns', 'sent per epoch', 'received per epoch', 'data file SHA-256'],
        numeric: [2, 3, 4, 5],
        rows: job.parties.map((p) => {
          const d = datasets[p.partyId] || {};
          const t = traffic(bytesPerEpochByLink, p.partyId);
          const tr = document.createElement('tr');
          tr.dataset.party = p.partyId;
          tr.append(
            h('td', { text: p.partyId }),
            h('td', { text: p.role }),
            h('td', { class: 'num', text: count(d.rows) }),
            h('td', { class: 'num', text: count(d.columns) }),
            h('td', { class: 'num', text: megabytes(t.sent) }),
            h('td', { class: 'num', text: megabytes(t.received) }),
            h('td', {}, d.contentSha256 ? h('code', { class: 'hash', text: d.contentSha256 }) : '—'),
          );
          return tr;
        }),
      }),
      h('p', {
        class: 'muted',
        text: bytesPerEpochByLink
          ? 'Traffic is the last epoch’s, coordinator links included. The audit trail below, filtered by party, lists every message a party sent or received.'
          : 'This model reports no traffic by link. The audit trail below, filtered by party, lists every message a party sent or received.',
      }),
    );
  },
});
