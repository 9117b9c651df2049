/*
 * The auditor's view of a job: the verification result (chain, signed heads, ledger, result
 * digest, and every signing key with what it signed), the signed chain heads in full, the data-
 * usage report, CSV and JSON Lines exports of exactly the events the filters select, and the
 * trail itself, filtered and paged, with full digests and hashes and each event's detail.
 */
import { api, download } from '../api.js';
import { announce, count, emptyState, facts, h, table, time } from '../dom.js';
import { registerPanel } from '../registry.js';

const PAGE_SIZES = [50, 100, 250];

const hash = (v) => (v ? h('code', { class: 'hash', text: v }) : '—');

/** The /audit/events query for the job and the filters, without paging. */
function query(job, f) {
  const q = new URLSearchParams({ jobId: job.id });
  if (f.step) q.set('step', f.step);
  if (f.party) q.set('party', f.party);
  if (f.from) q.set('from', new Date(`${f.from}Z`).toISOString());
  if (f.to) q.set('to', new Date(`${f.to}Z`).toISOString());
  return q;
}

function verificationBlock(v) {
  const badge = h('span', {
    id: 'audit-verification',
    class: `state ${v.valid ? 'valid' : 'broken'}`,
    text: v.valid
      ? `chain valid, ${count(v.events)} events`
      : `chain broken at seq ${v.firstBroken && v.firstBroken.seq}`,
  });
  const pairs = [
    ['result', badge],
    ['events checked', count(v.events)],
    ['signed chain heads checked', count(v.checkpoints)],
    ['ledger rows checked', count(v.ledgerRows)],
    ['result digests matched', count(v.results)],
  ];
  if (v.firstBroken) pairs.push(['first break', `${v.firstBroken.reason} (seq ${v.firstBroken.seq ?? '—'})`]);
  return h(
    'div',
    {},
    facts(pairs),
    table({
      id: 'audit-keys',
      caption: 'Signing keys',
      head: ['ed25519 public key', 'chain heads signed', 'ledger rows signed', 'trusted'],
      numeric: [1, 2],
      rows: (v.keys || []).map((k) => {
        const tr = document.createElement('tr');
        tr.append(
          h('td', {}, hash(k.publicKey)),
          h('td', { class: 'num', text: count(k.heads) }),
          h('td', { class: 'num', text: count(k.ledgerRows) }),
          h('td', { text: k.trusted === undefined ? '—' : k.trusted === false ? 'no' : `yes (${k.trusted})` }),
        );
        return tr;
      }),
    }),
  );
}

function headsTable(heads) {
  if (!heads.length) return emptyState('No chain head of this job has been signed yet.');
  return table({
    id: 'audit-heads',
    caption: 'Signed chain heads',
    head: ['seq', 'signed at', 'head hash', 'signer', 'public key', 'signature'],
    numeric: [0],
    rows: heads.map((c) => {
      const tr = document.createElement('tr');
      tr.append(
        h('td', { class: 'num', text: c.seq }),
        h('td', { text: time(c.signedAt) }),
        h('td', {}, hash(c.headHash)),
        h('td', { text: c.signer }),
        h('td', {}, hash(c.publicKey)),
        h('td', {}, h('details', {}, h('summary', { text: 'show' }), hash(c.signature))),
      );
      return tr;
    }),
  });
}

function eventRow(e) {
  const tr = document.createElement('tr');
  tr.dataset.seq = e.seq;
  const detail =
    e.detail && Object.keys(e.detail).length
      ? h(
          'details',
          {},
          h('summary', { text: Object.keys(e.detail).slice(0, 3).join(', ') }),
          h('pre', { text: JSON.stringify(e.detail, null, 2) }),
        )
      : '—';
  tr.append(
    h('td', { class: 'num', text: e.seq }),
    h('td', { text: time(e.occurredAt) }),
    h('td', { text: e.step }),
    h('td', { text: `${e.sender} → ${e.receiver || '—'}` }),
    h('td', { class: 'num', text: e.byteSize ? count(e.byteSize) : '' }),
    h('td', {}, hash(e.messageDigest)),
    h('td', {}, hash(e.hash), h('details', {}, h('summary', { text: 'previous' }), hash(e.prevHash))),
    h('td', {}, detail),
  );
  return tr;
}

