/** Worker thread body for WorkerCkksEngine: its own SEAL context and the job's public keys, one task per message. */
import { parentPort, workerData } from 'node:worker_threads';
import { CkksContext, CkksError } from './ckks-context';
import { CkksWorkerInit, CkksWorkerMessage, CkksWorkerReply, runCkksTask } from './ckks-engine';
import { CkksDecryptor, CkksEncryptor } from './ckks-keys';

const init = workerData as CkksWorkerInit;
const runtime = CkksContext.create(init.params).then((ckks) => {
  const keys = init.secretKey ? CkksDecryptor.fromSecretKey(ckks, init.secretKey) : undefined;
  init.secretKey?.fill(0);
  return { ckks, encryptor: init.bundle ? CkksEncryptor.fromBundle(ckks, init.bundle) : undefined, keys };
});

async function handle({ id, task }: CkksWorkerMessage): Promise<void> {
  let reply: CkksWorkerReply;
  try {
    reply = { id, result: runCkksTask(await runtime, task) };
  } catch (e) {
    reply = {
      id,
      error: { message: e instanceof Error ? e.message : String(e), code: e instanceof CkksError ? e.code : undefined },
    };
  }
  parentPort!.postMessage(reply, 'result' in reply ? reply.result.map((r) => r.buffer) : []);
  // This thread's copies of the features and masks.
  if (task.op === 'productSums')
    for (const o of task.outputs) for (const a of [...o.plains, ...(o.add ? [o.add] : [])]) a.fill(0);
}

parentPort?.on('message', (message: CkksWorkerMessage) => void handle(message));
