/**
 * The job lifecycle as an engineer drives it from another system: the `vfl` CLI (compiled) and the
 * REST API against booted services; one job at a time (VFL_MAX_CONCURRENT_JOBS=1) so the queue shows.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { launchFederation, Federation } from '../../scripts/federation-launcher';

const CLI = path.resolve(__dirname, '../../dist/scripts/vfl.js');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('job lifecycle through the vfl CLI and the API', () => {
  let federation: Federation;
  let work: string;
  let jobFile: string;
  const env = () => ({ ...process.env, VFL_API_URL: federation.coordinatorUrl, VFL_API_KEY: federation.adminKey });
  const vfl = (...args: string[]) => {
    const run = spawnSync(process.execPath, [CLI, ...args], { env: env(), encoding: 'utf8' });
    return {
      status: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      json: () => JSON.parse(run.stdout.trim().split('\n').pop()!),
    };
  };
  const get = async <T>(p: string): Promise<T> =>
    (await (
      await fetch(`${federation.coordinatorUrl}${p}`, { headers: { authorization: `Bearer ${federation.adminKey}` } })
    ).json()) as T;
  const waitFor = async (id: string, states: string[], timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await get<{ state: string }>(`/jobs/${id}`);
      if (states.includes(job.state)) return job.state;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const body = (epochs: number) => ({
    model: 'split-lr',
    parties: [
      { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
    ],
    hyperparameters: { epochs, batchSize: 256 },
  });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-lifecycle-'));
    const data = await writeSyntheticVfl(path.join(work, 'data'), { seed: 3, bankRows: 1500, ecommerceRows: 1500 });
    jobFile = path.join(work, 'long-job.json');
    fs.writeFileSync(jobFile, JSON.stringify(body(200)));
    federation = await launchFederation({
      workDir: work,
      databaseUrl: DATABASE_URL,
      coordinatorEnv: { VFL_MAX_CONCURRENT_JOBS: '1', VFL_LOG_FORMAT: 'json' },
      partyEnv: { VFL_LOG_FORMAT: 'json' },
      parties: [
        { partyId: 'bank', role: 'label', dataRoot: path.dirname(data.bankPath) },
        { partyId: 'ecommerce', role: 'feature', dataRoot: path.dirname(data.ecommercePath) },
      ],
    });
  }, 120_000);
  afterAll(() => federation?.stop());

  it('queues, cancels a running and a queued job, refuses to cancel twice, and retries', async () => {
    const first = vfl('job', 'submit', jobFile, '--json');
    expect(first.status).toBe(0);
    const long = first.json().id as string;
    const second = vfl('job', 'submit', jobFile, '--json').json().id as string;
    await waitFor(long, ['training']);
    expect((await get<{ state: string }>(`/jobs/${second}`)).state).toBe('queued');
    const listed = vfl('job', 'list', '--json').json() as { id: string; state: string }[];
    expect(listed.find((j) => j.id === second)?.state).toBe('queued');

    expect(vfl('job', 'cancel', second).status).toBe(0);
    expect((await get<{ state: string }>(`/jobs/${second}`)).state).toBe('cancelled');
    expect(vfl('job', 'cancel', long).status).toBe(0);
    expect(await waitFor(long, ['cancelled', 'failed', 'succeeded'])).toBe('cancelled');

    const again = vfl('job', 'cancel', long);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`409: job ${long} already cancelled`);
    const trail = await get<{
      events: { step: string; detail: { state?: string } }[];
      verification: { valid: boolean };
    }>(`/jobs/${long}/audit`);
    expect(trail.verification.valid).toBe(true);
    expect(trail.events.map((e) => e.step)).toContain('job.cancel_requested');
    expect(trail.events.at(-1)!.detail.state).toBe('cancelled');

    const retried = vfl('job', 'retry', second, '--json');
    expect(retried.status).toBe(0);
    const retry = retried.json().id as string;
    expect(retry).not.toBe(second);
    expect(vfl('job', 'cancel', retry).status).toBe(0);
    expect(await waitFor(retry, ['cancelled', 'failed', 'succeeded'])).toBe('cancelled');
  }, 120_000);

  it('takes turns across the API keys that queued jobs, and a retried job keeps its model', async () => {
    const post = async <T>(p: string, key: string, payload?: unknown): Promise<T> => {
      const res = await fetch(`${federation.coordinatorUrl}${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: payload === undefined ? undefined : JSON.stringify(payload),
      });
      expect(res.status).toBeLessThan(300);
      return (await res.json()) as T;
    };
    const admin = federation.adminKey;
    const operator = (await post<{ key: string }>('/api-keys', admin, { name: 'second-system', role: 'operator' })).key;
    const submit = async (key: string, payload: unknown = body(200)) =>
      (await post<{ id: string }>('/jobs', key, payload)).id;
    const state = async (id: string) => (await get<{ state: string }>(`/jobs/${id}`)).state;

    // One job at a time: a1 runs; a2 and a3 (the same key) queued before b1 (another key).
    const a1 = await submit(admin);
    await waitFor(a1, ['aligning', 'training']);
    const a2 = await submit(admin);
    const a3 = await submit(admin);
    const b1 = await submit(operator);
    await post('/jobs/' + a1 + '/cancel', admin);
    await waitFor(a2, ['aligning', 'training']); // a2 was first in line
    await post('/jobs/' + a2 + '/cancel', admin);
    await waitFor(b1, ['aligning', 'training'], 20_000); // the other key's turn, although a3 was queued earlier
    expect(await state(a3)).toBe('queued');
    for (const id of [b1, a3]) await post(`/jobs/${id}/cancel`, admin);
    for (const id of [a1, a2, b1, a3])
      expect(await waitFor(id, ['cancelled', 'failed', 'succeeded'])).toBe('cancelled');

    // A cancelled cardinality-only job is retried as one, not as a training job.
    const blocker = await submit(admin);
    const cardinality = await submit(admin, { ...body(1), model: 'psi-cardinality' });
    await post(`/jobs/${cardinality}/cancel`, admin);
    const retried = await post<{ id: string; model: string }>(`/jobs/${cardinality}/retry`, operator);
    expect(retried.model).toBe('psi-cardinality');
    await post(`/jobs/${blocker}/cancel`, admin);
    expect(await waitFor(retried.id, ['succeeded', 'failed'])).toBe('succeeded');
    const outcome = await get<{ model: string; result: { model: string; intersection: number; train?: unknown } }>(
      `/jobs/${retried.id}`,
    );
    expect(outcome.model).toBe('psi-cardinality');
    expect(outcome.result.model).toBe('psi-cardinality');
    expect(outcome.result.intersection).toBeGreaterThan(0);
    expect(outcome.result.train).toBeUndefined();
    const created = (
      await get<{ events: { step: string; detail: { model?: string; retryOf?: string } }[] }>(
        `/jobs/${retried.id}/audit`,
      )
    ).events[0];
    expect(created).toMatchObject({ step: 'job.created', detail: { model: 'psi-cardinality', retryOf: cardinality } });
  }, 120_000);

  it('streams state, progress and epoch events to `vfl job watch` until the job ends', async () => {
    const created = (await (
      await fetch(`${federation.coordinatorUrl}/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body(2)),
      })
    ).json()) as { id: string };
    const watch = spawn(process.execPath, [CLI, 'job', 'watch', created.id, '--json'], { env: env() });
    let out = '';
    watch.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => watch.on('exit', r));
    expect(code).toBe(0);
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: { state?: string } });
    const states = events.filter((e) => e.type === 'state').map((e) => e.data.state);
    expect(states.at(-1)).toBe('succeeded');
    expect(states).toEqual(expect.arrayContaining(['training', 'evaluating', 'succeeded']));
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2);
    expect(events.some((e) => e.type === 'progress')).toBe(true);

    const status = vfl('job', 'status', created.id);
    expect(status.stdout).toMatch(/succeeded[\s\S]*AUC 0\.\d{4}/);
    expect(vfl('job', 'metrics', created.id, '--json').json().epochs).toHaveLength(2);
  }, 120_000);

  it('counts shared IDs with `vfl psi count FILE` (the training job file, run as a feasibility check)', () => {
    const counted = vfl('psi', 'count', jobFile, '--json');
    expect(counted.stderr).toBe('');
    expect(counted.status).toBe(0);
    const out = counted.json();
    expect(out).toMatchObject({ state: 'succeeded', error: null });
    expect(out.intersection).toBeGreaterThan(500);
    expect(out.intersection).toBeLessThan(1500);
    expect(vfl('psi', 'count').status).toBe(2);
  }, 120_000);

  it('writes structured JSON logs with the job id on every job line, on every service', async () => {
    const jobs = (await get<{ id: string; state: string }[]>('/jobs')).filter((j) => j.state === 'succeeded');
    expect(jobs.length).toBeGreaterThan(0);
    const jobId = jobs[0].id;
    for (const service of ['coordinator', 'bank', 'ecommerce']) {
      const lines = fs
        .readFileSync(path.join(federation.logDir, `${service}.log`), 'utf8')
        .trim()
        .split('\n');
      const records = lines.map((l) => JSON.parse(l) as { level: string; message: unknown });
      const aboutJob = records.filter((r) => JSON.stringify(r.message).includes(jobId));
      expect(aboutJob.length).toBeGreaterThan(0);
      for (const r of aboutJob) expect(r.message).toMatchObject({ jobId });
    }
  });

  it('answers usage errors and API errors with clear messages and non-zero status', () => {
    expect(vfl('job', 'status', 'nope').status).toBe(2);
    const missing = vfl('job', 'status', '00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('404');
    const badFile = path.join(work, 'bad.json');
    fs.writeFileSync(badFile, '{"model": "split-lr", "parties": []');
    expect(vfl('job', 'submit', badFile).stderr).toContain('is not a readable JSON job file');
    fs.writeFileSync(badFile, JSON.stringify({ ...body(1), hyperparameters: { epochs: 0 } }));
    const refused = vfl('job', 'submit', badFile);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('hyperparameters.epochs');
    const noKey = spawnSync(process.execPath, [CLI, 'job', 'list'], {
      env: { ...process.env, VFL_API_KEY: '' },
      encoding: 'utf8',
    });
    expect(noKey.stderr).toContain('set VFL_API_KEY');
  });
});
