/**
 * `api [--history N] [--seconds N] [--concurrency N] [--queued N]`: the coordinator's read API
 * under load, on the real services (processes) and the PostgreSQL server (DATABASE_URL, in a
 * scratch database dropped afterwards). N jobs (default 10,000) are inserted straight into the
 * history; while a split-LR job trains on breast (../shared/data), `--concurrency` clients call
 * GET /jobs (the first page), then GET /jobs/:id, then GET /health, `--seconds` each, on
 * keep-alive connections (undici, Node's fetch), each after 2 s of warm-up. Then `--queued` one-epoch jobs are submitted at
 * once and run to completion, 2 at a time.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { createScratchDatabase } from '@vfl/database';
import { launchFederation } from '../federation-launcher';
import { parseBenchOptions, resolveBenchData, type BenchResult } from './options';
import { printTable, round } from './report';

interface Load {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The coordinator process's CPU time per request: what the machine's load does not skew. */
  coordinatorCpuMsPerRequest: number | null;
}

/** A process's CPU time (user + system) in ms, from /proc (Linux); null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), here 12 and 13 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** `concurrency` clients calling `url` back to back for `seconds`, after 2 s of warm-up (JIT, connections) not counted. */
async function load(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  concurrency: number,
  coordinatorPid?: number,
): Promise<Load> {
  const warm = Date.now() + 2000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < warm) await (await fetch(url, { headers })).arrayBuffer();
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = cpuMs(coordinatorPid);
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t = process.hrtime.bigint();
        const res = await fetch(url, { headers });
        await res.arrayBuffer();
        if (!res.ok) errors++;
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const cpuAfter = cpuMs(coordinatorPid);
  latencies.sort((a, b) => a - b);
  return {
    coordinatorCpuMsPerRequest:
      cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / latencies.length, 3),
    rps: Math.round(latencies.length / seconds),
    p50Ms: round(latencies[Math.floor(latencies.length * 0.5)], 1),
    p99Ms: round(latencies[Math.floor(latencies.length * 0.99)], 1),
    errors,
  };
}

/** `n` finished jobs, a minute apart, each with a spec and a result of a real job's size. */
async function insertHistory(url: string, n: number): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO jobs (id, state, spec, progress, result, created_at, updated_at)
       SELECT gen_random_uuid(), (ARRAY['succeeded', 'failed', 'cancelled'])[1 + i % 3],
              jsonb_build_object('model', 'split-lr', 'parties', jsonb_build_array(
                jsonb_build_object('partyId', 'bank', 'role', 'label', 'data', jsonb_build_object('path', 'bank.csv')),
                jsonb_build_object('partyId', 'ecommerce', 'role', 'feature', 'data', jsonb_build_object('path', 'ecommerce.csv'))),
                'hyperparameters', jsonb_build_object('epochs', 10, 'batchSize', 1024)),
              '{}',
              jsonb_build_object('auc', 0.8, 'roc', (SELECT jsonb_agg(jsonb_build_array(k / 100.0, k / 100.0)) FROM generate_series(0, 100) k),
                                 'ks', (SELECT jsonb_agg(k) FROM generate_series(0, 100) k)),
              now() - interval '1 day' - i * interval '1 minute', now() - interval '1 day' - i * interval '1 minute'
         FROM generate_series(1, $1::int) i`,
      [n],
    );
    await client.query('ANALYZE jobs');
  } finally {
    await client.end();
  }
}

export async function runApiBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    history: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    queued: { type: 'string', default: '20' },
  });
  const history = Number(values.history);
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const queued = Number(values.queued);
  const breast = resolveBenchData('breast');
  if (breast.kind !== 'shared') throw new Error('unreachable');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-api-'));
  const data = path.join(work, 'data');
  await writeSyntheticVfl(data, { seed: 9, bankRows: 1_000, ecommerceRows: 1_000 });
  for (const f of [breast.guest, breast.host]) fs.copyFileSync(path.join(breast.dataRoot, f), path.join(data, f));
  const db = await createScratchDatabase(
    process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    `vfl_bench_api_${process.pid}`,
  );
  const federation = await launchFederation({
    workDir: work,
    databaseUrl: db.url,
    coordinatorEnv: { VFL_MAX_CONCURRENT_JOBS: '2' },
    parties: [
      { partyId: 'bank', role: 'label', dataRoot: data },
      { partyId: 'ecommerce', role: 'feature', dataRoot: data },
    ],
  });
  const api = federation.coordinatorUrl;
  const headers = { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' };
  const submit = async (bank: string, label: string, shop: string, hyperparameters: object): Promise<string> => {
    const res = await fetch(`${api}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'split-lr',
        parties: [
          { partyId: 'bank', role: 'label', data: { path: bank, labelColumn: label } },
          { partyId: 'ecommerce', role: 'feature', data: { path: shop } },
        ],
        hyperparameters,
      }),
    });
    if (!res.ok) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const state = async (id: string) =>
    ((await (await fetch(`${api}/jobs/${id}`, { headers })).json()) as { state: string }).state;
  try {
    await insertHistory(db.url, history);
    // Enough epochs to train through every measurement.
    const training = await submit(breast.guest, 'y', breast.host, { epochs: 1000, batchSize: 64 });
    for (let s = await state(training); s !== 'training'; s = await state(training)) {
      if (['succeeded', 'failed', 'cancelled'].includes(s))
        throw new Error(
          `the training job ${s}: ${JSON.stringify(await (await fetch(`${api}/jobs/${training}`, { headers })).json())}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const pid = federation.pid('coordinator');
    const list = await load(`${api}/jobs`, headers, seconds, concurrency, pid);
    const one = await load(`${api}/jobs/${training}`, headers, seconds, concurrency, pid);
    const health = await load(`${api}/health`, {}, seconds, concurrency, pid);
    const stillTraining = (await state(training)) === 'training';
    await fetch(`${api}/jobs/${training}/cancel`, { method: 'POST', headers });

    const t0 = Date.now();
    const ids = [];
    for (let i = 0; i < queued; i++)
      ids.push(await submit('bank.csv', BANK_LABEL_COLUMN, 'ecommerce.csv', { epochs: 1, batchSize: 256 }));
    let done: string[] = [];
    while (ids.length) {
      done = await Promise.all(ids.map(state));
      if (done.every((s) => ['succeeded', 'failed', 'cancelled'].includes(s))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const out = {
      history,
      concurrency,
      seconds,
      trainingThroughout: stillTraining,
      jobsList: list,
      jobById: one,
      health,
      jobsCompleted: done.filter((s) => s === 'succeeded').length,
      queuedSeconds: round((Date.now() - t0) / 1000, 1),
    };
    const row = (l: Load): string =>
      `${l.rps} req/s, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, ${l.errors} errors, coordinator CPU ${l.coordinatorCpuMsPerRequest ?? '?'} ms/req`;
    printTable(
      `Coordinator API, ${concurrency} concurrent clients, ${seconds} s per endpoint, ${history} jobs in history, while a split-LR job trains on breast (same 2-core machine)`,
      [
        ['GET /jobs (first page, 100 jobs)', row(list)],
        ['GET /jobs/:id (the training job)', row(one)],
        ['GET /health (probes both parties, cached 2 s)', row(health)],
        ['the job trained throughout', String(stillTraining)],
        [`queued jobs completed (of ${queued}, 2 at a time)`, `${out.jobsCompleted} in ${out.queuedSeconds} s`],
      ],
    );
    return out;
  } finally {
    await federation.stop();
    await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
