/**
 * The coordinator's side of alignment by KKRT16 PSI (two parties), and the choice between ECDH and
 * KKRT that `alignment.protocol` makes: "ecdh", "kkrt", or "auto" (the default), which takes KKRT
 * for two parties computing the intersection in balanced mode when both lists hold at least
 * KKRT_AUTO_MIN_ROWS IDs, and ECDH otherwise: for unbalanced mode, cardinality-only checks and
 * several feature parties, which KKRT does not cover, and for lists under 100k IDs, where ECDH
 * takes about a minute at most and stays the default path (KKRT is faster from a few thousand
 * IDs up: ask for it by name there).
 */
import { COORDINATOR_ID } from '../wire/roster';
import type { Alignment } from '../job/strategy';
import type { AlignmentDriver } from './alignment';
import * as psi from './commands';

export const KKRT_AUTO_MIN_ROWS = 100_000;

export type AlignmentProtocol = 'ecdh' | 'kkrt';

/** The protocol a job's alignment runs; throws RangeError when "kkrt" is asked for where it cannot run. */
export function chooseAlignmentProtocol(d: AlignmentDriver, output: 'intersection' | 'cardinality'): AlignmentProtocol {
  const asked = d.spec.alignment?.protocol ?? 'auto';
  const unfit =
    d.features.length !== 1
      ? 'KKRT PSI takes exactly one feature party'
      : output === 'cardinality'
        ? 'a cardinality-only check runs on ECDH-PSI'
        : d.spec.alignment?.mode === 'unbalanced'
          ? 'unbalanced mode runs on ECDH-PSI'
          : null;
  if (asked === 'kkrt') {
    if (unfit) throw new RangeError(`alignment.protocol "kkrt": ${unfit}`);
    return 'kkrt';
  }
  if (asked === 'ecdh' || unfit) return 'ecdh';
  const rows = [d.label, ...d.features].map((c) => d.prepared.get(c.partyId)!.rows);
  return Math.min(...rows) >= KKRT_AUTO_MIN_ROWS ? 'kkrt' : 'ecdh';
}

/** Two parties by KKRT: the one with fewer rows receives (the label party on a tie). */
export async function alignKkrt(d: AlignmentDriver): Promise<Alignment> {
  const { jobId } = d.spec;
  const feature = d.features[0];
  const rowsOf = (partyId: string) => d.prepared.get(partyId)!.rows;
  const [receiver, sender] =
    rowsOf(d.label.partyId) <= rowsOf(feature.partyId) ? [d.label, feature] : [feature, d.label];
  await d.hooks.audit({
    step: 'psi.plan',
    sender: COORDINATOR_ID,
    detail: { protocol: 'kkrt', receiver: receiver.partyId, sender: sender.partyId },
  });
  await Promise.all([
    d.call(receiver, psi.kkrtPlan, {
      jobId,
      peer: sender.partyId,
      side: 'receiver',
      peerRows: rowsOf(sender.partyId),
    }),
    d.call(sender, psi.kkrtPlan, {
      jobId,
      peer: receiver.partyId,
      side: 'sender',
      peerRows: rowsOf(receiver.partyId),
    }),
  ]);
  d.hooks.progress({ phase: 'aligning' });
  await Promise.all([
    d.call(receiver, psi.exchange, { jobId, peer: sender.partyId }),
    d.call(sender, psi.exchange, { jobId, peer: receiver.partyId }),
  ]);
  // The receiver matches and sends the sender its positions before the sender finishes.
  const r = await d.call(receiver, psi.finish, { jobId });
  const s = await d.call(sender, psi.finish, { jobId });
  if (typeof r.orderDigest !== 'string' || r.orderDigest !== s.orderDigest)
    throw new Error('parties disagree on the intersection (order digests differ)');
  if (r.size !== s.size) throw new Error('parties disagree on the intersection (sizes differ)');
  const alignment = { intersection: r.size ?? 0, trainRows: r.trainRows ?? 0, validationRows: r.validationRows ?? 0 };
  await d.hooks.audit({ step: 'psi.result', sender: COORDINATOR_ID, detail: { ...alignment, protocol: 'kkrt' } });
  return alignment;
}
