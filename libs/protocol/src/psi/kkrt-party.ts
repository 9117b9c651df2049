/**
 * A party's side of KKRT16 PSI (kkrt-psi.ts) in a job: psi.kkrt_plan makes it the receiver R or
 * the sender S; at psi.exchange R sends its hello and the matrix, S waits for the matrix and then
 * streams its tags; at psi.finish R sends S the positions of the shared IDs and both align rows.
 * party-handlers.ts routes psi.exchange, psi.finish and psi.progress here when a KKRT side exists.
 */
import { createHmac } from 'node:crypto';
import { alignRows } from '../job/align-rows';
import { PartyError } from '../party/party-error';
import { JobSlot, PartyJob } from '../party/party-job';
import { CommandCall, onJobCommand, onPeer, PartyContext, PartyHandlerGroup } from '../party/party-model';
import { packBody } from '../wire/codec';
import * as psi from './commands';
import { psiDomainTag } from './ecdh-psi';
import { KkrtPsiReceiver, KkrtPsiSender } from './kkrt-psi';
import type { PsiProgressCounts } from './psi-streams';

/** How long S waits at psi.exchange for R's whole matrix before giving up. */
const MATRIX_WAIT_MS = 30 * 60_000;

interface KkrtState {
  readonly side: KkrtPsiReceiver | KkrtPsiSender;
  readonly peer: string;
  readonly peerRows: number;
  /** S: settles when R's last matrix chunk has been taken in. */
  readonly matrixDone: Promise<void>;
  matrixChunksDone: number;
  matrixChunks: number;
  finishMatrix(error?: Error): void;
  positions?: Uint8Array;
  dispose(): void;
}

const KKRT = new JobSlot<KkrtState>('KKRT PSI session', 'no KKRT PSI session in progress');

export function hasKkrtSide(job: PartyJob): boolean {
  return job.find(KKRT) !== undefined;
}

function sideOf<T extends KkrtPsiReceiver | KkrtPsiSender>(
  job: PartyJob,
  kind: new (...a: never[]) => T,
  from: string,
): { state: KkrtState; side: T } {
  const state = job.get(KKRT);
  if (!(state.side instanceof kind))
    throw new PartyError(
      `job ${job.id}: this party is not the KKRT ${kind === KkrtPsiReceiver ? 'receiver' : 'sender'}`,
    );
  if (from !== state.peer)
    throw new PartyError(`job ${job.id}: the PSI peer is ${state.peer}, not ${from.slice(0, 64)}`);
  return { state, side: state.side };
}

function orderDigest(node: PartyContext, job: PartyJob, peer: string, sharedIds: readonly string[]): string {
  return createHmac('sha256', node.channelKey(job, peer))
    .update('vfl-psi-order-v1')
    .update(packBody(sharedIds))
    .digest('hex');
}

/** psi.exchange for a KKRT side. */
export async function kkrtExchange(job: PartyJob, peer: string, call: CommandCall): Promise<void> {
  const state = job.get(KKRT);
  if (peer !== state.peer)
    throw new PartyError(`job ${job.id}: the PSI peer is ${state.peer}, not ${peer.slice(0, 64)}`);
  const side = state.side;
  if (side instanceof KkrtPsiReceiver) {
    const response = psi.kkrtResponse.parse(await call.send(job, peer, psi.kkrtHello, side.hello()));
    if (response.items !== state.peerRows)
      throw new PartyError(`${peer} announced ${response.items} IDs for KKRT PSI, but reported ${state.peerRows} rows`);
    side.start(response);
    state.matrixChunks = side.chunks;
    for (let k = 0; k < side.chunks; k++) {
      const { data, ...header } = side.matrixChunk(k);
      await call.send(job, peer, psi.kkrtMatrix, { ...header, rows: data });
      state.matrixChunksDone = k + 1;
    }
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    state.matrixDone,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new PartyError(`${peer} did not send the KKRT matrix in time`)), MATRIX_WAIT_MS);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
  for (let k = 0; k < side.tagChunks; k++) {
    const { data, ...header } = side.tagChunk(k);
    await call.send(job, peer, psi.kkrtTags, { ...header, tags: data });
  }
}

type FinishReply = typeof psi.finish.reply._zod.output;

