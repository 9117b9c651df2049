/**
 * A SecureBoost job whose feature party crashes while growing tree 3 resumes from the parties'
 * per-tree checkpoints of tree 2 (restarted party nodes sharing only their checkpoint store) and
 * reaches the trees an uninterrupted run grows; a resume with other settings is refused by name.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import {
  inProcessFederation,
  InProcessFederation,
  isSecureBoostResult,
  JobRunner,
  jobStrategies,
  JobSpec,
  PartyCallError,
  SecureBoostJobResult,
  StoredCheckpoint,
} from '../src';
import * as sb from '../src/secureboost/commands';
import { SecureBoostLabel } from '../src/secureboost/label-party';
import { withCrashingParty } from './crashing-channel';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const parties = [
  { partyId: 'bank', role: 'label' as const },
  { partyId: 'ecommerce', role: 'feature' as const },
];
const settings = { trees: 5, maxDepth: 3, seed: 4, learningRate: 0.4, earlyStopping: { patience: 10 } };

function spec(jobId: string, resume?: JobSpec['resume'], secureboost: JobSpec['secureboost'] = settings): JobSpec {
  return {
    jobId,
    model: 'secureboost',
    secureboost,
    hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
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
  checkpointed: number[] = [],
): Promise<SecureBoostJobResult> {
  const result = await new JobRunner(
    s,
    channels,
    {
      audit: async () => undefined,
      phase: async () => undefined,
      progress: () => undefined,
      checkpointed: (e) => void checkpointed.push(e),
    },
    { strategies: jobStrategies(), ckksThreads: 0 },
  ).run();
  if (!isSecureBoostResult(result)) throw new Error('not a secureboost result');
  return result;
}

describe('resuming an interrupted SecureBoost job from per-tree checkpoints', () => {
  it('grows the trees of an uninterrupted run, and refuses other settings', async () => {
    const begin = jest.spyOn(SecureBoostLabel.prototype, 'beginTree');
    const uninterrupted = await inProcessFederation(parties, DATA, { record: false, ckksThreads: 0 });
    const whole = await run(uninterrupted, spec(randomUUID()));
    const wholeTrees = (begin.mock.contexts.at(-1) as SecureBoostLabel).booster.trees;

    const checkpoints = new Map<string, StoredCheckpoint>();
    const first = await inProcessFederation(parties, DATA, { record: false, checkpoints, ckksThreads: 0 });
    // The feature party "crashes" building the histograms of tree 3 (0-based 2).
    const crashing = withCrashingParty(
      first.channels,
      'ecommerce',
      (command, body) => command === sb.histograms.name && body.tree === 2,
    );
    const failedId = randomUUID();
    const checkpointed: number[] = [];
    await expect(run(first, spec(failedId), crashing, checkpointed)).rejects.toThrow(PartyCallError);
    expect(checkpointed).toEqual([1, 2]);

    const restarted = await inProcessFederation(parties, DATA, { record: false, checkpoints, ckksThreads: 0 });
    await expect(
      run(restarted, spec(randomUUID(), { fromJobId: failedId, epoch: 2 }, { ...settings, maxDepth: 4 })),
    ).rejects.toThrow('the secureboost settings differ');
    const resumed = await run(restarted, spec(randomUUID(), { fromJobId: failedId, epoch: 2 }));
    const resumedTrees = (begin.mock.contexts.at(-1) as SecureBoostLabel).booster.trees;
    begin.mockRestore();
    expect(resumedTrees).toEqual(wholeTrees);
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(resumed.validation.auc).toBe(whole.validation.auc);
    expect(resumed.keptTrees).toBe(whole.keptTrees);
  }, 240_000);
});
