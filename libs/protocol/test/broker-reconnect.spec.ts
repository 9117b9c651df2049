/**
 * A job started while the message broker is coming back (NATS reconnecting, a party's subscription
 * not there yet) waits at its first call, party.health, instead of failing: the failures are
 * injected into real channels of an in-process federation, in the words the NATS transport uses.
 * Any other failure at that call still fails the job at once.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { inProcessFederation, InProcessFederation, isSplitLrResult, JobRunner, jobStrategies, JobSpec } from '../src';
import type { PartyChannel } from '../src';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const parties = [
  { partyId: 'bank', role: 'label' as const },
  { partyId: 'ecommerce', role: 'feature' as const },
];
const spec = (): JobSpec => ({
  jobId: randomUUID(),
  model: 'split-lr',
  hyperparameters: { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 1, batchSize: 128, seed: 3 },
  parties: [
    { partyId: 'bank', role: 'label', data: { path: 'breast_hetero_guest.csv', labelColumn: 'y' } },
    { partyId: 'ecommerce', role: 'feature', data: { path: 'breast_hetero_host.csv' } },
  ],
});

/** Ecommerce's channel failing its first `times` health calls with `failure()`; counts the health calls. */
function failingHealth(federation: InProcessFederation, times: number, failure: () => Error) {
  const party = federation.channels.get('ecommerce')!;
  const calls = { health: 0 };
  const channel: PartyChannel = {
    partyId: 'ecommerce',
    call: (command, body) => {
      if (command.name !== 'party.health') return party.call(command, body);
      return calls.health++ < times ? Promise.reject(failure()) : party.call(command, body);
    },
  };
  return { channels: new Map([...federation.channels, ['ecommerce', channel]]), calls };
}

const run = (channels: ReadonlyMap<string, PartyChannel>) =>
  new JobRunner(
    spec(),
    channels,
    { audit: async () => undefined, phase: async () => undefined, progress: () => undefined },
    { strategies: jobStrategies() },
  ).run();

describe('a job started while NATS comes back', () => {
  let federation: InProcessFederation;
  beforeAll(async () => {
    federation = await inProcessFederation(parties, DATA, { record: false });
  });

  it('waits out a reconnecting client and a subscription not back yet, then trains', async () => {
    const reconnecting = failingHealth(federation, 2, () =>
      Object.assign(new Error('the NATS server (nats://127.0.0.1:4222) did not answer: Connection lost'), {
        failedAt: 'nats',
      }),
    );
    expect(isSplitLrResult(await run(reconnecting.channels))).toBe(true);
    expect(reconnecting.calls.health).toBe(3);

    const notSubscribed = failingHealth(
      federation,
      2,
      () =>
        new Error('Empty response. There are no subscribers listening to that message ("vfl.ecommerce.party.command")'),
    );
    expect(isSplitLrResult(await run(notSubscribed.channels))).toBe(true);
    expect(notSubscribed.calls.health).toBe(3);
  }, 60_000);

  it('fails at once on any other failure of the first call', async () => {
    const refusing = failingHealth(federation, 1, () => new Error('connection reset'));
    await expect(run(refusing.channels)).rejects.toThrow('ecommerce failed at party.health: connection reset');
    expect(refusing.calls.health).toBe(1);
  });
});
