/*
 * The coordinator's JSON API, as this tab's API key allows. The key lives in sessionStorage and
 * goes in the Authorization header, never in a URL; that is also why the event stream is read
 * with fetch (EventSource cannot send headers) and downloads are fetched, then saved from a blob.
 */

const KEY_STORAGE = 'vfl.apiKey';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const apiKey = () => sessionStorage.getItem(KEY_STORAGE);
export const setApiKey = (key) => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetApiKey = () => sessionStorage.removeItem(KEY_STORAGE);

let unauthorized = () => undefined;
/** Called when the coordinator refuses the key (401): the page asks for another. */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

async function request(path, { method = 'GET', accept = 'application/json', signal } = {}) {
  const res = await fetch(path, { method, signal, headers: { authorization: `Bearer ${apiKey()}`, accept } });
  if (res.status === 401) {
    unauthorized('The coordinator refused this API key (unknown, malformed or revoked).');
    throw new ApiError(401, 'unauthorized');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new ApiError(res.status, `${res.status}: ${[].concat(body.message || res.statusText).join('; ')}`);
  }
  return res;
}

/** GET (or POST with no body) a JSON answer. */
export async function api(path, options) {
  return (await request(path, options)).json();
}

/** GET a JSON answer with its response headers (for X-Next-Cursor). */
export async function apiWithHeaders(path) {
  const res = await request(path);
  return { body: await res.json(), headers: res.headers };
}

/** Fetches `path` with the key and saves it as `filename` (an <a href> could not carry the key). */
export async function download(path, filename) {
  const blob = await (await request(path, { accept: '*/*' })).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob;
}

/**
 * Follows GET /jobs/:id/events until it ends or `signal` aborts, calling onEvent({type, data})
 * per server-sent event. The SSE wire format: fields "event:" and "data:" on lines, events
 * separated by a blank line.
 */
export async function followEvents(jobId, signal, onEvent) {
  const res = await request(`/jobs/${jobId}/events`, { accept: 'text/event-stream', signal });
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
