/**
 * The coordinator's side of alignment by ECDH-PSI: it plans unbalanced sides, starts every pair's
 * exchange, polls progress, then finishes and checks that every party holds the same rows in the
 * same order (keyed order digests: it compares them but cannot test guesses of the IDs). For a
 * cardinality-only check, the feature party sends its answers and the label party counts.
 * Two-party intersections may run on KKRT instead (kkrt-alignment.ts, `alignment.protocol`).
 */
import type { Command } from '../wire/command';
import type { PartyChannel } from '../wire/party-channel';
import { COORDINATOR_ID } from '../wire/roster';
import type { PrepareReply } from '../job/commands';
import { JobHooks, JobSpec, PartyCallError } from '../job/job-types';
import type { Alignment } from '../job/strategy';
import * as psi from './commands';
import { alignKkrt, chooseAlignmentProtocol } from './kkrt-alignment';

export interface AlignmentDriver {
  readonly spec: JobSpec;
  readonly label: PartyChannel;
  readonly features: readonly PartyChannel[];
  readonly prepared: ReadonlyMap<string, PrepareReply>;
  readonly hooks: Pick<JobHooks, 'audit' | 'progress'>;
  call<Q, P>(channel: PartyChannel, command: Command<Q, P>, body: Q): Promise<P>;
}

type Finish = typeof psi.finish.reply._zod.output;

export async function alignParties(d: AlignmentDriver, output: 'intersection' | 'cardinality'): Promise<Alignment> {
  if (chooseAlignmentProtocol(d, output) === 'kkrt') return alignKkrt(d);
  const { jobId } = d.spec;
  const all = [d.label, ...d.features];
  // Unbalanced mode: the small side (named, or the one with fewer rows) queries, the big side streams tags.
  const unbalanced = d.spec.alignment?.mode === 'unbalanced' ? unbalancedSides(d) : undefined;
  if (unbalanced) {
    const { small, big } = unbalanced;
    await d.hooks.audit({
      step: 'psi.plan',
      sender: COORDINATOR_ID,
      detail: { mode: 'unbalanced', small: small.partyId, big: big.partyId },
    });
    await Promise.all([
      d.call(small, psi.plan, { jobId, peer: big.partyId, side: 'small', peerRows: d.prepared.get(big.partyId)!.rows }),
      d.call(big, psi.plan, { jobId, peer: small.partyId, side: 'big', peerRows: d.prepared.get(small.partyId)!.rows }),
    ]);
  }
  const progress = new PsiProgressPoller(jobId, all, d.hooks);
  try {
    // Every pair (label, feature) exchanges both ways; with several feature parties, the pairs run at once.
    // (Unbalanced: the small side's queries and the big side's tags, also at once.)
    await Promise.all(
      d.features.flatMap((f) => [
        d.call(f, psi.exchange, { jobId, peer: d.label.partyId }),
        d.call(d.label, psi.exchange, { jobId, peer: f.partyId }),
      ]),
    );
    await progress.finalReport();
  } finally {
    progress.stop();
  }
  if (output === 'cardinality') {
    // The feature party sends the label party its answers, shuffled; the label party counts.
    const feature = d.features[0];
    await d.call(feature, psi.answer, { jobId });
    const counted = await d.call(d.label, psi.finish, { jobId });
    await d.call(feature, psi.finish, { jobId });
    if (counted.size === null) throw new PartyCallError(d.label.partyId, psi.finish.name, 'reported no valid count');
    await d.hooks.audit({
      step: 'psi.result',
      sender: d.label.partyId,
      receiver: COORDINATOR_ID,
      detail: { intersection: counted.size, output: 'cardinality' },
    });
    return { intersection: counted.size, trainRows: 0, validationRows: 0 };
  }
  let finished: Finish[];
  if (unbalanced) {
    // The small side matches and sends the big side its positions before the big side finishes.
    const small = await d.call(unbalanced.small, psi.finish, { jobId });
    const big = await d.call(unbalanced.big, psi.finish, { jobId });
    if (typeof small.orderDigest !== 'string' || small.orderDigest !== big.orderDigest)
      throw new Error('parties disagree on the intersection (order digests differ)');
    finished = [small, big];
  } else if (d.features.length === 1) {
    finished = await Promise.all(all.map((c) => d.call(c, psi.finish, { jobId })));
    if (new Set(finished.map((f) => f.orderDigest)).size !== 1)
      throw new Error('parties disagree on the intersection (order digests differ)');
  } else {
    // Star: the label party intersects every pair's matches and sends each feature party its positions first.
    const label = await d.call(d.label, psi.finish, { jobId });
    const others = await Promise.all(d.features.map((f) => d.call(f, psi.finish, { jobId })));
    const pairDigests = label.orderDigests ?? {};
    d.features.forEach((f, k) => {
      if (typeof others[k].orderDigest !== 'string' || pairDigests[f.partyId] !== others[k].orderDigest) {
        throw new Error(`${d.label.partyId} and ${f.partyId} disagree on the intersection (order digests differ)`);
      }
    });
    finished = [label, ...others];
  }
  if (new Set(finished.map((f) => f.size)).size !== 1)
    throw new Error('parties disagree on the intersection (sizes differ)');
  const [first] = finished;
  const alignment = {
    intersection: first.size ?? 0,
    trainRows: first.trainRows ?? 0,
    validationRows: first.validationRows ?? 0,
  };
  await d.hooks.audit({ step: 'psi.result', sender: COORDINATOR_ID, detail: { ...alignment } });
  return alignment;
}

/** Unbalanced mode: the named small party, or the one that reported fewer rows (the label party on a tie). */
function unbalancedSides(d: AlignmentDriver): { small: PartyChannel; big: PartyChannel } {
  const feature = d.features[0];
  const named = d.spec.alignment?.smallParty;
  const smallIsLabel =
    named !== undefined
      ? named === d.label.partyId
      : d.prepared.get(d.label.partyId)!.rows <= d.prepared.get(feature.partyId)!.rows;
  return smallIsLabel ? { small: d.label, big: feature } : { small: feature, big: d.label };
}

/**
 * Asks every party, once a second while PSI runs, how many elements it has blinded, and reports
 * the total with a rate-based ETA. Counts only; a party that does not answer in time is skipped.
 */
class PsiProgressPoller {
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly jobId: string,
    private readonly parties: readonly PartyChannel[],
    private readonly hooks: Pick<JobHooks, 'progress'>,
  ) {
    this.timer = setInterval(() => {
      if (!this.polling) this.polling = this.poll().finally(() => (this.polling = null));
    }, 1000);
    this.timer.unref();
  }

  /** One last poll once the exchange is over, so the job shows alignment complete. */
  async finalReport(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const replies = await Promise.allSettled(this.parties.map((p) => p.call(psi.progress, { jobId: this.jobId })));
    let done = 0;
    let total = 0;
    for (const r of replies) {
      if (r.status !== 'fulfilled') continue;
      const v = r.value.reply;
      done += Number(v.ownDone ?? 0) + Number(v.peerDone ?? 0);
      // Every own element is blinded again by the peer: twice the party's own list.
      total += 2 * Number(v.ownTotal ?? 0);
    }
    if (this.stopped) return;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = done / seconds;
    this.hooks.progress({
      phase: 'aligning',
      elementsDone: done,
      elementsTotal: total,
      etaSeconds: rate > 0 && total > done ? Math.round((total - done) / rate) : null,
    });
  }
}
