/** After PSI: a party keeps the rows of the shared IDs, in their order, split and standardised. */
import { applyPreprocessing, fitPreprocessing, hasPreprocessing, selectRows } from '@vfl/data';
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
  // Declared fills and encodings are fitted on this party's training rows only, like the standardiser.
  const preprocessing = hasPreprocessing(j.data) ? fitPreprocessing(table, j.data, split.train) : undefined;
  const features = preprocessing ? applyPreprocessing(table, preprocessing) : table.features;
  const columnNames = preprocessing ? preprocessing.outputColumns : table.featureNames;
  const width = columnNames.length;
  const standardizer = Standardizer.fit(features, width, split.train);
  const standardized = standardizer.transform(features, width, clipSigma);
  const matrix = j.role === 'label' ? withIntercept(standardized, width) : standardized;
  const columns = j.role === 'label' ? width + 1 : width;
  j.aligned = {
    rows,
    matrix,
    raw: features,
    standardized,
    columns,
    columnNames,
    labels: table.labels,
    ...(table.targets ? { targets: table.targets, classCount: table.classCount } : {}),
    split,
    standardizer,
    ...(preprocessing ? { preprocessing } : {}),
  };
  return { size: rows, trainRows: split.train.length, validationRows: split.validation.length };
}

function selectRowsOf(j: PartyJob, sharedIds: readonly string[]) {
  const table = selectRows(j.requireTable(), sharedIds);
  j.table = undefined;
  return table;
}
