/**
 * kill -9 of each service in each phase of a job, with real processes (the compiled apps, started
 * by the demo's launcher; audit in scratch databases on the PostgreSQL server at 127.0.0.1:5432).
 * One federation serves every case: only the killed process is started again.
 *
 *  - a party killed: the job fails within 5 s naming it, the surviving party no longer holds the job;
 *  - the coordinator killed: once restarted, the job is failed naming the restart (not stuck in a
 *    running state) and no party holds it;
 *  - then the job resumes (or, with no checkpoint yet, is retried) to the model an uninterrupted
 *    run reaches, and a prediction interrupted by a kill gives the same scores when asked again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createScratchDatabase } from '@vfl/database';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import type { SplitLrJobResult } from '@vfl/protocol';
import { launchFederation, Federation } from '../../scripts/federation-launcher';
import { runJob } from '../../scripts/job-client';
import type { JobView } from '../../apps/coordinator/src/jobs/jobs.service';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TERMINAL: readonly string[] = ['succeeded', 'failed', 'cancelled'];
const PARTIES = ['bank', 'ecommerce'] as const;
type Who = 'coordinator' | (typeof PARTIES)[number];
type Phase = 'psi' | 'training' | 'export' | 'prediction';

const body = {
  model: 'split-lr',
  parties: [
    { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
    { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
  ],
  hyperparameters: { epochs: 4, batchSize: 128, validationFraction: 0.2 },
};

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('kill -9 of each service in each phase (real processes)', () => {
  let work: string;
  let federation: Federation;
  let reference: JobView;
  let referenceScores: { id: string; score: number }[];
  let ids: string[];
  const dbs: { drop(): Promise<void> }[] = [];

  const auth = () => ({ authorization: `Bearer ${federation.adminKey}` });
  const get = async <T>(p: string): Promise<T> =>
    (await (await fetch(`${federation.coordinatorUrl}${p}`, { headers: auth() })).json()) as T;
  const post = (p: string, b: unknown) =>
    fetch(`${federation.coordinatorUrl}${p}`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify(b),
    });
  const view = (id: string) => get<JobView>(`/jobs/${id}`);
  const ended = (id: string, ms = 60_000) =>
    until(`job ${id} ends`, async () => ((v) => (TERMINAL.includes(v.state) ? v : undefined))(await view(id)), ms, 100);
  const auc = (v: JobView) => (v.result as SplitLrJobResult).train.auc;
  /** Jobs the party holds, as the coordinator's /health reports it (cached up to 2 s). */
  const openJobs = async (partyId: string) =>
    (await get<{ parties: Record<string, { jobs?: number }> }>('/health')).parties[partyId]?.jobs;
  const predict = () => post(`/jobs/${reference.id}/predict`, { ids });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-kill-'));
    const data = await writeSyntheticVfl(path.join(work, 'gen'), {
      seed: 23,
      bankRows: 1200,
      ecommerceRows: 1200,
      overlap: 0.8,
    });
    const dir = (id: string, file: string) => {
      fs.mkdirSync(path.join(work, id));
      fs.copyFileSync(file, path.join(work, id, `${id}.csv`));
      return path.join(work, id);
    };
    const urls: Record<string, string> = {};
    for (const id of ['coordinator', ...PARTIES]) {
      const db = await createScratchDatabase(DATABASE_URL, `vfl_kill_${id}_${process.pid}`);
      dbs.push(db);
      urls[id] = db.url;
    }
    federation = await launchFederation({
      workDir: work,
      databaseUrl: urls.coordinator,
      parties: [
        { partyId: 'bank', role: 'label', dataRoot: dir('bank', data.bankPath), databaseUrl: urls.bank },
        {
          partyId: 'ecommerce',
          role: 'feature',
          dataRoot: dir('ecommerce', data.ecommercePath),
          databaseUrl: urls.ecommerce,
        },
      ],
    });
    reference = (await runJob(federation.coordinatorUrl, federation.adminKey, body, () => undefined)).job;
    expect(reference.state).toBe('succeeded');
    ids = fs
      .readFileSync(path.join(work, 'bank', 'bank.csv'), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]);
    const res = await predict();
    expect(res.status).toBe(200);
    referenceScores = ((await res.json()) as { scores: { id: string; score: number }[] }).scores;
  }, 150_000);

  afterAll(async () => {
    await federation?.stop();
    for (const db of dbs) await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** Waits until the job is in the phase, so the kill lands there. */
  const reach: Record<Exclude<Phase, 'prediction'>, (id: string) => Promise<unknown>> = {
    psi: (id) =>
      until(
        'PSI started',
        async () =>
          (await get<unknown[]>(`/audit/events?jobId=${id}&step=job.prepare&limit=1`)).length > 0 ? true : undefined,
        30_000,
      ),
    training: (id) =>
      until('2 epochs checkpointed', async () => ((await view(id)).checkpointEpoch ?? 0) >= 2 || undefined, 60_000),
    // Evaluation, the label-only baseline and the export: watched closely once the last epoch is under way.
    export: async (id) => {
      const last = body.hyperparameters.epochs - 1;
      await until('the last epoch', async () => ((await view(id)).checkpointEpoch ?? 0) >= last || undefined, 60_000);
      await until(
        'evaluation and export',
        async () => ((await view(id)).state === 'evaluating' ? true : undefined),
        60_000,
        10,
      );
    },
  };

  const cases: [Who, Phase][] = (['bank', 'ecommerce', 'coordinator'] as Who[]).flatMap((who) =>
    (['psi', 'training', 'export', 'prediction'] as Phase[]).map((phase): [Who, Phase] => [who, phase]),
  );

  it.each(cases)(
    'kill -9 of %s during %s',
    async (who, phase) => {
      const survivors = PARTIES.filter((p) => p !== who);
      // Each case starts from a whole federation, even after an earlier case failed half way.
      for (const name of ['coordinator', ...PARTIES]) if (!federation.pid(name)) await federation.restart(name);
      if (phase === 'prediction') {
        // The bank is held (SIGSTOP) so that the prediction is surely under way when the kill lands.
        const held = who === 'coordinator' ? 'bank' : who;
        process.kill(federation.pid(held)!, 'SIGSTOP');
        const requests = async () =>
          (await get<unknown[]>(`/audit/events?jobId=${reference.id}&step=predict.request&limit=1000`)).length;
        const before = await requests();
        const pending = predict().catch((e: Error) => e);
        await until(
          'the prediction is requested',
          async () => ((await requests()) > before ? true : undefined),
          10_000,
        );
        await new Promise((r) => setTimeout(r, 200));
        await federation.kill(who);
        if (who === 'coordinator') process.kill(federation.pid('bank')!, 'SIGCONT');
        const answer = await pending;
        if (who === 'coordinator') {
          // The connection dropped: fetch fails (a TypeError of another realm than the test's).
          expect(answer).not.toBeInstanceOf(Response);
          expect(String((answer as Error).message)).toMatch(/fetch failed/);
        } else {
          const res = answer as Response;
          expect(res.status).toBe(422);
          expect(((await res.json()) as { message: string }).message).toContain(who);
        }
        await federation.restart(who);
      } else {
        const started = (await (await post('/jobs', body)).json()) as JobView;
        await reach[phase](started.id);
        const killedAt = Date.now();
        await federation.kill(who);
        let failed: JobView;
        if (who === 'coordinator') {
          await federation.restart(who);
          failed = await view(started.id);
          expect(failed.state).toBe('failed');
          expect(failed.error).toMatch(/the coordinator restarted while the job was (aligning|training|evaluating)/);
          expect(failed.failedParty).toBe('coordinator');
        } else {
          failed = await ended(started.id, 10_000);
          expect(Date.now() - killedAt).toBeLessThan(5_000);
          expect(failed.state).toBe('failed');
          expect(failed.failedParty).toBe(who);
          expect(failed.error).toContain(who);
        }
        // No party still holds the dead job.
        for (const p of survivors)
          await until(`${p} releases the job`, async () => ((await openJobs(p)) === 0 ? true : undefined), 5_000, 250);
        if (who !== 'coordinator') await federation.restart(who);
        const again = failed.checkpointEpoch
          ? await post(`/jobs/${started.id}/resume`, {})
          : await post(`/jobs/${started.id}/retry`, {});
        expect(again.status).toBe(201);
        const resumed = await ended(((await again.json()) as JobView).id, 90_000);
        // On failure, the job's own words say why.
        expect({ state: resumed.state, error: resumed.error }).toEqual({ state: 'succeeded', error: null });
        expect(Math.abs(auc(resumed) - auc(reference))).toBeLessThan(1e-4);
      }
      for (const p of PARTIES)
        await until(`${p} holds no job`, async () => ((await openJobs(p)) === 0 ? true : undefined), 5_000, 250);
      if (phase === 'prediction') {
        const res = await predict();
        expect(res.status).toBe(200);
        expect(((await res.json()) as { scores: unknown }).scores).toEqual(referenceScores);
      }
    },
    150_000,
  );
});
