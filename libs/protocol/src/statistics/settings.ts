/**
 * A statistics job's settings (the API's `statistics` object), checked by every party at
 * job.prepare with the same schema: which statistics the owner shares, at which quantiles.
 */
import { z } from 'zod';
import { DEFAULT_QUANTILES, STATISTIC_NAMES } from '@vfl/ml';

export const statisticsSettings = z
  .object({
    /** What leaves each party: the named statistics of each of its columns (the rest stays there). */
    share: z.array(z.enum(STATISTIC_NAMES)).max(STATISTIC_NAMES.length).default(['count', 'missingRate']),
    quantiles: z
      .array(z.number().min(0).max(1))
      .max(32)
      .default([...DEFAULT_QUANTILES]),
  })
  .strict();

export type StatisticsSettings = z.output<typeof statisticsSettings>;
export type StatisticsInput = z.input<typeof statisticsSettings>;
