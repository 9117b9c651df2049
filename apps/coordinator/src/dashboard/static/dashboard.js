/*
 * VFL dashboard: plain browser JS over the coordinator's JSON API. The API key lives in this
 * tab's sessionStorage and goes in the Authorization header, never in a URL; that is also why the
 * event stream is read with fetch (EventSource cannot send headers). All text goes in through
 * textContent, so nothing a job or an audit record contains is ever parsed as HTML.
 */
'use strict';

const KEY_STORAGE = 'vfl.apiKey';
const TERMINAL = ['succeeded', 'failed', 'cancelled'];
const AUDIT_PAGE = 50;
const LIVE_EVENTS_SHOWN = 30;

const $ = (id) => document.getElementById(id);
const view = {
  jobId: null,
  job: null,
  stream: null, // AbortController of the selected job's event stream
  auditOffset: 0,
  charts: {},
  jobsTimer: null,
};

// ---- API --------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${apiKey()}`, accept: 'application/json' } });
  if (res.status === 401) {
    askForKey('The coordinator refused this API key (unknown, malformed or revoked).');
    throw new ApiError(401, 'unauthorized');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new ApiError(res.status, `${res.status}: ${[].concat(body.message || res.statusText).join('; ')}`);
  }
  return res.json();
}

/**
 * Follows GET /jobs/:id/events until it ends or `signal` aborts, calling onEvent({type, data})
 * per server-sent event. The SSE wire format: fields "event:" and "data:" on lines, events
 * separated by a blank line.
 */
