/**
 * Statistics, the coordinator's side (docs/protocol.md §6): after alignment, every party
 * summarises its own columns over the shared rows (stats.compute) and returns only what the job
 * says it shares; each keeps the full summary as its model.
 */
import type { Datasets } from '../job/job-types';
import type { JobContext, JobStrategy } from '../job/strategy';
import type { ModelManifest } from '../model-manifest';
import { COORDINATOR_ID } from '../wire/roster';
import { computeStatistics, SharedColumnStatistics } from './commands';
import { STATISTICS } from './party-handlers';
import { statisticsSettings, StatisticsSettings } from './settings';

export interface PartyStatistics {
  readonly partyId: string;
  readonly columns: readonly SharedColumnStatistics[];
}

export interface StatisticsJobResult {
  readonly model: 'statistics';
  readonly intersection: number;
  /** Which statistics the parties shared (every other one stayed with its owner). */
  readonly shared: StatisticsSettings['share'];
  readonly parties: readonly PartyStatistics[];
  readonly manifest: ModelManifest;
  readonly datasets: Datasets;
}

export function statisticsSettingsOf(spec: { readonly statistics?: unknown }): StatisticsSettings {
  const parsed = statisticsSettings.safeParse(spec.statistics ?? {});
  if (!parsed.success)
    throw new RangeError(
      `statistics: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Every party's shared statistics (the step a pipeline runs too). */
export async function collectStatistics(ctx: JobContext): Promise<PartyStatistics[]> {
  return Promise.all(
    [ctx.label, ...ctx.features].map(async (c) => {
      const { columns } = await ctx.call(c, computeStatistics, { jobId: ctx.spec.jobId });
      await ctx.audit({
        step: 'stats.shared',
        sender: c.partyId,
        receiver: COORDINATOR_ID,
        detail: { columns: columns.length },
      });
      return { partyId: c.partyId, columns };
    }),
  );
}

export const statisticsStrategy: JobStrategy<StatisticsJobResult> = {
  model: STATISTICS,
  alignment: 'intersection',
  check: (spec) => void statisticsSettingsOf(spec),
  // Nothing is split, clipped or batched: every aligned row counts.
  dataSettings: () => ({ validationFraction: 0, seed: 0, clipSigma: 0, batchSize: 1024 }),
  settings: (spec) => statisticsSettingsOf(spec),
  async run(ctx: JobContext) {
    await ctx.phase('training');
    const parties = await collectStatistics(ctx);
    const manifest = await ctx.exportModel({ model: STATISTICS });
    return {
      model: 'statistics',
      intersection: ctx.alignment.intersection,
      shared: statisticsSettingsOf(ctx.spec).share,
      parties,
      manifest,
      datasets: ctx.datasets,
    };
  },
};
