/**
 * `api [--seconds N] [--concurrency N] [--queued N]`: GET /jobs/:id under load while a job trains,
 * then N queued jobs to completion, on the real services (processes) and the PostgreSQL server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { launchFederation } from '../federation-launcher';
import { parseBenchOptions, type BenchResult } from './options';
import { printTable, round } from './report';

export async function runApiBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    queued: { type: 'string', default: '20' },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const queued = Number(values.queued);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bench-api-'));
  const big = await writeSyntheticVfl(path.join(work, 'data'), { bankRows: 10_000, ecommerceRows: 10_000 });
  const small = await writeSyntheticVfl(path.join(work, 'small'), { seed: 9, bankRows: 1_000, ecommerceRows: 1_000 });
  fs.copyFileSync(small.bankPath, path.join(work, 'data', 'bank-small.csv'));
  fs.copyFileSync(small.ecommercePath, path.join(work, 'data', 'ecommerce-small.csv'));
  const federation = await launchFederation({
    workDir: work,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    coordinatorEnv: { VFL_MAX_CONCURRENT_JOBS: '2' },
    parties: [
      { partyId: 'bank', role: 'label', dataRoot: path.dirname(big.bankPath) },
      { partyId: 'ecommerce', role: 'feature', dataRoot: path.dirname(big.ecommercePath) },
    ],
  });
  const headers = { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' };
  const submit = async (bank: string, shop: string, epochs: number): Promise<string> => {
    const res = await fetch(`${federation.coordinatorUrl}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'split-lr',
        parties: [
          { partyId: 'bank', role: 'label', data: { path: bank, labelColumn: BANK_LABEL_COLUMN } },
          { partyId: 'ecommerce', role: 'feature', data: { path: shop } },
        ],
        hyperparameters: { epochs, batchSize: 256 },
      }),
    });
    if (!res.ok) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const state = async (id: string) =>
    ((await (await fetch(`${federation.coordinatorUrl}/jobs/${id}`, { headers })).json()) as { state: string }).state;
  try {
    const training = await submit('bank.csv', 'ecommerce.csv', 50);
    while ((await state(training)) !== 'training') await new Promise((r) => setTimeout(r, 100));
    const latencies: number[] = [];
    let errors = 0;
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < until) {
          const t = process.hrtime.bigint();
          const res = await fetch(`${federation.coordinatorUrl}/jobs/${training}`, { headers });
          await res.arrayBuffer();
          if (!res.ok) errors++;
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const rps = latencies.length / seconds;
    const p99 = latencies[Math.floor(latencies.length * 0.99)];
    const p50 = latencies[Math.floor(latencies.length * 0.5)];
    await fetch(`${federation.coordinatorUrl}/jobs/${training}/cancel`, { method: 'POST', headers });

    const t0 = Date.now();
    const ids = [];
    for (let i = 0; i < queued; i++) ids.push(await submit('bank-small.csv', 'ecommerce-small.csv', 1));
    let done: string[] = [];
    for (;;) {
      done = await Promise.all(ids.map(state));
      if (done.every((s) => ['succeeded', 'failed', 'cancelled'].includes(s))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const jobsCompleted = done.filter((s) => s === 'succeeded').length;
    const out = {
      rps: Math.round(rps),
      p50Ms: round(p50, 1),
      p99Ms: round(p99, 1),
      errors,
      jobsCompleted,
      queuedSeconds: round((Date.now() - t0) / 1000, 1),
    };
    printTable(
      `Coordinator API, GET /jobs/:id from ${concurrency} concurrent clients for ${seconds} s while a job trains (same 2-core machine)`,
      [
        ['requests per second', String(out.rps)],
        ['p50 / p99 latency ms', `${out.p50Ms} / ${out.p99Ms}`],
        ['errors', String(errors)],
        [`queued jobs completed (of ${queued}, 2 at a time)`, `${jobsCompleted} in ${out.queuedSeconds} s`],
      ],
    );
    return out;
  } finally {
    await federation.stop();
  }
}