function filterForm(f, apply) {
  const input = (name, label, attrs) =>
    h('label', { class: 'field' }, h('span', { text: label }), h('input', { name, value: f[name] || '', ...attrs }));
  return h(
    'form',
    {
      id: 'audit-filters',
      class: 'toolbar',
      role: 'search',
      'aria-label': 'Filter the audit trail',
      on: {
        submit: (e) => {
          e.preventDefault();
          const data = new FormData(e.target);
          apply({
            step: String(data.get('step') || '').trim(),
            party: String(data.get('party') || '').trim(),
            from: String(data.get('from') || ''),
            to: String(data.get('to') || ''),
            limit: Number(data.get('limit')),
          });
        },
      },
    },
    input('step', 'Step', { placeholder: 'e.g. psi.result', pattern: '[a-z_.]{1,64}' }),
    input('party', 'Party (sender or receiver)', { placeholder: 'e.g. bank', pattern: '[A-Za-z0-9_:\\-]{1,64}' }),
    input('from', 'From (UTC)', { type: 'datetime-local', step: 1 }),
    input('to', 'To (UTC)', { type: 'datetime-local', step: 1 }),
    h(
      'label',
      { class: 'field' },
      h('span', { text: 'Per page' }),
      h(
        'select',
        { name: 'limit' },
        PAGE_SIZES.map((n) => h('option', { value: n, selected: n === f.limit, text: n })),
      ),
    ),
    h('button', { type: 'submit', text: 'Apply filters' }),
  );
}

registerPanel({
  id: 'audit',
  title: 'Audit trail',
  order: 90,
  wide: true,
  async render(body, job, ctx) {
    const f = ctx.state('audit', { offset: 0, limit: PAGE_SIZES[0], step: '', party: '', from: '', to: '' });
    const q = query(job, f);
    const [trail, heads, events] = await Promise.all([
      api(`/jobs/${job.id}/audit?limit=1`),
      api(`/jobs/${job.id}/audit/checkpoints`),
      api(`/audit/events?${q}&offset=${f.offset}&limit=${f.limit}`),
    ]);
    if (!ctx.alive()) return;
    const short = job.id.slice(0, 8);
    const save = (path, name) => download(path, name).then(() => announce(`Saved ${name}.`), ctx.showError);
    const filtered = Boolean(f.step || f.party || f.from || f.to);
    const first = events.length ? f.offset + 1 : 0;
    const go = (offset) => {
      f.offset = Math.max(0, offset);
      ctx.rerender(['audit']);
    };
    body.append(
      h('h4', { text: 'Verification' }),
      verificationBlock(trail.verification),
      h(
        'div',
        { class: 'actions', id: 'audit-links' },
        h('button', {
          type: 'button',
          id: 'audit-report',
          text: 'Data-usage report (JSON)',
          on: { click: () => save(`/jobs/${job.id}/report`, `job-${short}-report.json`) },
        }),
        h('button', {
          type: 'button',
          id: 'audit-export-csv',
          text: 'Export events (CSV)',
          on: { click: () => save(`/audit/events/export?${q}&format=csv`, `audit-${short}.csv`) },
        }),
        h('button', {
          type: 'button',
          id: 'audit-export-jsonl',
          text: 'Export events (JSON Lines)',
          on: { click: () => save(`/audit/events/export?${q}&format=jsonl`, `audit-${short}.jsonl`) },
        }),
      ),
      h('p', {
        class: 'muted',
        text: 'The exports hold exactly the events the filters below select, with their hashes; the report is GET /jobs/:id/report.',
      }),
      h('h4', { text: `Signed chain heads (${heads.length})` }),
      headsTable(heads),
      h('h4', { text: 'Events' }),
      filterForm(f, (next) => {
        Object.assign(f, next, { offset: 0 });
        ctx.rerender(['audit']);
        announce('Audit filters applied.');
      }),
      h(
        'nav',
        { class: 'pager', 'aria-label': 'Audit trail pages' },
        h('button', {
          id: 'audit-prev',
          type: 'button',
          text: '◀ previous',
          disabled: f.offset === 0,
          on: { click: () => go(f.offset - f.limit) },
        }),
        h('span', {
          id: 'audit-range',
          text: filtered
            ? `${first}–${f.offset + events.length} of the matching events`
            : `${first}–${f.offset + events.length} of ${count(trail.verification.events)}`,
        }),
        h('button', {
          id: 'audit-next',
          type: 'button',
          text: 'next ▶',
          disabled: events.length < f.limit || (!filtered && f.offset + events.length >= trail.verification.events),
          on: { click: () => go(f.offset + f.limit) },
        }),
      ),
      events.length
        ? table({
            id: 'audit',
            className: 'audit-table',
            caption: 'Audit events',
            head: [
              'seq',
              'time',
              'step',
              'sender → receiver',
              'bytes',
              'message digest (SHA-256)',
              'event hash',
              'detail',
            ],
            numeric: [0, 4],
            rows: events.map(eventRow),
          })
        : emptyState(
            filtered ? 'No event of this job matches the filters.' : 'This job has no audit events on this page.',
          ),
    );
  },
});
