/**
 * Split logistic regression's commands and peer messages. One round (mini-batch b of epoch e):
 *   every feature party: lr.forward    (sends Enc(u_f/4) to the label party: peer.lr.forward)
 *   label party:        lr.residual   (sends Enc(d) to the feature parties: peer.lr.residual)
 *   every party:        lr.gradient   (returns its masked Enc(gradient); the coordinator decrypts)
 *   every party:        lr.update     (removes its mask, steps its optimizer)
 * Evaluation: lr.share_logits (feature parties send partial logits: peer.lr.logits), lr.evaluate.
 */
import { z } from 'zod';
import { bytes, defineCommand, empty, jobId, nonNegativeInt, round, split } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';
import { evaluationReply } from '../job/evaluation';

export const forward = defineCommand('lr.forward', round, empty);
export const residual = defineCommand('lr.residual', round, empty);
export const gradient = defineCommand('lr.gradient', round, z.object({ gradient: bytes }));
export const update = defineCommand('lr.update', round.extend({ released: bytes }), empty);
export const shareLogits = defineCommand('lr.share_logits', z.object({ jobId, split, round: nonNegativeInt }), empty);
export const evaluate = defineCommand(
  'lr.evaluate',
  z.object({ jobId, split, round: nonNegativeInt, detailed: z.boolean() }),
  evaluationReply,
);

const batchRef = { epoch: nonNegativeInt, batch: nonNegativeInt };
const ciphertexts = z.array(bytes).max(4096);

export const forwardShare = definePeerMessage(
  'peer.lr.forward',
  z.object({ ...batchRef, chunks: ciphertexts, linear: ciphertexts.optional() }),
);
export const residualShare = definePeerMessage('peer.lr.residual', z.object({ ...batchRef, chunks: ciphertexts }));
export const logits = definePeerMessage('peer.lr.logits', z.object({ round: nonNegativeInt, split, values: bytes }));

/** What the coordinator keeps with each split-LR checkpoint, to go on with the run as if uninterrupted. */
export const trainingRecord = z.object({
  /** Validation log loss of the run's first epoch (the divergence check's reference). */
  firstLoss: z.number().refine(Number.isFinite, 'expected a finite number'),
  earlyStopping: z
    .object({
      bestEpoch: z.number().int().min(1),
      bestValue: z.number().refine(Number.isFinite),
      sinceBest: nonNegativeInt,
    })
    .optional(),
});
export type LrTrainingRecord = z.output<typeof trainingRecord>;

/** A split-LR job's settings at job.prepare: its hyperparameters (ml/logistic.ts), checked by shape here and by value there. */
export const settings = z.object({
  epochs: z.number().int().min(1),
  batchSize: z.number().int().min(1),
  learningRate: z.number().positive(),
  l2: z.number().min(0),
  optimizer: z.enum(['sgd', 'adam']),
  seed: z.number().int(),
  validationFraction: z.number().min(0).max(0.95),
  clipSigma: z.number().min(0).optional(),
  sigmoid: z.enum(['taylor', 'cubic']).optional(),
  l1: z.number().min(0).optional(),
  schedule: z.enum(['constant', 'cosine', 'exponential']).optional(),
  decayRate: z.number().positive().optional(),
  positiveWeight: z.union([z.number().positive().refine(Number.isFinite), z.literal('balanced')]).optional(),
  earlyStopping: z
    .object({
      metric: z.enum(['auc', 'loss']),
      patience: z.number().int().min(1),
      minDelta: z.number().min(0).optional(),
    })
    .optional(),
});
