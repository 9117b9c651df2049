/**
 * A party's side of alignment: the PSI sessions a job sets up at job.prepare, the coordinator's
 * psi.* commands and the peer messages of ECDH-PSI in its three shapes (two parties; a star around
 * the label party for several feature parties; unbalanced lists), and cardinality-only checks.
 * A job aligned by KKRT (kkrt-party.ts) has its exchange, finish and progress routed there.
 */
import { createHmac } from 'node:crypto';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey, PartyJob } from '../party/party-job';
import { CommandCall, onJobCommand, onPeer, PartyContext, PartyHandlerGroup } from '../party/party-model';
import { packBody } from '../wire/codec';
import { COORDINATOR_ID } from '../wire/roster';
import type { AlignmentSettings } from '../job/commands';
import { alignRows } from '../job/align-rows';
import * as psi from './commands';
import { EcdhPsiSession, pipelineChunks, psiDomainTag, PsiProgressCounts } from './ecdh-psi';
import { hasKkrtSide, kkrtExchange, kkrtFinish, kkrtProgress } from './kkrt-party';
import { pipelineBigTags, pipelineSmallQueries, UnbalancedPsiBig, UnbalancedPsiSmall } from './unbalanced-psi';

interface PsiState {
  readonly output: AlignmentSettings['output'];
  readonly mode: AlignmentSettings['mode'];
  session?: EcdhPsiSession;
  /** Star mode (two or more feature parties), label party: one session per feature party. */
  peers?: Map<string, EcdhPsiSession>;
  /** Unbalanced mode: this party's side, created by psi.plan. */
  unbalanced?: UnbalancedPsiSmall | UnbalancedPsiBig;
  peer?: string;
  dispose(): void;
}

const PSI = new JobSlot<PsiState>('PSI session', 'no PSI session in progress');
const POSITIONS = mailKey<Uint32Array>('psi-positions');

/** Creates the job's PSI sessions as its alignment settings say (called by job.prepare). */
export function setUpPsi(job: PartyJob, alignment: AlignmentSettings, node: PartyContext): void {
  const cardinalityOnly = alignment.output === 'cardinality';
  if (job.star && cardinalityOnly)
    throw new PartyError(`job ${job.id}: a cardinality-only check takes one feature party`);
  const state: PsiState = {
    output: alignment.output,
    mode: alignment.mode,
    dispose() {
      this.session?.dispose();
      this.peers?.forEach((s) => s.dispose());
      this.unbalanced?.dispose();
    },
  };
  const ids = job.requireTable().ids;
  if (alignment.mode === 'unbalanced') {
    // Sides are assigned by psi.plan once every party has reported its rows.
    if (job.star)
      throw new PartyError(`job ${job.id}: unbalanced PSI takes one feature party (star mode is balanced only)`);
    if (cardinalityOnly) throw new PartyError(`job ${job.id}: a cardinality-only check runs in balanced mode`);
  } else if (job.star && job.role === 'label') {
    state.peers = new Map(
      job
        .featureParties()
        .map((f) => [
          f.partyId,
          new EcdhPsiSession(node.psiEngine, ids, psiDomainTag(job.id), { peerPositions: true }),
        ]),
    );
  } else {
    state.session = new EcdhPsiSession(node.psiEngine, ids, psiDomainTag(job.id), { keepPeerSet: !job.star });
  }
  job.set(PSI, state);
}

function session(job: PartyJob, peer?: string): EcdhPsiSession {
  const state = job.get(PSI);
  const s = state.peers ? state.peers.get(String(peer)) : state.session;
  if (!s)
    throw new PartyError(
      `job ${job.id} has no PSI session in progress${state.peers ? ` with ${String(peer).slice(0, 64)}` : ''}`,
    );
  return s;
}

function unbalancedSide<T extends UnbalancedPsiSmall | UnbalancedPsiBig>(
  job: PartyJob,
  kind: new (...a: never[]) => T,
  name: 'small' | 'big',
  from: string,
): T {
  const state = job.get(PSI);
  if (!(state.unbalanced instanceof kind))
    throw new PartyError(`job ${job.id} has no ${name}-side unbalanced PSI session for this message`);
  if (from !== state.peer)
    throw new PartyError(`job ${job.id}: the PSI peer is ${state.peer}, not ${from.slice(0, 64)}`);
  return state.unbalanced;
}

function orderDigest(node: PartyContext, job: PartyJob, peer: string, sharedIds: readonly string[]): string {
  return createHmac('sha256', node.channelKey(job, peer))
    .update('vfl-psi-order-v1')
    .update(packBody(sharedIds))
    .digest('hex');
}