async function followEvents(jobId, signal, onEvent) {
  const res = await fetch(`/jobs/${jobId}/events`, {
    headers: { authorization: `Bearer ${apiKey()}`, accept: 'text/event-stream' },
    signal,
  });
  if (!res.ok || !res.body) throw new ApiError(res.status, `event stream: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let type = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent({ type, data: JSON.parse(data.join('\n')) });
    }
  }
}

// ---- key --------------------------------------------------------------------------------------

function askForKey(message) {
  stopStream();
  clearInterval(view.jobsTimer);
  $('app').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('key-panel').hidden = false;
  $('key-error').hidden = !message;
  $('key-error').textContent = message || '';
  $('api-key').focus();
}

async function start() {
  $('key-panel').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = `key ${apiKey().split('_')[1] || ''}`;
  await refreshJobs();
  clearInterval(view.jobsTimer);
  view.jobsTimer = setInterval(() => refreshJobs().catch(() => undefined), 3000);
  const fromHash = location.hash.slice(1);
  if (fromHash) selectJob(fromHash);
}

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
  $('api-key').value = '';
  start().catch(showFailure);
});
$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  askForKey();
});
$('refresh-jobs').addEventListener('click', () => refreshJobs().catch(showFailure));

function showFailure(e) {
  if (e instanceof ApiError && e.status === 401) return;
  $('job-error').hidden = false;
  $('job-error').textContent = String(e && e.message ? e.message : e);
}

// ---- job list ---------------------------------------------------------------------------------

async function refreshJobs() {
  const jobs = await api('/jobs?limit=50');
  const body = $('jobs').tBodies[0];
  body.replaceChildren(
    ...jobs.map((j) => {
      const tr = row([j.id.slice(0, 8), j.model, stateBadge(j.state), time(j.createdAt)]);
      tr.dataset.jobId = j.id;
      tr.dataset.state = j.state;
      tr.title = j.id;
      if (j.id === view.jobId) tr.classList.add('selected');
      tr.addEventListener('click', () => selectJob(j.id));
      return tr;
    }),
  );
  $('jobs-empty').hidden = jobs.length > 0;
}

// ---- one job ----------------------------------------------------------------------------------

async function selectJob(id) {
  stopStream();
  view.jobId = id;
  view.auditOffset = 0;
  location.hash = id;
  for (const tr of $('jobs').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.jobId === id);
  $('live-events').replaceChildren();
  $('job-error').hidden = true;
  try {
    const job = await api(`/jobs/${id}`);
    if (view.jobId !== id) return;
    renderJob(job);
    await renderAudit();
    if (!TERMINAL.includes(job.state)) followJob(id);
  } catch (e) {
    showFailure(e);
  }
}

function stopStream() {
  if (view.stream) view.stream.abort();
  view.stream = null;
}

/** Applies the live events to the page; when the stream ends, reloads the job for its outcome. */
function followJob(id) {
  const controller = new AbortController();
  view.stream = controller;
  const onEvent = ({ type, data }) => {
    if (view.jobId !== id) return;
    logEvent(type, data);
    const job = view.job;
    if (type === 'state') {
      job.state = data.state;
      if (data.progress && Object.keys(data.progress).length) job.progress = data.progress;
      renderState(job);
    } else if (type === 'progress') {
      job.progress = data;
      renderProgress(job);
    } else if (type === 'epoch') {
      job.epochs = job.epochs.filter((e) => e.epoch !== data.epoch).concat([data]);
      renderEpochChart(job);
    }
  };
  followEvents(id, controller.signal, onEvent)
    .catch((e) => {
      if (e.name !== 'AbortError') logEvent('stream', { error: String(e.message || e) });
    })
    .then(async () => {
      if (controller.signal.aborted || view.jobId !== id) return;
      view.stream = null;
      const job = await api(`/jobs/${id}`);
      if (view.jobId !== id) return;
      renderJob(job);
      await renderAudit();
      refreshJobs().catch(() => undefined);
      // A stream that ended early (connection lost) while the job still runs: follow it again.
      if (!TERMINAL.includes(job.state)) setTimeout(() => view.jobId === id && !view.stream && followJob(id), 1000);
    })
    .catch(showFailure);
}

function logEvent(type, data) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${type} ${describeEvent(type, data)}`;
  li.dataset.type = type;
  if (type === 'state') li.dataset.state = data.state;
  const list = $('live-events');
  list.prepend(li);
  while (list.children.length > LIVE_EVENTS_SHOWN) list.lastChild.remove();
}

function describeEvent(type, d) {
  if (type === 'state') return d.state + (d.reason ? ` (${d.reason})` : '');
  if (type === 'epoch')
    return `epoch ${d.epoch}: validation AUC ${fixed(d.validationAuc)}, loss ${fixed(d.validationLoss)}`;
  if (type === 'progress') {
    if (d.elementsTotal) return `PSI ${d.elementsDone}/${d.elementsTotal}`;
    if (d.batches) return `epoch ${d.epoch}/${d.epochs} batch ${d.batch}/${d.batches}`;
    return d.phase || '';
  }
  return JSON.stringify(d);
}

function renderJob(job) {
  view.job = job;
  $('no-job').hidden = true;
  $('job').hidden = false;
  $('job-id').textContent = job.id;
  $('parties').tBodies[0].replaceChildren(
    ...job.parties.map((p) => row([p.partyId, p.role, p.data.path, p.data.labelColumn || '—'])),
  );
  const hp = job.hyperparameters;
  $('job-meta').textContent =
    `${job.model}; created ${time(job.createdAt)}` +
    (job.model === 'split-lr'
      ? `; ${hp.epochs} epochs, batch ${hp.batchSize}, learning rate ${hp.learningRate}, ${hp.optimizer}`
      : '') +
    (job.alignment.idRules.length ? `; ID rules ${job.alignment.idRules.join(', ')}` : '');
  // A cardinality-only job has no epochs; a SecureBoost job reports one point per tree.
  $('epochs-card').hidden = job.model !== 'split-lr' && job.model !== 'secureboost';
  renderState(job);
  renderEpochChart(job);
  renderOutcome(job);
}

function renderState(job) {
  const badge = $('job-state');
  badge.textContent = job.state;
  badge.className = `state ${job.state}`;
  $('job-error').hidden = !job.error;
  $('job-error').textContent = job.error ? `${job.error}${job.failedParty ? ` (party ${job.failedParty})` : ''}` : '';
  renderProgress(job);
}

function renderProgress(job) {
  const p = job.progress || {};
  const items = [['state', job.state]];
  if (p.phase && !TERMINAL.includes(job.state)) items.push(['phase', p.phase]);
  if (p.elementsTotal) items.push(['PSI elements', `${count(p.elementsDone)} of ${count(p.elementsTotal)} blinded`]);
  if (p.epochs) items.push(['epoch', `${p.epoch} of ${p.epochs}`]);
  if (p.batches) items.push(['batch', `${p.batch} of ${p.batches}`]);
  if (p.rowsProcessed !== undefined) items.push(['rows processed', count(p.rowsProcessed)]);
  if (p.etaSeconds !== undefined && p.etaSeconds !== null && !TERMINAL.includes(job.state))
    items.push(['ETA', `${p.etaSeconds} s`]);
  $('progress').replaceChildren(
    ...items.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = v;
      dd.dataset.field = k;
      return [dt, dd];
    }),
  );
  const bar = $('progress-bar');
  if (job.state === 'succeeded') bar.value = 1;
  else if (p.phase === 'aligning' && p.elementsTotal) bar.value = p.elementsDone / p.elementsTotal;
  else if (p.phase === 'training' && p.epochs)
    bar.value = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
  else if (p.phase === 'evaluating') bar.value = 1;
}

