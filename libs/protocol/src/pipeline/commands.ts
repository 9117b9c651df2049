/**
 * A pipeline's own commands (the steps' commands are their models': stats.*, bin.*, lr.*):
 *   pipe.stage   which step's keys the next he.keys installs (binning's BFV or split LR's CKKS)
 *   pipe.encode  each party replaces its columns by the WOE of the selected ones (split LR's input)
 *   score.card   each party turns its LR weights and WOE into points per bin (the label party: base points)
 *   score.rows   the validation rows' scores: every party totals its own points per row, the label party adds
 */
import { z } from 'zod';
import { bytes, defineCommand, empty, jobId, jobRequest, nonNegativeInt } from '../wire/command';
import { definePeerMessage } from '../wire/peer-envelope';

export const stage = defineCommand('pipe.stage', z.object({ jobId, stage: z.enum(['binning', 'split-lr']) }), empty);
export const encode = defineCommand(
  'pipe.encode',
  z.object({ jobId, columns: z.array(nonNegativeInt).max(1 << 16) }),
  z.object({ columns: nonNegativeInt }),
);
export const scorecard = defineCommand('score.card', jobRequest, z.object({ features: nonNegativeInt }));
export const scoreRows = defineCommand(
  'score.rows',
  jobRequest,
  z.object({
    rows: nonNegativeInt,
    /** Label party only: the scores' AUC (a higher score is a lower risk) and their mean. */
    auc: z.number().optional(),
    meanScore: z.number().optional(),
  }),
);
/** A feature party's points per validation row, summed over its own features (float64). */
export const pointTotals = definePeerMessage('peer.score.totals', z.object({ totals: bytes }));
