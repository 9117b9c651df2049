import type { PartyChannel } from '../src';

/**
 * The federation's channels, with `partyId` "crashing" (a connection reset) on every call that
 * `crashes` picks: how the resume specs interrupt a job mid-training.
 */
export function withCrashingParty(
  channels: ReadonlyMap<string, PartyChannel>,
  partyId: string,
  crashes: (command: string, body: Record<string, unknown>) => boolean,
): Map<string, PartyChannel> {
  const party = channels.get(partyId);
  if (!party) throw new Error(`no channel to ${partyId}`);
  const out = new Map(channels);
  out.set(partyId, {
    partyId,
    call: (command, body) =>
      crashes(command.name, body as Record<string, unknown>)
        ? Promise.reject(new Error('connection reset'))
        : party.call(command, body),
  });
  return out;
}
