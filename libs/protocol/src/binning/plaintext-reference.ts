/**
 * The same WOE binning on pooled data, in plaintext: what the federated tables must equal (tests
 * and the binning benchmark). Every row trains (validationFraction 0), so row order is irrelevant.
 */
import type { PartyTable } from '@vfl/data';
import { binColumns, ColumnBinning, finishColumn, missingSlot, slotRows } from './feature-bins';
import type { BinningSettings } from './settings';

/** One party's tables from its columns and the label party's labels of the same rows (same order). */
export function pooledWoeReference(
  table: Pick<PartyTable, 'features' | 'featureNames'>,
  labels: ArrayLike<number>,
  settings: BinningSettings,
): ColumnBinning[] {
  const train = Int32Array.from({ length: labels.length }, (_, i) => i);
  const missing = missingSlot(settings);
  return binColumns(table.features, table.featureNames, train, settings).map((c) => {
    const events = new Array<number>(c.valueBins + 1).fill(0);
    for (const r of train) events[c.slots[r] === missing ? c.valueBins : c.slots[r]] += labels[r];
    return finishColumn(c, events, slotRows(c, train, missing), settings);
  });
}
