/**
 * Scoring new IDs with a trained model (docs/protocol.md, prediction): every party loads its saved
 * part; split LR: feature parties send partial logits to the label party, which combines them;
 * split NN: the evaluation steps run over the requested rows, then the label party hands over the scores.
 */
import { z } from 'zod';
import { MAX_CLASSES } from '@vfl/data';
import { bytes, defineCommand, empty, jobId, jobRequest, nonNegativeInt } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';
import { dataReference, roster } from '../wire/roster';

/** Most IDs one prediction request may score. */
export const MAX_PREDICTION_IDS = 100_000;

export const prepare = defineCommand(
  'predict.prepare',
  z.object({
    /** The prediction's own id (its envelopes and audit chain). */
    jobId,
    /** The training job whose model scores. */
    modelJobId: jobId,
    roster,
    ids: z.array(z.string().max(256)).min(1).max(MAX_PREDICTION_IDS),
    /** Where the party reads the rows to score; by default the file it trained on. */
    data: dataReference.optional(),
  }),
  z.object({
    rows: nonNegativeInt,
    columns: nonNegativeInt.optional(),
    modelDigest: z.string(),
    modelBytes: nonNegativeInt,
  }),
);
/** Feature party (split LR): send its partial logits to the label party. */
export const share = defineCommand('predict.share', jobRequest, empty);
/**
 * Label party: the scores, as float64 bytes in request order: a probability (binary), a value
 * (regression), or `classes` probabilities per ID, row after row (multiclass).
 */
export const combine = defineCommand(
  'predict.combine',
  jobRequest,
  z.object({ scores: bytes, classes: z.number().int().min(2).max(MAX_CLASSES).optional() }),
);

export const partialLogits = definePeerMessage('peer.predict.logits', z.object({ values: bytes }));