function renderOutcome(job) {
  const result = job.result;
  const model = result && result.train ? result : null;
  for (const el of document.querySelectorAll('.model-only')) el.hidden = !model;
  // Cleared for every job, so a job without importance never shows another job's.
  renderImportance(model && model.importance);
  $('summary-card').hidden = !result;
  if (!result) return;
  const rows = [['customers in common (PSI)', count(result.intersection), '']];
  let notes = `finished in ${result.seconds.toFixed(1)} s`;
  if (model) {
    rows.length = 0;
    rows.push(
      ['rows', count(model.trainRows), count(model.validationRows)],
      ['AUC', fixed(model.train.auc), fixed(model.validation.auc)],
      ['KS', fixed(model.train.ks), fixed(model.validation.ks)],
      ['log loss', fixed(model.train.logLoss), fixed(model.validation.logLoss)],
      ['label party alone, AUC', fixed(model.labelOnly.train.auc), fixed(model.labelOnly.validation.auc)],
      [
        'uplift from federation, AUC',
        signed(model.train.auc - model.labelOnly.train.auc),
        signed(model.validation.auc - model.labelOnly.validation.auc),
      ],
    );
    notes =
      `customers in common (PSI) ${count(model.intersection)}; score stability (PSI) ${fixed(model.validation.scoreStability)}; ` +
      (model.model === 'secureboost'
        ? `${model.trees} trees (${model.keptTrees} kept), ${(model.bytesPerTree / 1e6).toFixed(1)} MB per tree; ${model.he}; ${notes}`
        : `${(model.bytesPerEpoch / 1e6).toFixed(1)} MB per epoch; ${model.backend}; ${notes}`);
    renderRocChart(model);
    renderKsChart(model.validation);
    renderLift(model.validation.gainLift);
    renderConfusion(model.validation.confusion);
  }
  $('summary').tBodies[0].replaceChildren(...rows.map((cells) => row(cells, [1, 2])));
  $('summary-notes').textContent = notes;
}

function renderLift(table) {
  $('lift').tBodies[0].replaceChildren(
    ...table.map((r) =>
      row(
        [
          r.bin,
          count(r.count),
          count(r.positives),
          `${fixed(r.minScore, 3)}–${fixed(r.maxScore, 3)}`,
          percent(r.cumulativeShare),
          percent(r.gain),
          fixed(r.lift, 2),
        ],
        [1, 2, 4, 5, 6],
      ),
    ),
  );
}

