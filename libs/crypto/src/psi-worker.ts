/** Worker thread body for WorkerPsiEngine: one libsodium group, one chunk per message. */
import { parentPort } from 'node:worker_threads';
import { blindChunk, hashAndBlindChunk, PsiWorkerReply, PsiWorkerTask } from './psi-engine';
import { PsiGroupError, SodiumX25519Group } from './psi-group';

const group = new SodiumX25519Group();

parentPort?.on('message', (task: PsiWorkerTask) => {
  let reply: PsiWorkerReply;
  try {
    const result =
      task.op === 'hashAndBlind'
        ? hashAndBlindChunk(group, task.scalar, task.ids, task.dst)
        : blindChunk(group, task.scalar, task.packed, task.offset);
    reply = { id: task.id, result };
  } catch (e) {
    reply = {
      id: task.id,
      error: { message: (e as Error).message, code: e instanceof PsiGroupError ? e.code : undefined },
    };
  } finally {
    task.scalar.fill(0); // this thread's copy of the job's secret
  }
  parentPort!.postMessage(reply, 'result' in reply ? [reply.result.buffer] : []);
});
