/** A split-NN job's settings as job.prepare carries them, and the coordinator's early-stopping record. */
import { z } from 'zod';

export const nnSettingsSchema = z.object({
  /** Checked in full by validateArchitecture / validateDefence (ml/nn/architecture.ts, defence.ts). */
  architecture: z.record(z.string(), z.unknown()),
  defence: z.record(z.string(), z.unknown()).optional(),
});

export const nnEarlyStoppingSchema = z.object({
  bestEpoch: z.number().int().min(1),
  bestAuc: z.number().refine(Number.isFinite),
  sinceBest: z.number().int().min(0),
});