/** SecureBoost: gain per feature, with a bar for its share of the total (the bar's width is the number shown beside it). */
function renderImportance(features) {
  const card = $('importance-card');
  card.hidden = !features;
  if (!features) return;
  const total = features.reduce((s, f) => s + f.gain, 0) || 1;
  $('importance').tBodies[0].replaceChildren(
    ...features.slice(0, 20).map((f) => {
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${((100 * f.gain) / total).toFixed(1)}%`;
      bar.setAttribute('aria-hidden', 'true');
      const share = document.createElement('span');
      share.append(bar, ` ${percent(f.gain / total)}`);
      return row([f.partyId, f.column ?? `column #${f.index + 1}`, fixed(f.gain, 2), count(f.splits), share], [2, 3]);
    }),
  );
}

function renderConfusion(c) {
  $('confusion-threshold').textContent = String(c.threshold);
  for (const k of ['tp', 'fn', 'fp', 'tn']) $(`cm-${k}`).textContent = count(c[k]);
  $('confusion-rates').textContent =
    `precision ${fixed(c.precision)}, recall ${fixed(c.recall)}, accuracy ${fixed(c.accuracy)}, F1 ${fixed(c.f1)}`;
}

async function renderAudit() {
  const id = view.jobId;
  const { events, verification } = await api(`/jobs/${id}/audit?offset=${view.auditOffset}&limit=${AUDIT_PAGE}`);
  if (view.jobId !== id) return;
  const badge = $('audit-verification');
  badge.textContent = verification.valid
    ? `chain valid, ${count(verification.events)} events`
    : `chain broken at seq ${verification.firstBroken}`;
  badge.className = `state ${verification.valid ? 'valid' : 'broken'}`;
  const first = events.length ? view.auditOffset + 1 : 0;
  $('audit-range').textContent = `${first}–${view.auditOffset + events.length} of ${count(verification.events)}`;
  $('audit-prev').disabled = view.auditOffset === 0;
  $('audit-next').disabled = view.auditOffset + events.length >= verification.events;
  $('audit').tBodies[0].replaceChildren(
    ...events.map((e) =>
      row(
        [
          e.seq,
          time(e.occurredAt),
          e.step,
          e.sender,
          e.receiver || '—',
          e.byteSize ? count(e.byteSize) : '',
          e.messageDigest ? e.messageDigest.slice(0, 12) : '',
          JSON.stringify(e.detail),
        ],
        [0, 5],
      ),
    ),
  );
}

$('audit-prev').addEventListener('click', () => {
  view.auditOffset = Math.max(0, view.auditOffset - AUDIT_PAGE);
  renderAudit().catch(showFailure);
});
$('audit-next').addEventListener('click', () => {
  view.auditOffset += AUDIT_PAGE;
  renderAudit().catch(showFailure);
});

// ---- charts -----------------------------------------------------------------------------------

const COLORS = {
  train: '#94a3b8',
  validation: '#2563eb',
  loss: '#c2410c',
  bad: '#c2410c',
  good: '#15803d',
  chance: '#cbd5e1',
};

/** One chart per canvas, replaced on every render; no animation, so a render is final at once. */
function draw(canvasId, config) {
  if (view.charts[canvasId]) view.charts[canvasId].destroy();
  config.options = { animation: false, responsive: true, maintainAspectRatio: false, ...config.options };
  view.charts[canvasId] = new Chart($(canvasId), config);
}

