/*
 * One job: its header (id, state, the actions the key's role may take) above the registered
 * panels, kept current from the job's event stream while it runs. Opening a job mounts fresh
 * panel cards, and every render empties a card before drawing it (registry.js), so nothing of
 * the previously opened job can remain on the page.
 */
import { api, followEvents } from './api.js';
import { $, announce, emptyState, h, TERMINAL } from './dom.js';
import { destroyCharts } from './charts.js';
import { mountPanels, renderPanels } from './registry.js';

const LIVE_EVENTS_KEPT = 30;
const OPERATORS = ['admin', 'operator'];

/** The open job: its id, last state, panel cards, event stream and the live events seen. */
let view = null;

export function closeJob() {
  if (view && view.stream) view.stream.abort();
  view = null;
  destroyCharts($('job-view'));
  $('job-view').replaceChildren();
}

export async function openJob(id, ctx) {
  closeJob();
  const section = $('job-view');
  section.hidden = false;
  const header = h('div', { class: 'job-header' });
  const host = h('div', { class: 'panels' });
  section.replaceChildren(h('p', {}, h('a', { href: '#', text: '← All jobs' })), header, host);
  view = { id, job: null, stream: null, live: [], header, cards: mountPanels(host), panelState: {} };
  const current = view;
  let job;
  try {
    job = await api(`/jobs/${id}`);
  } catch (e) {
    if (view !== current) return;
    const message = `Job ${id} could not be opened: ${e && e.message ? e.message : e}`;
    header.replaceChildren(h('h2', { id: 'job-title', tabindex: -1, text: 'Job not available' }), emptyState(message));
    $('job-title').focus();
    announce(message);
    return;
  }
  if (view !== current) return;
  render(job, ctx);
  $('job-title').focus();
  announce(`Job ${id.slice(0, 8)} opened: ${job.state}.`);
  if (!TERMINAL.includes(job.state)) follow(ctx);
}

/** What every panel's render gets besides the job. */
function panelContext(ctx) {
  const current = view;
  return {
    ...ctx,
    live: current.live,
    /** Panel state that lasts while this job stays open (the audit panel's page and filters). */
    state: (panelId, initial) => (current.panelState[panelId] ??= initial),
    /** Re-renders some panels of this job (a threshold moved, a page turned). */
    rerender: (only) => view === current && renderPanels(current.cards, current.job, panelContext(ctx), only),
  };
}

function render(job, ctx, only) {
  view.job = job;
  if (!only) renderHeader(job, ctx);
  renderPanels(view.cards, job, panelContext(ctx), only);
}

function renderHeader(job, ctx) {
  const title = h(
    'h2',
    { id: 'job-title', tabindex: -1 },
    'Job ',
    h('code', { id: 'job-id', text: job.id }),
    ' ',
    h('span', { id: 'job-state', class: `state ${job.state}`, text: job.state }),
  );
  view.header.replaceChildren(title, actions(job, ctx));
}

/** Cancel, retry and resume, for the roles the API lets do them, where the job's state allows. */
function actions(job, ctx) {
  if (!OPERATORS.includes(ctx.session.role))
    return h('p', { class: 'muted', text: `Your key's role (${ctx.session.role}) can read jobs, not run them.` });
  const act = async (verb, button) => {
    button.disabled = true;
    try {
      const next = await api(`/jobs/${job.id}/${verb}`, { method: 'POST' });
      announce(verb === 'cancel' ? 'Cancellation requested.' : `Started job ${next.id.slice(0, 8)} (${verb}).`);
      if (verb === 'cancel') render(next, ctx);
      else location.hash = `job/${next.id}`;
    } catch (e) {
      button.disabled = false;
      ctx.showError(e);
    }
  };
  const button = (verb, text, hint) =>
    h('button', {
      type: 'button',
      id: `job-${verb}`,
      text,
      title: hint,
      on: { click: (e) => act(verb, e.currentTarget) },
    });
  const buttons = [];
  if (!TERMINAL.includes(job.state)) buttons.push(button('cancel', 'Cancel job', 'Stops it at its next protocol step'));
  if (job.state === 'failed' && job.checkpointEpoch)
    buttons.push(
      button('resume', `Resume after epoch ${job.checkpointEpoch}`, "A new job from the parties' last checkpoint"),
    );
  if (job.state === 'failed' || job.state === 'cancelled')
    buttons.push(button('retry', 'Retry', 'A new job with the same request'));
  return buttons.length ? h('div', { class: 'actions' }, buttons) : h('span');
}

/** Applies the live events to the page; when the stream ends, reloads the job for its outcome. */
function follow(ctx) {
  const current = view;
  const controller = new AbortController();
  current.stream = controller;
  const log = (type, data) => {
    current.live.unshift({ at: new Date(), type, data });
    current.live.length = Math.min(current.live.length, LIVE_EVENTS_KEPT);
  };
  const onEvent = ({ type, data }) => {
    if (view !== current) return;
    log(type, data);
    const job = current.job;
    if (type === 'state') {
      const changed = job.state !== data.state;
      job.state = data.state;
      if (data.progress && Object.keys(data.progress).length) job.progress = data.progress;
      if (changed) announce(`Job ${job.id.slice(0, 8)} is ${data.state}.`);
      render(job, ctx);
    } else if (type === 'progress') {
      job.progress = data;
      render(job, ctx, ['progress']);
    } else if (type === 'epoch') {
      job.epochs = job.epochs.filter((e) => e.epoch !== data.epoch).concat([data]);
      render(job, ctx, ['progress', 'training']);
    }
  };
  followEvents(current.id, controller.signal, onEvent)
    .catch((e) => {
      if (e.name !== 'AbortError') log('stream', { error: String(e.message || e) });
    })
    .then(async () => {
      if (controller.signal.aborted || view !== current) return;
      current.stream = null;
      const job = await api(`/jobs/${current.id}`);
      if (view !== current) return;
      render(job, ctx);
      if (TERMINAL.includes(job.state)) announce(`Job ${job.id.slice(0, 8)} ended: ${job.state}.`);
      // A stream that ended early (connection lost) while the job still runs: follow it again.
      else setTimeout(() => view === current && !current.stream && follow(ctx), 1000);
    })
    .catch(ctx.showError);
}
