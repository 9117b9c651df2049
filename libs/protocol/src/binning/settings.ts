/**
 * A binning job's settings (the API's `binning` object), checked by every party at job.prepare
 * with the same schema (docs/protocol.md §6).
 */
import { z } from 'zod';

/** Fine bins a product of the packing can hold per feature with room to spare (N = 4096). */
export const BINNING_MAX_FINE_BINS = 126;

export const binningSettings = z
  .object({
    /** quantile: equal-frequency cuts; equal-width: equal-length cuts; chimerge: fine quantile bins merged by χ². */
    method: z.enum(['quantile', 'equal-width', 'chimerge']).default('quantile'),
    /** Value bins per feature at most (the missing-value bin comes on top). */
    maxBins: z.number().int().min(2).max(64).default(10),
    /** chimerge: the fine quantile bins it starts from. */
    fineBins: z.number().int().min(2).max(BINNING_MAX_FINE_BINS).default(32),
    /** chimerge: merge further until WOE rises or falls monotonically over the value bins. */
    monotonic: z.boolean().default(false),
    /**
     * No bin whose event count reaches its owner holds fewer rows: smaller value bins merge into a
     * neighbour first, and a smaller non-empty missing-value bin is an error naming the column.
     */
    minBinRows: z.number().int().min(1).max(1_000_000).default(20),
    /**
     * What reaches the coordinator: `iv` (IV per feature), `woe` (also WOE and IV per bin; never
     * row or event counts, nor cut points), `none`. The owner always keeps its full tables.
     */
    share: z.enum(['iv', 'woe', 'none']).default('woe'),
    /** Rows kept out of the WOE (for a later model's validation); 0: every aligned row counts. */
    validationFraction: z.number().min(0).max(0.95).default(0),
    seed: z.number().int().default(0),
  })
  .strict();

export type BinningSettings = z.output<typeof binningSettings>;
export type BinningInput = z.input<typeof binningSettings>;

/** The bins whose event counts are computed under encryption (chimerge merges them afterwards). */
export function countedBins(s: Pick<BinningSettings, 'method' | 'maxBins' | 'fineBins'>): number {
  return s.method === 'chimerge' ? Math.max(s.fineBins, s.maxBins) : s.maxBins;
}