function renderEpochChart(job) {
  const epochs = [...job.epochs].sort((a, b) => a.epoch - b.epoch);
  draw('chart-epochs', {
    type: 'line',
    data: {
      labels: epochs.map((e) => e.epoch),
      datasets: [
        {
          label: 'validation loss',
          data: epochs.map((e) => e.validationLoss),
          borderColor: COLORS.loss,
          backgroundColor: COLORS.loss,
          yAxisID: 'loss',
        },
        {
          label: 'validation AUC',
          data: epochs.map((e) => e.validationAuc),
          borderColor: COLORS.validation,
          backgroundColor: COLORS.validation,
          yAxisID: 'auc',
        },
      ],
    },
    options: {
      scales: {
        x: { title: { display: true, text: 'epoch' } },
        loss: { position: 'left', title: { display: true, text: 'log loss' } },
        auc: { position: 'right', title: { display: true, text: 'AUC' }, grid: { drawOnChartArea: false } },
      },
    },
  });
}

const xy = (points, x, y) => points.map((p) => ({ x: p[x], y: p[y] }));

function renderRocChart(model) {
  const line = (label, points, color) => ({
    label,
    data: points,
    borderColor: color,
    backgroundColor: color,
    showLine: true,
    pointRadius: 0,
    borderWidth: 2,
  });
  draw('chart-roc', {
    type: 'scatter',
    data: {
      datasets: [
        line(
          `validation (AUC ${fixed(model.validation.auc)})`,
          xy(model.validation.rocCurve, 'fpr', 'tpr'),
          COLORS.validation,
        ),
        line(`train (AUC ${fixed(model.train.auc)})`, xy(model.train.rocCurve, 'fpr', 'tpr'), COLORS.train),
        {
          ...line(
            'chance',
            [
              { x: 0, y: 0 },
              { x: 1, y: 1 },
            ],
            COLORS.chance,
          ),
          borderDash: [4, 4],
          borderWidth: 1,
        },
      ],
    },
    options: {
      scales: {
        x: { min: 0, max: 1, title: { display: true, text: 'false positive rate' } },
        y: { min: 0, max: 1, title: { display: true, text: 'true positive rate' } },
      },
    },
  });
}

function renderKsChart(validation) {
  const points = validation.ksCurve;
  const widest = points.reduce((best, p) => (p.bad - p.good > best.bad - best.good ? p : best), points[0]);
  const line = (label, data, color) => ({
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    showLine: true,
    pointRadius: 0,
    borderWidth: 2,
  });
  draw('chart-ks', {
    type: 'scatter',
    data: {
      datasets: [
        line('defaults (bad), cumulative share', xy(points, 'share', 'bad'), COLORS.bad),
        line('non-defaults (good), cumulative share', xy(points, 'share', 'good'), COLORS.good),
        {
          ...line(
            `KS ${fixed(validation.ks)}`,
            [
              { x: widest.share, y: widest.good },
              { x: widest.share, y: widest.bad },
            ],
            '#111827',
          ),
          borderDash: [3, 3],
          pointRadius: 3,
        },
      ],
    },
    options: {
      scales: {
        x: { min: 0, max: 1, title: { display: true, text: 'share of rows, highest scores first' } },
        y: { min: 0, max: 1, title: { display: true, text: 'cumulative share of class' } },
      },
    },
  });
}

// ---- formatting -------------------------------------------------------------------------------

function row(cells, numeric = []) {
  const tr = document.createElement('tr');
  cells.forEach((c, i) => {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c);
    else td.textContent = c === null || c === undefined ? '' : String(c);
    if (numeric.includes(i)) td.className = 'num';
    tr.append(td);
  });
  return tr;
}

function stateBadge(state) {
  const span = document.createElement('span');
  span.className = `state ${state}`;
  span.textContent = state;
  return span;
}

const fixed = (v, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const signed = (v) => (v >= 0 ? '+' : '') + fixed(v);
const percent = (v) => `${(100 * v).toFixed(1)}%`;
const count = (v) => (typeof v === 'number' ? v.toLocaleString('en') : '—');
const time = (iso) =>
  new Date(iso).toLocaleString('en-GB', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });

// ---- boot -------------------------------------------------------------------------------------

if (apiKey()) start().catch(showFailure);
else askForKey();
