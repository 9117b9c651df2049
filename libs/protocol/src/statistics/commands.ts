/**
 * The statistics model's one command: each party summarises its own columns over the aligned
 * rows and replies with only the statistics the job says it shares.
 */
import { z } from 'zod';
import { defineCommand, jobRequest, nonNegativeInt } from '../wire/command';

const nullableNumber = z.number().nullable();

/** One column's shared statistics: only the fields the job's `share` names are present. */
export const sharedColumn = z
  .object({
    column: z.string().max(256),
    count: nonNegativeInt,
    missingRate: z.number().min(0).max(1),
    mean: nullableNumber,
    std: nullableNumber,
    min: nullableNumber,
    max: nullableNumber,
    quantiles: z.record(z.string().max(32), nullableNumber),
    distinct: nonNegativeInt,
  })
  .partial()
  .required({ column: true })
  .strict();
export type SharedColumnStatistics = z.output<typeof sharedColumn>;

export const computeStatistics = defineCommand(
  'stats.compute',
  jobRequest,
  z.object({ columns: z.array(sharedColumn).max(1 << 16) }),
);
