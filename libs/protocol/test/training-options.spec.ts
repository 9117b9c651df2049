/**
 * Training options through the whole protocol (real CKKS, real PSI, in one process) on the breast
 * cancer data: row weights, L1, schedules, early stopping, and divergence.
 */
import * as path from 'node:path';
import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters, resolvePositiveWeight } from '@vfl/ml';
import { runTwoPartyJob } from '../src';
import { plaintextReference } from '../src/plaintext-reference';
import { TrainingDivergedError } from '../src';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const files = { dataRoot: DATA, guest: 'breast_hetero_guest.csv', host: 'breast_hetero_host.csv' };
const base: LrHyperparameters = { ...DEFAULT_LR_HYPERPARAMETERS, batchSize: 128, learningRate: 0.05, seed: 3 };

describe('split LR training options', () => {
  it('weights positive rows, penalises L1 and follows a cosine schedule exactly as the plaintext algorithm does', async () => {
    const hp: LrHyperparameters = { ...base, epochs: 3, positiveWeight: 2.5, l1: 0.002, schedule: 'cosine' };
    const { federation, result } = await runTwoPartyJob({ ...files, hyperparameters: hp, record: false });
    const reference = await plaintextReference(path.join(DATA, files.guest), path.join(DATA, files.host), hp);
    const federated = [...federation.models.get('bank')!.weights, ...federation.models.get('ecommerce')!.weights];
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference.weights[j])))).toBeLessThan(1e-3);
    // The options matter: the unweighted constant-rate model is another model.
    const plain = await plaintextReference(path.join(DATA, files.guest), path.join(DATA, files.host), {
      ...base,
      epochs: 3,
    });
    expect(Math.max(...plain.weights.map((w, j) => Math.abs(w - reference.weights[j])))).toBeGreaterThan(1e-2);
    expect(result.earlyStopping).toBeNull();
  }, 120_000);

  it('weights positives "balanced" (negatives / positives of the training rows) as the plaintext algorithm does', async () => {
    const hp: LrHyperparameters = { ...base, epochs: 2, positiveWeight: 'balanced' };
    const { federation } = await runTwoPartyJob({ ...files, hyperparameters: hp, record: false });
    const reference = await plaintextReference(path.join(DATA, files.guest), path.join(DATA, files.host), hp);
    const federated = [...federation.models.get('bank')!.weights, ...federation.models.get('ecommerce')!.weights];
    expect(Math.max(...federated.map((w, j) => Math.abs(w - reference.weights[j])))).toBeLessThan(1e-3);
    // "balanced" is the explicit weight negatives / positives, and not the unweighted model.
    const labels = Uint8Array.from([1, 0, 0, 0, 1, 0, 1]);
    expect(resolvePositiveWeight(hp, labels, [0, 1, 2, 3, 4])).toBe(3 / 2);
    expect(() => resolvePositiveWeight(hp, labels, [1, 2])).toThrow(
      'needs both classes among the training rows (0 positive of 2)',
    );
    const plain = await plaintextReference(path.join(DATA, files.guest), path.join(DATA, files.host), {
      ...base,
      epochs: 2,
    });
    expect(Math.max(...plain.weights.map((w, j) => Math.abs(w - reference.weights[j])))).toBeGreaterThan(1e-2);
  }, 120_000);

  it("stops early when validation AUC stops improving and keeps the best epoch's model", async () => {
    const hp: LrHyperparameters = {
      ...base,
      epochs: 40,
      learningRate: 0.2,
      earlyStopping: { metric: 'auc', patience: 2 },
    };
    const { result } = await runTwoPartyJob({ ...files, hyperparameters: hp, record: false });
    const stop = result.earlyStopping!;
    expect(stop).toMatchObject({ metric: 'auc', stoppedEarly: true });
    expect(stop.stoppedAtEpoch).toBeLessThan(40);
    expect(stop.stoppedAtEpoch - stop.bestEpoch).toBe(2);
    expect(result.epochs).toHaveLength(stop.stoppedAtEpoch);
    const best = Math.max(...result.epochs.map((e) => e.validation.auc));
    expect(result.epochs[stop.bestEpoch - 1].validation.auc).toBe(best);
    // The final model is the best epoch's: its validation AUC, recomputed after the restore, is that epoch's.
    expect(result.validation.auc).toBeCloseTo(best, 12);
  }, 180_000);

  it("with early stopping, a run that blows up after a good epoch ends on that epoch's model instead of failing", async () => {
    // A learning rate that grows 60% an epoch: epoch 1 is fine, epoch 2 explodes.
    const hp: LrHyperparameters = {
      ...base,
      epochs: 12,
      optimizer: 'sgd',
      l2: 0,
      learningRate: 2,
      schedule: 'exponential',
      decayRate: 1.6,
      earlyStopping: { metric: 'loss', patience: 20 },
    };
    const { result } = await runTwoPartyJob({ ...files, hyperparameters: hp, record: false });
    expect(result.earlyStopping).toEqual({
      metric: 'loss',
      bestEpoch: 1,
      stoppedAtEpoch: 2,
      stoppedEarly: true,
      reason: 'diverged',
    });
    expect(result.validation.logLoss).toBeCloseTo(result.epochs[0].validation.logLoss, 12);
  }, 120_000);

  it('stops a diverging run with a message naming the epoch and the learning rate', async () => {
    const hp: LrHyperparameters = { ...base, epochs: 5, optimizer: 'sgd', learningRate: 10, l2: 0 };
    const run = runTwoPartyJob({ ...files, hyperparameters: hp, record: false });
    await expect(run).rejects.toThrow(TrainingDivergedError);
    await expect(run).rejects.toThrow(/training diverged at epoch \d+: .*lower the learning rate \(10\)/);
  }, 120_000);
});
