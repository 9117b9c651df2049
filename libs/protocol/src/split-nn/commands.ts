/**
 * Split NN's commands and peer messages (docs/split-nn.md). One training batch:
 *   every feature party: nn.forward     (Enc(α_f) to the label party: peer.nn.forward; its masked share here)
 *   label party:        nn.products    (Enc(α_f ⊙ V_f) + masks, per feature party)
 *   label party:        nn.train_step  (on the coordinator's release; Enc(B·δ̃) to each feature party: peer.nn.backward)
 *   every feature party: nn.backward, nn.apply
 * Evaluation and prediction run nn.forward, nn.products and nn.predict per chunk, then nn.metrics.
 */
import { z } from 'zod';
import { bytes, defineCommand, empty, jobId, nonNegativeInt, split } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';
import { objectiveEvaluationReply } from '../job/evaluation';

const batchKey = { phase: z.enum(['train', 'eval']), epoch: nonNegativeInt, batch: nonNegativeInt };
const step = z.object({ jobId, ...batchKey });
const ciphertexts = z.array(bytes).max(65_536);

export const forward = defineCommand(
  'nn.forward',
  step.extend({ split: split.optional() }),
  z.object({ share: bytes }),
);
export const products = defineCommand(
  'nn.products',
  step.extend({ split: split.optional() }),
  z.object({ products: z.array(ciphertexts).max(8) }),
);
export const trainStep = defineCommand(
  'nn.train_step',
  step.extend({ released: bytes }),
  z.object({ shares: z.array(z.object({ party: z.string(), gShare: bytes, wShare: bytes })).max(8), loss: z.number() }),
);
export const backward = defineCommand('nn.backward', step, z.object({ g: ciphertexts, w: ciphertexts }));
export const apply = defineCommand('nn.apply', step.extend({ released: bytes }), empty);
export const predict = defineCommand('nn.predict', step.extend({ split: split.optional(), released: bytes }), empty);
export const metrics = defineCommand(
  'nn.metrics',
  z.object({ jobId, split, detailed: z.boolean() }),
  objectiveEvaluationReply,
);

export const forwardToLabel = definePeerMessage(
  'peer.nn.forward',
  z.object({ ...batchKey, party: z.string(), outputWidth: nonNegativeInt, alpha: ciphertexts, shareMask: bytes }),
);
export const backwardToFeature = definePeerMessage(
  'peer.nn.backward',
  z.object({ ...batchKey, delta: ciphertexts, shareMasks: z.tuple([bytes, bytes]) }),
);
