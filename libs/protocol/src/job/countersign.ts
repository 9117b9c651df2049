/**
 * The coordinator's side of `audit.countersign`: hands its signed chain head to every party that
 * took the job (acknowledged job.prepare) and waits a short while for each. A party that does not
 * answer does not hold the job up; the caller learns which ones did not countersign.
 */
import type { PartyChannel } from '../wire/party-channel';
import { close, countersign } from './commands';

export interface ChainHead {
  readonly jobId: string;
  readonly seq: number;
  readonly hash: string;
}

/** Returns the parties that did not countersign, each with why. */
export async function countersignHead(
  channels: readonly PartyChannel[],
  head: ChainHead,
  state: string,
  timeoutMs = 5_000,
): Promise<{ partyId: string; reason: string }[]> {
  const outcomes = await Promise.allSettled(
    channels.map((c) =>
      withTimeout(c.call(countersign, { jobId: head.jobId, seq: head.seq, head: head.hash, state }), timeoutMs),
    ),
  );
  return outcomes.flatMap((o, i) =>
    o.status === 'fulfilled'
      ? []
      : [{ partyId: channels[i].partyId, reason: o.reason instanceof Error ? o.reason.message : String(o.reason) }],
  );
}

/**
 * Closes a job that ended without its runner (the coordinator restarted under it) at every party
 * still reachable, so none keeps holding it; returns the parties that could not be reached, each with why.
 */
export async function releaseJob(
  channels: readonly PartyChannel[],
  jobId: string,
  timeoutMs = 5_000,
): Promise<{ partyId: string; reason: string }[]> {
  const outcomes = await Promise.allSettled(
    channels.map((c) => withTimeout(c.call(close, { jobId, completed: false }), timeoutMs)),
  );
  return outcomes.flatMap((o, i) =>
    o.status === 'fulfilled'
      ? []
      : [{ partyId: channels[i].partyId, reason: o.reason instanceof Error ? o.reason.message : String(o.reason) }],
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
