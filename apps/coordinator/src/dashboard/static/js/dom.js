/*
 * Small DOM and formatting helpers shared by every panel. All text goes in through textContent
 * (h() never parses HTML), so nothing a job or an audit record contains is ever run as markup.
 */

export const $ = (id) => document.getElementById(id);

/**
 * h('a', { href: '#x', class: 'c', dataset: { jobId }, on: { click } }, 'text', child): an element.
 * Attributes set to false, null or undefined are left off; `true` sets an empty attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'on') for (const [type, fn] of Object.entries(v)) el.addEventListener(type, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** A table row; cells are text or nodes, `numeric` lists the right-aligned columns. */
export function row(cells, numeric = [], cellTag = 'td') {
  return h(
    'tr',
    {},
    cells.map((c, i) =>
      h(cellTag, { class: numeric.includes(i) ? 'num' : false }, c instanceof Node ? c : c == null ? '' : String(c)),
    ),
  );
}

/**
 * A table in a scroll region that is a keyboard stop (only scrolls where the screen is too
 * narrow for it), with a caption for screen readers.
 */
export function table({ caption, head, rows, numeric = [], id, className }) {
  const t = h(
    'table',
    { id, class: className },
    h('caption', { class: 'visually-hidden', text: caption }),
    h('thead', {}, row(head, numeric, 'th')),
    h('tbody', {}, rows),
  );
  for (const th of t.tHead.rows[0].cells) th.setAttribute('scope', 'col');
  return h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': caption }, t);
}

/** A definition list from [term, value] pairs (values text or nodes). */
export function facts(pairs, className = 'facts') {
  return h(
    'dl',
    { class: className },
    pairs.flatMap(([k, v]) => [
      h('dt', { text: k }),
      h('dd', { dataset: { field: k } }, v instanceof Node ? v : String(v)),
    ]),
  );
}

/** What a panel shows when it has nothing to show: always a sentence, never the last job's data. */
export function emptyState(text) {
  return h('p', { class: 'empty muted', text });
}

export function stateBadge(state) {
  return h('span', { class: `state ${state}`, text: state });
}

/** Tells screen-reader users what just changed (the live region is polite: it never interrupts). */
export function announce(text) {
  const region = $('announcer');
  region.textContent = '';
  // A fresh text node in a later task, so the same sentence twice is announced twice.
  setTimeout(() => (region.textContent = text), 50);
}

export const fixed = (v, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
export const signed = (v, digits = 4) =>
  typeof v === 'number' && Number.isFinite(v) ? (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(digits) : '—';
export const percent = (v, digits = 1) =>
  typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : '—';
export const count = (v) => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en') : '—');

/** ISO-like, with the year and the time zone: "2026-12-07 07:45:12 UTC". */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** 75.2 s, 12 min 3 s, 2 h 5 min. */
export function duration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** The outcome of a model job (split LR, split NN, SecureBoost), or null for a PSI check or no result. */
export const modelResult = (job) => (job && job.result && job.result.train ? job.result : null);