/** Counts only, summed over a star-mode label party's sessions. */
function progressOf(state: PsiState): Partial<PsiProgressCounts> {
  const sessions: { progress(): PsiProgressCounts }[] = state.peers
    ? [...state.peers.values()]
    : state.session
      ? [state.session]
      : state.unbalanced
        ? [state.unbalanced]
        : [];
  if (sessions.length === 0) return {};
  const sum = { ownDone: 0, ownTotal: 0, peerDone: 0, peerTotal: 0 };
  for (const s of sessions) {
    const p = s.progress();
    sum.ownDone += p.ownDone;
    sum.ownTotal += p.ownTotal;
    sum.peerDone += p.peerDone;
    sum.peerTotal += p.peerTotal;
  }
  return sum;
}

async function exchange(job: PartyJob, peer: string, call: CommandCall): Promise<void> {
  if (hasKkrtSide(job)) return kkrtExchange(job, peer, call);
  const state = job.get(PSI);
  if (state.mode === 'unbalanced') return exchangeUnbalanced(job, state, peer, call);
  const s = session(job, peer);
  // One signed message per chunk, in order; the next chunk is hashed while one travels.
  const deliver = async (k: number, blinded: Uint8Array) =>
    psi.doubleBlindedReply.parse(await call.send(job, peer, psi.blinded, { ...s.header(k), blinded })).doubleBlinded;
  if (state.output === 'cardinality' || (job.star && job.role === 'feature')) {
    // The peer keeps its answers: a returned answer would tell us which of our IDs are shared.
    await pipelineChunks(s, deliver, (k, answer) => {
      if (answer.length !== 0) {
        throw new PartyError(
          `${peer} returned blinded values in a ${state.output === 'cardinality' ? 'cardinality-only job' : 'job with several feature parties, where a feature party gets none back'}: refused`,
        );
      }
      s.markOwnChunkDelivered(k);
    });
  } else {
    await pipelineChunks(s, deliver);
  }
}

/** S: queries in chunks, each answer unblinded; B: its tags in chunks. Both run at once. */
async function exchangeUnbalanced(job: PartyJob, state: PsiState, peer: string, call: CommandCall): Promise<void> {
  const side = state.unbalanced;
  if (!side) throw new PartyError(`job ${job.id}: ${psi.plan.name} has not assigned this party a PSI side`);
  if (peer !== state.peer)
    throw new PartyError(`job ${job.id}: the PSI peer is ${state.peer}, not ${peer.slice(0, 64)}`);
  if (side instanceof UnbalancedPsiSmall) {
    await pipelineSmallQueries(
      side,
      async (k, blinded) =>
        psi.doubleBlindedReply.parse(await call.send(job, peer, psi.query, { ...side.header(k), blinded }))
          .doubleBlinded,
    );
  } else {
    await pipelineBigTags(
      side,
      async (k, tags) => void (await call.send(job, peer, psi.tags, { ...side.header(k), tags })),
    );
  }
}

type FinishReply = typeof psi.finish.reply._zod.output;

async function finish(job: PartyJob, call: CommandCall): Promise<FinishReply> {
  if (hasKkrtSide(job)) return kkrtFinish(job, call);
  const state = job.get(PSI);
  const { node } = call;
  if (state.mode === 'unbalanced') {
    // S matches and sends B the positions of the shared IDs, in the agreed order; B maps them to its IDs.
    const side = state.unbalanced;
    const peer = state.peer;
    if (!side || !peer) throw new PartyError(`job ${job.id}: ${psi.plan.name} has not assigned this party a PSI side`);
    state.unbalanced = undefined;
    let sharedIds: string[];
    if (side instanceof UnbalancedPsiSmall) {
      const result = side.finish();
      sharedIds = result.sharedIds;
      await call.send(job, peer, psi.positions, { positions: new Uint8Array(result.peerPositions.buffer) });
    } else {
      sharedIds = side.idsAtPositions(job.take(POSITIONS));
    }
    return { ...alignRows(job, sharedIds), orderDigest: orderDigest(node, job, peer, sharedIds) };
  }
  if (state.output === 'cardinality') {
    // The label party counts; the feature party has nothing to report.
    const s = session(job);
    state.session = undefined;
    job.table = undefined;
    if (job.role === 'feature') {
      s.dispose();
      return { size: null };
    }
    return { size: await s.finishCardinality() };
  }
  if (job.star && job.role === 'label') return finishStarLabel(job, state, call);
  if (job.star) {
    // Star mode, feature party: its IDs at the positions the label party sent, in that order.
    const sharedIds = session(job).idsAtPositions(job.take(POSITIONS));
    state.session = undefined;
    return { ...alignRows(job, sharedIds), orderDigest: orderDigest(node, job, job.labelParty(), sharedIds) };
  }
  const result = await session(job).finish();
  state.session = undefined;
  return { ...alignRows(job, result.sharedIds), orderDigest: result.orderDigest };
}

/**
 * Star mode, label party: the intersection of every pair's matches, sorted by ID; each feature
 * party is sent the positions of those IDs in its own stream. The digest per pair is keyed by
 * the pair's channel key, so the coordinator can compare it but not test a guess of the IDs.
 */
