/**
 * `node dist/scripts/psi-worker.js`: a PSI worker process (libs/transport/src/psi-work-queue.ts).
 * Connects to NATS_URL (default nats://127.0.0.1:4222), creates the work queue if it is missing,
 * and computes ECDH-PSI chunks until SIGTERM/SIGINT. Run as many as there are cores, on as many
 * hosts as the party has; `docker compose up --scale psi-worker=3` does it in compose.
 */
import { connect } from 'nats';
import { ensurePsiWorkQueue, runPsiWorker } from '@vfl/transport';

async function main(): Promise<void> {
  const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const ackWaitMs = process.env.VFL_PSI_ACK_WAIT_MS ? Number(process.env.VFL_PSI_ACK_WAIT_MS) : undefined;
  if (ackWaitMs !== undefined && !(Number.isInteger(ackWaitMs) && ackWaitMs >= 100))
    throw new Error(`VFL_PSI_ACK_WAIT_MS expects an integer of at least 100, got ${process.env.VFL_PSI_ACK_WAIT_MS}`);
  const nc = await connect({ servers, name: `psi-worker-${process.pid}`, maxReconnectAttempts: -1 });
  await ensurePsiWorkQueue(nc, { ackWaitMs });
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  console.log(`psi-worker ${process.pid}: pulling PSI work from ${servers}`);
  const done = await runPsiWorker(nc, stop.signal);
  console.log(`psi-worker ${process.pid}: stopped after ${done} chunks`);
  await nc.drain();
}

main().catch((e) => {
  console.error(`psi-worker: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
