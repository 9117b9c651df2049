/*
 * The job list: newest first, filtered by state (server side) and by model or text (this page),
 * paged by the API's cursor, with duration, validation AUC and submitter (GET /jobs?include=outcome).
 * Each job is a link (Tab reaches it, Enter opens it); two ticked jobs can be compared.
 * It refreshes every 5 s while shown, keeping the focused row focused.
 */
import { apiWithHeaders } from './api.js';
import { $, duration, emptyState, fixed, h, row, stateBadge, table, TERMINAL, time } from './dom.js';

const STATES = ['queued', 'aligning', 'training', 'evaluating', 'succeeded', 'failed', 'cancelled'];
const MODELS = ['split-lr', 'split-nn', 'secureboost', 'psi-cardinality'];
const REFRESH_MS = 5000;

/** Kept while the page lives: filters, the page's cursor trail, the ticked jobs. */
const list = { state: '', model: '', text: '', limit: 25, cursors: [''], page: 0, ticked: new Set(), timer: null };

export function stopJobList() {
  clearInterval(list.timer);
  list.timer = null;
  $('list-view').replaceChildren();
}

export async function showJobList(ctx) {
  const view = $('list-view');
  view.hidden = false;
  view.replaceChildren(
    h('h2', { id: 'list-title', text: 'Jobs' }),
    filters(ctx),
    h('div', { id: 'jobs-host' }),
    pager(ctx),
  );
  await refresh();
  clearInterval(list.timer);
  list.timer = setInterval(() => refresh().catch(() => undefined), REFRESH_MS);
}

function select(id, label, options, value, onChange) {
  return h(
    'label',
    { class: 'field' },
    h('span', { text: label }),
    h(
      'select',
      { id, on: { change: (e) => onChange(e.target.value) } },
      options.map(([v, text]) => h('option', { value: v, selected: v === String(value), text })),
    ),
  );
}

function filters(ctx) {
  const again = () => refresh().catch(ctx.showError);
  const fromStart = () => {
    list.cursors = [''];
    list.page = 0;
    again();
  };
  return h(
    'div',
    { class: 'toolbar', role: 'search', 'aria-label': 'Filter jobs' },
    select('filter-state', 'State', [['', 'any state'], ...STATES.map((s) => [s, s])], list.state, (v) => {
      list.state = v;
      fromStart();
    }),
    select('filter-model', 'Model', [['', 'any model'], ...MODELS.map((m) => [m, m])], list.model, (v) => {
      list.model = v;
      again();
    }),
    h(
      'label',
      { class: 'field' },
      h('span', { text: 'Search' }),
      h('input', {
        id: 'filter-text',
        type: 'search',
        value: list.text,
        placeholder: 'job id or submitter',
        on: {
          input: (e) => {
            list.text = e.target.value.trim().toLowerCase();
            again();
          },
        },
      }),
    ),
    select(
      'page-size',
      'Per page',
      [10, 25, 50, 100].map((n) => [String(n), String(n)]),
      list.limit,
      (v) => {
        list.limit = Number(v);
        fromStart();
      },
    ),
    h('button', { id: 'refresh-jobs', type: 'button', text: 'Refresh', on: { click: again } }),
    h('button', {
      id: 'compare-jobs',
      type: 'button',
      text: 'Compare ticked runs',
      disabled: list.ticked.size !== 2,
      on: { click: () => (location.hash = `compare/${[...list.ticked].join(',')}`) },
    }),
  );
}

function pager(ctx) {
  const go = (delta) => {
    list.page += delta;
    refresh().catch(ctx.showError);
  };
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Job pages' },
    h('button', { id: 'jobs-newer', type: 'button', text: '◀ newer', on: { click: () => go(-1) } }),
    h('span', { id: 'jobs-page', text: '' }),
    h('button', { id: 'jobs-older', type: 'button', text: 'older ▶', on: { click: () => go(1) } }),
  );
}

function durationOf(j) {
  if (typeof j.seconds === 'number') return duration(j.seconds);
  const seconds =
    ((TERMINAL.includes(j.state) ? Date.parse(j.updatedAt) : Date.now()) - Date.parse(j.createdAt)) / 1000;
  return TERMINAL.includes(j.state) ? duration(seconds) : `running ${duration(seconds)}`;
}

async function refresh() {
  const q = new URLSearchParams({ limit: String(list.limit), include: 'outcome' });
  if (list.state) q.set('state', list.state);
  if (list.cursors[list.page]) q.set('cursor', list.cursors[list.page]);
  const { body: jobs, headers } = await apiWithHeaders(`/jobs?${q}`);
  const host = $('jobs-host');
  if (!host) return; // the view was left while the page loaded
  const next = headers.get('x-next-cursor');
  list.cursors[list.page + 1] = next || undefined;
  $('jobs-newer').disabled = list.page === 0;
  $('jobs-older').disabled = !next;
  $('jobs-page').textContent = `page ${list.page + 1}`;
  const shown = jobs.filter(
    (j) =>
      (!list.model || j.model === list.model) &&
      (!list.text || j.id.startsWith(list.text) || (j.submittedBy || '').toLowerCase().includes(list.text)),
  );
  // Re-rendering replaces the rows: note what had focus, and give it back.
  const focused =
    document.activeElement && document.activeElement.closest && document.activeElement.closest('#jobs tr');
  const focusKey = focused ? [focused.dataset.jobId, document.activeElement.tagName] : null;
  host.replaceChildren(
    shown.length
      ? table({
          id: 'jobs',
          caption: 'Jobs, newest first',
          head: ['compare', 'job', 'model', 'state', 'created', 'duration', 'validation AUC', 'submitted by'],
          numeric: [6],
          rows: shown.map(jobRow),
        })
      : emptyState(
          jobs.length
            ? 'No job on this page matches the model or search filter.'
            : list.state
              ? `No ${list.state} jobs.`
              : 'No jobs yet. Start one with POST /jobs (see the API docs at /api).',
        ),
  );
  if (focusKey) {
    const tr = host.querySelector(`tr[data-job-id="${focusKey[0]}"]`);
    const target = tr && (focusKey[1] === 'INPUT' ? tr.querySelector('input') : tr.querySelector('a'));
    if (target) target.focus();
  }
}

function jobRow(j) {
  const short = j.id.slice(0, 8);
  const tick = h('input', {
    type: 'checkbox',
    checked: list.ticked.has(j.id),
    'aria-label': `compare job ${short}`,
    on: {
      change: (e) => {
        if (e.target.checked) list.ticked.add(j.id);
        else list.ticked.delete(j.id);
        $('compare-jobs').disabled = list.ticked.size !== 2;
      },
    },
  });
  const link = h('a', { href: `#job/${j.id}`, title: j.id, class: 'job-link' }, h('code', { text: short }));
  const tr = row(
    [
      tick,
      link,
      j.model,
      stateBadge(j.state),
      time(j.createdAt),
      durationOf(j),
      fixed(j.validationAuc),
      j.submittedBy || '—',
    ],
    [6],
  );
  tr.dataset.jobId = j.id;
  tr.dataset.state = j.state;
  return tr;
}
