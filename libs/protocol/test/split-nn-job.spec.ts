/**
 * A split-NN job through the whole protocol in one process: PSI alignment, CKKS interactive layer
 * over sealed, signed peer envelopes and coordinator commands (MessagePack-encoded as on the
 * wire), evaluation at the label party, early stopping, audit. Breast cancer data.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AuditEventInput } from '@vfl/audit';
import { type NnArchitecture, DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { inProcessFederation } from '../src';
import { isSplitNnResult, JobRunner, jobStrategies, SplitNnJobResult } from '../src';
import { splitNnPlaintextReference } from '../src/split-nn/runner';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const architecture: NnArchitecture = {
  bottom: [
    { units: 16, activation: 'relu' },
    { units: 4, activation: 'linear' },
  ],
  interactive: { units: 8, activation: 'relu', learningRate: 0.05 },
  top: [],
  training: {
    optimizer: 'adam',
    learningRate: 0.01,
    batchSize: 64,
    epochs: 6,
    seed: 42,
    validationFraction: 0.3,
    earlyStopping: { patience: 3 },
  },
};

describe('split-NN job (in-process parties, real CKKS and PSI)', () => {
  let result: SplitNnJobResult;
  const audit: AuditEventInput[] = [];

  beforeAll(async () => {
    const federation = await inProcessFederation(
      [
        { partyId: 'bank', role: 'label' },
        { partyId: 'ecommerce', role: 'feature' },
      ],
      DATA,
    );
    const out = await new JobRunner(
      {
        jobId: randomUUID(),
        model: 'split-nn',
        nn: { architecture, defence: { kind: 'none' } },
        hyperparameters: {
          ...DEFAULT_LR_HYPERPARAMETERS,
          epochs: 6,
          batchSize: 64,
          seed: 42,
          validationFraction: 0.3,
          clipSigma: 0,
        },
        parties: [
          { partyId: 'bank', role: 'label', data: { path: 'breast_hetero_guest.csv', labelColumn: 'y' } },
          { partyId: 'ecommerce', role: 'feature', data: { path: 'breast_hetero_host.csv' } },
        ],
      },
      federation.channels,
      { audit: async (e) => void audit.push(e), phase: async () => undefined, progress: () => undefined },
      { strategies: jobStrategies() },
    ).run();
    if (!isSplitNnResult(out)) throw new Error('not a split-NN result');
    result = out;
  }, 300_000);

  it('trains to the AUC of the same network trained centrally, and beats the label party alone', async () => {
    const central = await splitNnPlaintextReference({
      labelFile: path.join(DATA, 'breast_hetero_guest.csv'),
      featureFiles: [path.join(DATA, 'breast_hetero_host.csv')],
      labelId: 'bank',
      featureIds: ['ecommerce'],
      architecture,
    });
    expect(result.intersection).toBe(569);
    expect(result.validation.auc).toBeGreaterThan(0.97);
    expect(Math.abs(result.validation.auc - central.validationAuc)).toBeLessThan(0.01);
    expect(result.validation.auc).toBeGreaterThanOrEqual(result.labelOnly.validation.auc - 0.01);
    expect(
      result.train.confusion.tp + result.train.confusion.fp + result.train.confusion.tn + result.train.confusion.fn,
    ).toBe(result.trainRows);
    expect(result.epochs.length).toBeGreaterThan(0);
    expect(result.decryptions).toBeGreaterThan(0);
    expect(result.bytesPerEpoch).toBeGreaterThan(0);
  });

  it('audits every coordinator release and party payload by digest, and every peer message', () => {
    const steps = new Set(audit.map((e) => e.step));
    for (const s of [
      'job.roster',
      'psi.result',
      'he.keys',
      'nn.forward_share',
      'nn.products',
      'nn.release',
      'nn.backward_share',
      'nn.backward_products',
      'peer.nn.forward',
      'peer.nn.backward',
      'nn.epoch',
    ])
      expect(steps).toContain(s);
    for (const e of audit.filter((x) => x.messageDigest)) expect(e.byteSize).toBeGreaterThan(0);
  });
});
