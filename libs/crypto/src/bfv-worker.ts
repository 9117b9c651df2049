/** Worker thread body for WorkerBfvEngine: its own SEAL context (and the public key, to encrypt), one task per message. */
import { parentPort, workerData } from 'node:worker_threads';
import { BfvContext } from './bfv-context';
import { BfvTask, BfvWorkerInit, runBfvTask } from './bfv-engine';
import { BfvEncryptor } from './bfv-keys';
import type { WorkerReply } from './worker-pool';

const init = workerData as BfvWorkerInit;
const runtime = BfvContext.create(init.params).then((bfv) => ({
  bfv,
  encryptor: init.publicKey ? BfvEncryptor.fromPublicKey(bfv, init.publicKey) : undefined,
}));

async function handle({ id, task }: { id: number; task: BfvTask }): Promise<void> {
  let reply: WorkerReply<Uint8Array[]>;
  try {
    reply = { id, result: runBfvTask(await runtime, task) };
  } catch (e) {
    reply = { id, error: { message: e instanceof Error ? e.message : String(e) } };
  }
  parentPort!.postMessage(reply, 'result' in reply ? reply.result.map((r) => r.buffer) : []);
}

parentPort?.on('message', (message: { id: number; task: BfvTask }) => void handle(message));