/** psi.finish for a KKRT side: R first (it sends the positions), then S. */
export async function kkrtFinish(job: PartyJob, call: CommandCall): Promise<FinishReply> {
  const state = job.get(KKRT);
  job.clear(KKRT);
  let sharedIds: string[];
  try {
    if (state.side instanceof KkrtPsiReceiver) {
      const result = state.side.finish();
      sharedIds = result.sharedIds;
      await call.send(job, state.peer, psi.kkrtPositions, { positions: result.positions });
    } else {
      if (!state.positions) throw new PartyError(`job ${job.id}: ${state.peer} has not sent the KKRT positions`);
      sharedIds = state.side.acceptPositions(state.positions).sharedIds;
    }
  } finally {
    state.dispose();
  }
  return { ...alignRows(job, sharedIds), orderDigest: orderDigest(call.node, job, state.peer, sharedIds) };
}

/** Counts only: matrix chunks as "own" work for R, received for S. */
export function kkrtProgress(job: PartyJob): Partial<PsiProgressCounts> {
  const state = job.get(KKRT);
  return state.side instanceof KkrtPsiReceiver
    ? { ownDone: state.matrixChunksDone, ownTotal: state.matrixChunks }
    : { peerDone: state.matrixChunksDone, peerTotal: state.matrixChunks };
}

export const kkrtHandlers: PartyHandlerGroup = {
  commands: [
    onJobCommand(psi.kkrtPlan, (cmd, job, { node }) => {
      if (job.find(KKRT)) throw new PartyError(`job ${job.id}: KKRT side already planned`);
      if (job.star) throw new PartyError(`job ${job.id}: KKRT PSI takes one feature party`);
      const peer = job.roster.find((r) => r.partyId === cmd.peer && r.partyId !== node.partyId);
      if (!peer) throw new PartyError(`${psi.kkrtPlan.name}: peer ${cmd.peer} is not another party of job ${job.id}`);
      const table = job.requireTable().ids;
      const ids = { size: table.length, at: (i: number) => table[i] };
      const dst = psiDomainTag(job.id);
      const side = cmd.side === 'receiver' ? new KkrtPsiReceiver(ids, dst) : new KkrtPsiSender(ids, dst);
      let finishMatrix: (error?: Error) => void = () => {};
      const matrixDone = new Promise<void>((resolve, reject) => {
        finishMatrix = (error) => (error ? reject(error) : resolve());
      });
      matrixDone.catch(() => {}); // a job closed before exchange must not leave an unhandled rejection
      job.set(KKRT, {
        side,
        peer: peer.partyId,
        peerRows: cmd.peerRows,
        matrixDone,
        matrixChunksDone: 0,
        matrixChunks: 0,
        finishMatrix,
        dispose() {
          side.close();
          finishMatrix(new PartyError(`job ${job.id}: the KKRT session was closed`));
        },
      });
      return {};
    }),
  ],
  peers: [
    onPeer(psi.kkrtHello, (body, job, from) => {
      const { state, side } = sideOf(job, KkrtPsiSender, from);
      if (body.items !== state.peerRows)
        throw new PartyError(`${from} announced ${body.items} IDs for KKRT PSI, but reported ${state.peerRows} rows`);
      const response = side.respond(body);
      state.matrixChunks = Math.ceil(body.bins / body.chunkBins);
      return response;
    }),
    onPeer(psi.kkrtMatrix, (body, job, from) => {
      const { state, side } = sideOf(job, KkrtPsiSender, from);
      try {
        side.acceptMatrixChunk(body, body.rows);
      } catch (e) {
        state.finishMatrix(e as Error);
        throw e;
      }
      state.matrixChunksDone = body.chunk + 1;
      if (body.chunk === body.chunks - 1) state.finishMatrix();
      return {};
    }),
    onPeer(psi.kkrtTags, (body, job, from) => {
      sideOf(job, KkrtPsiReceiver, from).side.acceptTags(body, body.tags);
      return {};
    }),
    onPeer(psi.kkrtPositions, (body, job, from) => {
      const { state } = sideOf(job, KkrtPsiSender, from);
      if (state.positions) throw new PartyError(`job ${job.id}: KKRT positions arrived twice`);
      state.positions = body.positions;
      return null;
    }),
  ],
};