async function finishStarLabel(job: PartyJob, state: PsiState, call: CommandCall): Promise<FinishReply> {
  const matches = new Map<string, Map<number, number>>();
  for (const [peer, s] of state.peers!) matches.set(peer, await s.matchPeerPositions());
  state.peers = undefined;
  const [first, ...others] = [...matches.values()];
  const ids = job.requireTable().ids;
  const shared = [...first.keys()]
    .filter((i) => others.every((m) => m.has(i)))
    .sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  const sharedIds = shared.map((i) => ids[i]);
  const aligned = alignRows(job, sharedIds);
  const orderDigests: Record<string, string> = {};
  for (const [peer, m] of matches) {
    const positions = Uint32Array.from(shared, (i) => m.get(i)!);
    await call.send(job, peer, psi.positions, { positions: new Uint8Array(positions.buffer) });
    orderDigests[peer] = orderDigest(call.node, job, peer, sharedIds);
  }
  return { ...aligned, orderDigests };
}

function positionsOf(bytes: Uint8Array): Uint32Array {
  if (bytes.length % 4 !== 0) throw new PartyError(`${psi.positions.type}: expected 4-byte positions`);
  return new Uint32Array(bytes.slice().buffer);
}

export const psiHandlers: PartyHandlerGroup = {
  commands: [
    onJobCommand(psi.plan, (cmd, job, { node }) => {
      // Creates this party's side once the coordinator has compared the row counts.
      const state = job.get(PSI);
      if (state.mode !== 'unbalanced')
        throw new PartyError(`${psi.plan.name} is only for a job in unbalanced PSI mode`);
      if (state.unbalanced || state.peer) throw new PartyError(`job ${job.id}: PSI side already planned`);
      const peer = job.roster.find((r) => r.partyId === cmd.peer && r.partyId !== node.partyId);
      if (!peer) throw new PartyError(`${psi.plan.name}: peer ${cmd.peer} is not another party of job ${job.id}`);
      const Side = cmd.side === 'small' ? UnbalancedPsiSmall : UnbalancedPsiBig;
      state.unbalanced = new Side(node.psiEngine, job.requireTable().ids, psiDomainTag(job.id), {}, cmd.peerRows);
      state.peer = peer.partyId;
      return {};
    }),
    onJobCommand(psi.exchange, async (cmd, job, call) => (await exchange(job, cmd.peer, call), {})),
    onJobCommand(psi.answer, async (_, job, call) => {
      if (job.get(PSI).output !== 'cardinality' || job.role !== 'feature')
        throw new PartyError(`${psi.answer.name} is only for the feature party of a cardinality-only job`);
      for await (const { header, elements } of session(job).answerChunks())
        await call.send(job, job.labelParty(), psi.answers, { ...header, elements });
      return {};
    }),
    onJobCommand(psi.progress, (_, job) =>
      hasKkrtSide(job) ? kkrtProgress(job) : job.find(PSI) ? progressOf(job.get(PSI)) : {},
    ),
    onJobCommand(psi.finish, (_, job, call) => finish(job, call), {
      outgoing: (_, reply, node) =>
        typeof reply.size === 'number'
          ? [
              {
                step: 'psi.result',
                sender: node.partyId,
                receiver: COORDINATOR_ID,
                detail: { intersection: reply.size },
              },
            ]
          : [],
    }),
  ],
  peers: [
    onPeer(psi.blinded, async (body, job, from) => {
      const state = job.get(PSI);
      const doubleBlinded = await session(job, from).blindPeerChunk(body, body.blinded);
      // Cardinality mode: keep the answer (the feature party later sends them all, shuffled).
      // Star mode, label party: keep it too; a feature party must not see its own IDs doubly blinded.
      return {
        doubleBlinded:
          state.output === 'cardinality' || (job.star && job.role === 'label') ? new Uint8Array(0) : doubleBlinded,
      };
    }),
    onPeer(psi.query, async (body, job, from) => ({
      doubleBlinded: await unbalancedSide(job, UnbalancedPsiBig, 'big', from).answerQuery(body, body.blinded),
    })),
    onPeer(psi.tags, (body, job, from) => {
      unbalancedSide(job, UnbalancedPsiSmall, 'small', from).acceptPeerTags(body, body.tags);
      return {};
    }),
    onPeer(psi.positions, (body, job) => {
      if (!(job.get(PSI).unbalanced instanceof UnbalancedPsiBig) && !(job.star && job.role === 'feature')) {
        throw new PartyError(
          `${psi.positions.type} is only for a feature party of a job with several, or the big side of an unbalanced one`,
        );
      }
      job.put(POSITIONS, positionsOf(body.positions));
      return null;
    }),
    onPeer(psi.answers, (body, job) => {
      if (job.get(PSI).output !== 'cardinality' || job.role !== 'label')
        throw new PartyError(`${psi.answers.type} is only for the label party of a cardinality-only job`);
      session(job).acceptAnswerChunk(body, body.elements);
      return {};
    }),
  ],
};
