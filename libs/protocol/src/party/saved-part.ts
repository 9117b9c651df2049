/**
 * What every model's saved part records, whatever the model: the job, the party, the data it
 * trained on, its columns and how raw values become model inputs. Each model adds its own fields.
 */
import type { PartyJob } from './party-job';
import type { StoredPartyModel } from './stored-model';

export function savedPartBase(
  job: PartyJob,
  partyId: string,
  options: { clipSigma: number; columns?: string[] },
): StoredPartyModel {
  const a = job.requireAligned();
  return {
    jobId: job.id,
    partyId,
    role: job.role,
    data: job.data,
    idRules: job.idRules,
    columns: options.columns ?? [...a.columnNames],
    standardization: {
      means: Array.from(a.standardizer.means),
      deviations: Array.from(a.standardizer.deviations),
      clipSigma: options.clipSigma,
    },
  };
}
