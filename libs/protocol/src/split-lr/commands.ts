/**
 * Split logistic regression's commands and peer messages. One round (mini-batch b of epoch e):
 *   every feature party: lr.forward    (sends Enc(u_f/4) to the label party: peer.lr.forward)
 *   label party:        lr.residual   (sends Enc(d) to the feature parties: peer.lr.residual)
 *   every party:        lr.gradient   (returns its masked Enc(gradient); the coordinator decrypts)
 *   every party:        lr.update     (removes its mask, steps its optimizer)
 * Evaluation: lr.share_logits (feature parties send partial logits: peer.lr.logits), lr.evaluate.
 */
import { z } from 'zod';
import { MAX_CLASSES } from '@vfl/data';
import { bytes, defineCommand, empty, jobId, nonNegativeInt, round, split } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';
import { objectiveEvaluationReply } from '../job/evaluation';

/** A round of one model head: multiclass runs one head per class (head k: "class is k"); others only head 0. */
const headRound = round.extend({ head: z.number().int().min(1).max(MAX_CLASSES).optional() });

export const forward = defineCommand('lr.forward', headRound, empty);
export const residual = defineCommand('lr.residual', headRound, empty);
export const gradient = defineCommand('lr.gradient', headRound, z.object({ gradient: bytes }));
export const update = defineCommand('lr.update', headRound.extend({ released: bytes }), empty);
export const shareLogits = defineCommand('lr.share_logits', z.object({ jobId, split, round: nonNegativeInt }), empty);
export const evaluate = defineCommand(
  'lr.evaluate',
  z.object({ jobId, split, round: nonNegativeInt, detailed: z.boolean() }),
  objectiveEvaluationReply,
);

const batchRef = {
  epoch: nonNegativeInt,
  batch: nonNegativeInt,
  head: z.number().int().min(1).max(MAX_CLASSES).optional(),
};
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
  objective: z.enum(['binary', 'regression', 'multiclass']).optional(),
  positiveWeight: z.union([z.number().positive().refine(Number.isFinite), z.literal('balanced')]).optional(),
  earlyStopping: z
    .object({
      metric: z.enum(['auc', 'loss']),
      patience: z.number().int().min(1),
      minDelta: z.number().min(0).optional(),
    })
    .optional(),
});
