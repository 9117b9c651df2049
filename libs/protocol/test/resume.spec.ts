/**
 * A split-LR job whose feature party crashes in epoch 3 resumes from the parties' checkpoints of
 * epoch 2 (with restarted party processes: fresh PartyNodes that share only their checkpoint
 * store) and reaches the model an uninterrupted run reaches. Real CKKS and PSI, in one process.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '@vfl/audit';
import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters } from '@vfl/ml';
import * as lr from '../src/split-lr/commands';
import { inProcessFederation, InProcessFederation } from '../src';
import type { PartyCheckpoint } from '../src/split-lr/model';
import { isSplitLrResult, PartyCallError, JobRunner, jobStrategies, SplitLrJobResult, JobSpec } from '../src';
import { withCrashingParty } from './crashing-channel';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const hp: LrHyperparameters = { ...DEFAULT_LR_HYPERPARAMETERS, epochs: 5, batchSize: 128, learningRate: 0.05, seed: 9 };
const parties = [
  { partyId: 'bank', role: 'label' as const },
  { partyId: 'ecommerce', role: 'feature' as const },
];

function spec(jobId: string, resume?: JobSpec['resume']): JobSpec {
  return {
    jobId,
    model: 'split-lr',
    hyperparameters: hp,
    resume,
    parties: [
      { partyId: 'bank', role: 'label', data: { path: 'breast_hetero_guest.csv', labelColumn: 'y' } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'breast_hetero_host.csv' } },
    ],
  };
}

async function run(
  federation: InProcessFederation,
  s: JobSpec,
  channels = federation.channels,
  audit: AuditEventInput[] = [],
  checkpointed: number[] = [],
): Promise<SplitLrJobResult> {
  const result = await new JobRunner(
    s,
    channels,
    {
      audit: async (e) => void audit.push(e),
      phase: async () => undefined,
      progress: () => undefined,
      checkpointed: (e) => void checkpointed.push(e),
    },
    { strategies: jobStrategies() },
  ).run();
  if (!isSplitLrResult(result)) throw new Error('no model');
  return result;
}

describe('resuming an interrupted split-LR job from per-epoch checkpoints', () => {
  it('reaches the model of an uninterrupted run', async () => {
    const checkpoints = new Map<string, PartyCheckpoint>();
    const first = await inProcessFederation(parties, DATA, { record: false, checkpoints });
    // The feature party "crashes" at its first step of epoch 3 (0-based epoch 2).
    const crashing = withCrashingParty(
      first.channels,
      'ecommerce',
      (command, body) => command === lr.forward.name && body.epoch === 2,
    );
    const failedId = randomUUID();
    const checkpointed: number[] = [];
    await expect(run(first, spec(failedId), crashing, [], checkpointed)).rejects.toThrow(PartyCallError);
    expect(checkpointed).toEqual([1, 2]);
    expect([...checkpoints.keys()].sort()).toEqual([`${failedId}:bank`, `${failedId}:ecommerce`]);

    // Restarted parties: new nodes, the same checkpoint store.
    const restarted = await inProcessFederation(parties, DATA, { record: false, checkpoints });
    const audit: AuditEventInput[] = [];
    const resumed = await run(
      restarted,
      spec(randomUUID(), { fromJobId: failedId, epoch: 2 }),
      restarted.channels,
      audit,
    );
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([3, 4, 5]);
    expect(
      audit
        .filter((e) => e.step === 'model.resume')
        .map((e) => e.sender)
        .sort(),
    ).toEqual(['bank', 'ecommerce']);

    const reference = await inProcessFederation(parties, DATA, { record: false });
    const whole = await run(reference, spec(randomUUID()));
    const weights = (f: InProcessFederation) => [
      ...f.models.get('bank')!.weights,
      ...f.models.get('ecommerce')!.weights,
    ];
    // The same up to the coordinator's flooding noise (σ = 2^-20 per released value and step).
    const gap = Math.max(...weights(restarted).map((w, j) => Math.abs(w - weights(reference)[j])));
    expect(gap).toBeLessThan(1e-4);
    expect(Math.abs(resumed.train.auc - whole.train.auc)).toBeLessThan(1e-4);
  }, 300_000);

  it('resumes a job with early stopping: the best epoch so far and its weights travel with the checkpoint', async () => {
    // minDelta 0.5: no epoch after the first can count as better, so the job must end on epoch 1's
    // weights, which after a crash in epoch 4 exist only in the checkpoints.
    const stopping: LrHyperparameters = {
      ...hp,
      epochs: 6,
      earlyStopping: { metric: 'auc', patience: 10, minDelta: 0.5 },
    };
    const withStopping = (jobId: string, resume?: JobSpec['resume']) => ({
      ...spec(jobId, resume),
      hyperparameters: stopping,
    });
    const checkpoints = new Map<string, PartyCheckpoint>();
    const first = await inProcessFederation(parties, DATA, { record: false, checkpoints });
    const crashing = withCrashingParty(
      first.channels,
      'ecommerce',
      (command, body) => command === lr.forward.name && body.epoch === 3,
    );
    const failedId = randomUUID();
    const checkpointed: number[] = [];
    await expect(run(first, withStopping(failedId), crashing, [], checkpointed)).rejects.toThrow(PartyCallError);
    expect(checkpointed).toEqual([1, 2, 3]);
    expect(checkpoints.get(`${failedId}:bank`)!.training).toEqual({
      firstLoss: expect.any(Number),
      earlyStopping: { bestEpoch: 1, bestValue: expect.any(Number), sinceBest: 2 },
    });

    const restarted = await inProcessFederation(parties, DATA, { record: false, checkpoints });
    const resumed = await run(restarted, withStopping(randomUUID(), { fromJobId: failedId, epoch: 3 }));
    const reference = await inProcessFederation(parties, DATA, { record: false });
    const whole = await run(reference, withStopping(randomUUID()));
    expect(whole.earlyStopping).toMatchObject({ bestEpoch: 1, stoppedAtEpoch: 6 });
    expect(resumed.earlyStopping).toEqual(whole.earlyStopping);
    const weights = (f: InProcessFederation) => [
      ...f.models.get('bank')!.weights,
      ...f.models.get('ecommerce')!.weights,
    ];
    expect(Math.max(...weights(restarted).map((w, j) => Math.abs(w - weights(reference)[j])))).toBeLessThan(1e-4);

    // A job without early stopping cannot take these checkpoints, nor the other way round.
    const plain = await inProcessFederation(parties, DATA, { record: false, checkpoints });
    await expect(
      run(plain, {
        ...spec(randomUUID(), { fromJobId: failedId, epoch: 3 }),
        hyperparameters: { ...stopping, earlyStopping: undefined },
      }),
    ).rejects.toThrow(/hyperparameters differ|without early stopping|has none/);
  }, 300_000);

  it('refuses a checkpoint of other data or other hyperparameters, naming why', async () => {
    const checkpoints = new Map<string, PartyCheckpoint>();
    const federation = await inProcessFederation(parties, DATA, { record: false, checkpoints });
    const id = randomUUID();
    await run(federation, spec(id));
    const changed: JobSpec = {
      ...spec(randomUUID(), { fromJobId: id, epoch: 2 }),
      hyperparameters: { ...hp, learningRate: 0.1 },
    };
    const again = await inProcessFederation(parties, DATA, { record: false, checkpoints });
    await expect(run(again, changed)).rejects.toThrow(
      /cannot resume from job .*'s checkpoint at (bank|ecommerce): it is of epoch 4, not 2; the hyperparameters differ/,
    );
    await expect(run(again, spec(randomUUID(), { fromJobId: randomUUID(), epoch: 2 }))).rejects.toThrow(
      /holds no checkpoint of job/,
    );
    // What the coordinator kept of the run travels with each checkpoint.
    expect(checkpoints.get(`${id}:bank`)!.training).toEqual({ firstLoss: expect.any(Number) });
  }, 300_000);
});
