/*
 * VFL dashboard: the page's entry module. It asks for the API key, learns the key's role, and
 * routes by the URL's fragment (which never holds the key):
 *
 *   #                     the job list (job-list.js)
 *   #job/<id>             one job: its header (job-view.js) and the registered panels
 *   #compare/<id>,<id>    two runs side by side (compare.js)
 *
 * Panels register themselves when imported below; the import order does not matter, each has an
 * `order`. A model that adds panels adds one line here.
 */
import { api, apiKey, ApiError, forgetApiKey, onUnauthorized, setApiKey } from './api.js';
import { destroyCharts } from './charts.js';
import { $ } from './dom.js';
import { showCompare } from './compare.js';
import { showJobList, stopJobList } from './job-list.js';
import { closeJob, openJob } from './job-view.js';
import './panels/failure.js';
import './panels/progress.js';
import './panels/outcome.js';
import './panels/uplift.js';
import './panels/lift.js';
import './panels/confusion.js';
import './panels/training.js';
import './panels/ks.js';
import './panels/importance.js';
import './panels/parties.js';
import './panels/by-party.js';
import './panels/audit.js';

/** Who is signed in: { name, role } of the API key (GET /api-keys/me). */
const session = { name: '', role: '' };

function leaveCompare() {
  destroyCharts($('compare-view'));
  $('compare-view').replaceChildren();
}

function askForKey(message) {
  leaveCompare();
  closeJob();
  stopJobList();
  $('main').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('key-panel').hidden = false;
  $('key-error').hidden = !message;
  $('key-error').textContent = message || '';
  $('api-key').focus();
}
// A refused key is forgotten at once: a reload must not send it again.
onUnauthorized((message) => {
  forgetApiKey();
  askForKey(message);
});

export function showError(e) {
  if (e instanceof ApiError && e.status === 401) return;
  $('app-error').hidden = false;
  $('app-error').textContent = String(e && e.message ? e.message : e);
}

async function start() {
  const me = await api('/api-keys/me');
  Object.assign(session, { name: me.name, role: me.role });
  $('key-panel').hidden = true;
  $('main').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = `${me.name} (${me.role})`;
  route();
}

/** Shows the view the fragment names; views not shown are emptied, so none keeps stale data. */
function route() {
  if (!apiKey() || $('main').hidden) return;
  $('app-error').hidden = true;
  const hash = decodeURIComponent(location.hash.slice(1));
  const ctx = { session, showError };
  const job = /^(?:job\/)?([0-9a-f-]{36})$/i.exec(hash);
  const compare = /^compare\/([0-9a-f-]{36}),([0-9a-f-]{36})$/i.exec(hash);
  for (const id of ['list-view', 'job-view', 'compare-view']) $(id).hidden = true;
  if (job) {
    stopJobList();
    leaveCompare();
    openJob(job[1], ctx).catch(showError);
  } else if (compare) {
    stopJobList();
    closeJob();
    leaveCompare();
    showCompare(compare[1], compare[2]).catch(showError);
  } else {
    closeJob();
    leaveCompare();
    showJobList(ctx).catch(showError);
  }
}

window.addEventListener('hashchange', route);
$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setApiKey($('api-key').value.trim());
  $('api-key').value = '';
  start().catch(showError);
});
$('sign-out').addEventListener('click', () => {
  forgetApiKey();
  askForKey();
});

if (apiKey()) start().catch(showError);
else askForKey();
