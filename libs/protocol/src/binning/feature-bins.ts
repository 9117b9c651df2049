/**
 * How a party bins its own columns for WOE, before any label is involved: cut points fitted on
 * the training rows (quantile or equal-width), value bins under `minBinRows` merged into a
 * neighbour, missing values in a bin of their own (the last slot). Columns that cannot be binned
 * are refused by name: all missing, constant, too few rows, a missing-value bin too small.
 */
import {
  BinEdges,
  binColumn,
  chiMerge,
  composeGroups,
  equalWidthEdges,
  fitBinEdges,
  groupCount,
  groupedEdges,
  identityGroups,
  mergeSmallBins,
  sumByGroup,
  woeTable,
  WoeTable,
} from '@vfl/ml';
import { PartyError } from '../party/party-error';
import { BinningSettings, countedBins } from './settings';

/** One column binned for counting: its cut points and every aligned row's slot (`slots − 1`: missing). */
export interface CountedColumn {
  readonly column: string;
  readonly edges: BinEdges;
  /** Slot per aligned row (row id order); value bins 0..valueBins−1, missing at `missingSlot`. */
  readonly slots: Uint8Array;
  readonly valueBins: number;
}

/** A finished column: the final cut points, and per bin (value bins, then missing) rows, events, WOE. */
export interface ColumnBinning {
  readonly column: string;
  readonly thresholds: number[];
  readonly table: WoeTable;
}

/** The slot of missing values: one above the most value bins any column may have. */
export function missingSlot(settings: BinningSettings): number {
  return countedBins(settings);
}

/** Bins every column of a row-major matrix for counting; a column that cannot be binned is refused by name. */
export function binColumns(
  raw: Float64Array,
  names: readonly string[],
  train: Int32Array,
  settings: BinningSettings,
): CountedColumn[] {
  const width = names.length;
  const rows = raw.length / Math.max(1, width);
  const missing = missingSlot(settings);
  return names.map((column, j) => {
    const values = columnOf(raw, width, rows, j);
    let missingRows = 0;
    for (const r of train) if (Number.isNaN(values[r])) missingRows++;
    const present = train.length - missingRows;
    if (present === 0) throw new PartyError(`binning: column ${column}: every value is missing`);
    if (missingRows > 0 && missingRows < settings.minBinRows)
      throw new PartyError(
        `binning: column ${column}: ${missingRows} missing values make a missing-value bin under minBinRows (${settings.minBinRows}); fill them or lower minBinRows`,
      );
    if (present < 2 * settings.minBinRows)
      throw new PartyError(
        `binning: column ${column}: ${present} values are too few rows for two bins of minBinRows (${settings.minBinRows})`,
      );
    const bins = countedBins(settings);
    const fitted =
      settings.method === 'equal-width' ? equalWidthEdges(values, train, bins) : fitBinEdges(values, train, bins);
    if (fitted.thresholds.length === 0)
      throw new PartyError(`binning: column ${column}: constant (one distinct value), nothing to bin`);
    const fine = binColumn(values, fitted, missing);
    const sizes = new Array<number>(fitted.thresholds.length + 1).fill(0);
    for (const r of train) if (fine[r] !== missing) sizes[fine[r]]++;
    const merged = mergeSmallBins(sizes, settings.minBinRows);
    if (groupCount(merged) < 2)
      throw new PartyError(
        `binning: column ${column}: too few rows per bin: one bin is left once bins under minBinRows (${settings.minBinRows}) merge`,
      );
    const edges = groupedEdges(fitted, merged);
    return { column, edges, slots: binColumn(values, edges, missing), valueBins: edges.thresholds.length + 1 };
  });
}

/** Column j of a row-major matrix (a plain loop: a closure per cell costs seconds at 100k × 300). */
function columnOf(raw: Float64Array, width: number, rows: number, j: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0, at = j; r < rows; r++, at += width) out[r] = raw[at];
  return out;
}

/** Rows per slot of a counted column over the training rows (value bins, then missing). */
export function slotRows(c: CountedColumn, train: Int32Array, missing: number): number[] {
  const out = new Array<number>(c.valueBins + 1).fill(0);
  for (const r of train) out[c.slots[r] === missing ? c.valueBins : c.slots[r]]++;
  return out;
}

/**
 * A column's final bins from its counted bins' events and rows (value bins, then missing): the
 * chimerge and monotonic merges, then WOE and IV. The missing-value bin is never merged.
 */
export function finishColumn(
  c: CountedColumn,
  events: readonly number[],
  rows: readonly number[],
  settings: BinningSettings,
): ColumnBinning {
  const v = c.valueBins;
  let groups = identityGroups(v);
  if (settings.method === 'chimerge')
    groups = composeGroups(
      groups,
      chiMerge(events.slice(0, v), rows.slice(0, v), settings.maxBins, settings.monotonic),
    );
  const mergedEvents = [...sumByGroup(events.slice(0, v), groups), events[v]];
  const mergedRows = [...sumByGroup(rows.slice(0, v), groups), rows[v]];
  let table: WoeTable;
  try {
    table = woeTable(mergedEvents, mergedRows);
  } catch (e) {
    throw new PartyError(`binning: column ${c.column}: ${(e as Error).message}`);
  }
  return { column: c.column, thresholds: Array.from(groupedEdges(c.edges, groups).thresholds), table };
}
