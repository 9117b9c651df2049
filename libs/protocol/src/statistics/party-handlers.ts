/**
 * Statistics at a party: every column of its own file, over the aligned rows, computed here. The
 * full summary stays with the party (kept as its model at export); the reply carries only the
 * statistics the job's `share` names. Missing values (empty cells) are counted, not refused.
 */
import { columnStatistics, ColumnStatistics } from '@vfl/ml';
import { JobSlot, PartyJob } from '../party/party-job';
import { onJobCommand, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import type { StoredPartyModel } from '../party/stored-model';
import { checked } from '../wire/command';
import { computeStatistics, SharedColumnStatistics } from './commands';
import { statisticsSettings, StatisticsSettings } from './settings';
import { savedPartBase } from '../party/saved-part';

export const STATISTICS = 'statistics';

export const STATISTICS_SETTINGS = new JobSlot<StatisticsSettings>('statistics settings');
const SUMMARY = new JobSlot<ColumnStatistics[]>('statistics', 'no statistics yet (stats.compute not run)');

/** What a party keeps of a statistics job: every statistic of every one of its columns. */
export interface StatisticsPartyModel extends StoredPartyModel {
  readonly family: 'statistics';
  readonly statistics: ColumnStatistics[];
}

/** Every column's full statistics over the aligned rows (kept in the job). */
export function partyStatistics(job: PartyJob, settings: StatisticsSettings): ColumnStatistics[] {
  const a = job.requireAligned();
  const rows = Int32Array.from({ length: a.rows }, (_, i) => i);
  const width = a.columnNames.length;
  const all = a.columnNames.map((name, j) => columnStatistics(a.raw, width, j, name, rows, settings.quantiles));
  job.set(SUMMARY, all);
  return all;
}

/** The statistics this party computed in the job, if it did. */
export function keptStatistics(job: PartyJob): ColumnStatistics[] | undefined {
  return job.find(SUMMARY);
}

/** The part of a column's statistics its owner shares. */
export function sharedPart(s: ColumnStatistics, share: StatisticsSettings['share']): SharedColumnStatistics {
  const out: Record<string, unknown> = { column: s.column };
  for (const name of share) out[name] = s[name];
  return out as SharedColumnStatistics;
}

export function statisticsHooks(settingsOf: (job: PartyJob) => StatisticsSettings): PartyModelHooks {
  return {
    missingValues: true,
    exportModel(job, node): StatisticsPartyModel {
      return {
        ...savedPartBase(job, node.partyId, { clipSigma: 0 }),
        family: 'statistics',
        statistics: job.find(SUMMARY) ?? partyStatistics(job, settingsOf(job)),
      };
    },
  };
}

export const statisticsHandlers: PartyHandlerGroup = {
  model: STATISTICS,
  hooks: {
    ...statisticsHooks((job) => job.get(STATISTICS_SETTINGS)),
    prepare(job, raw) {
      job.set(STATISTICS_SETTINGS, checked(statisticsSettings, raw, `job ${job.id}: statistics`));
    },
  },
  commands: [
    onJobCommand(computeStatistics, (_, job) => {
      const settings = job.get(STATISTICS_SETTINGS);
      return { columns: partyStatistics(job, settings).map((s) => sharedPart(s, settings.share)) };
    }),
  ],
};
