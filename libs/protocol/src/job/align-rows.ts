/** After PSI: a party keeps the rows of the shared IDs, in their order, split and standardised. */
import { selectRows } from '@vfl/data';
import { withIntercept, trainValidationSplit, Standardizer } from '@vfl/ml';
import { PartyError } from '../party/party-error';
import type { PartyJob } from '../party/party-job';

export function alignRows(
  j: PartyJob,
  sharedIds: readonly string[],
): { size: number; trainRows: number; validationRows: number } {
  if (sharedIds.length === 0) throw new PartyError('no shared IDs: the intersection is empty');
  const table = selectRowsOf(j, sharedIds);
  const rows = sharedIds.length;
  const { validationFraction, seed, clipSigma } = j.settings;
  const split = trainValidationSplit(rows, validationFraction, seed);
  const width = table.featureNames.length;
  const standardizer = Standardizer.fit(table.features, width, split.train);
  const standardized = standardizer.transform(table.features, width, clipSigma);
  const matrix = j.role === 'label' ? withIntercept(standardized, width) : standardized;
  const columns = j.role === 'label' ? width + 1 : width;
  j.aligned = {
    rows,
    matrix,
    raw: table.features,
    standardized,
    columns,
    columnNames: table.featureNames,
    labels: table.labels,
    ...(table.targets ? { targets: table.targets, classCount: table.classCount } : {}),
    split,
    standardizer,
  };
  return { size: rows, trainRows: split.train.length, validationRows: split.validation.length };
}

function selectRowsOf(j: PartyJob, sharedIds: readonly string[]) {
  const table = selectRows(j.requireTable(), sharedIds);
  j.table = undefined;
  return table;
}
