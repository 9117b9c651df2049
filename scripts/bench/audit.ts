/**
 * `audit [--events N] [--jobs N] [--producers N]`: audit appends from concurrent producers and
 * verification of every hash chain, against the PostgreSQL server (DATABASE_URL).
 */
import { randomUUID } from 'node:crypto';
import { AuditStore, verifyTrail } from '@vfl/audit';
import { createScratchDatabase, openDatabase } from '@vfl/database';
import { parseBenchOptions, type BenchResult } from './options';
import { peakRssMb, printTable, round } from './report';

export async function runAuditBench(argv: string[]): Promise<BenchResult> {
  const values = parseBenchOptions(argv, {
    events: { type: 'string', default: '1000000' },
    jobs: { type: 'string', default: '20' },
    producers: { type: 'string', default: '200' },
  });
  const events = Number(values.events);
  const jobs = Number(values.jobs);
  const producers = Number(values.producers);
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  // The audit table refuses DELETE and TRUNCATE, so the bench writes into a database of its own
  // and drops it afterwards.
  const scratch = await createScratchDatabase(server, `vfl_bench_audit_${process.pid}`);
  const ds = await openDatabase(scratch.url);
  try {
    const store = new AuditStore(ds);
    const jobIds = Array.from({ length: jobs }, () => randomUUID());
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (;;) {
          const i = next++;
          if (i >= events) return;
          await store.record(jobIds[(p + i) % jobs], {
            step: 'lr.forward',
            sender: 'ecommerce',
            receiver: 'bank',
            messageDigest: 'ab'.repeat(32),
            byteSize: 400_000,
            detail: { epoch: 0, batch: i },
          });
        }
      }),
    );
    const insertSeconds = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    const verification = await verifyTrail(ds, { jobIds });
    const verifySeconds = (Date.now() - t1) / 1000;
    if (!verification.valid || verification.events !== events)
      throw new Error(`verification failed: ${JSON.stringify(verification)}`);
    const out = {
      events,
      jobs,
      insertPerSecond: Math.round(events / insertSeconds),
      verifySeconds: round(verifySeconds, 2),
      peakRssMb: peakRssMb(),
    };
    printTable(
      `Audit trail, ${events} events over ${jobs} jobs, ${producers} concurrent producers, PostgreSQL server`,
      [
        ['appends per second (durable, batched)', String(out.insertPerSecond)],
        ['verify seconds (recompute every hash)', String(out.verifySeconds)],
        ['verified events per second', String(Math.round(events / verifySeconds))],
        ['peak RSS MB', String(out.peakRssMb)],
      ],
    );
    return out;
  } finally {
    await ds.destroy();
    await scratch.drop();
  }
}
