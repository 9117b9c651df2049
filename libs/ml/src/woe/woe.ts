/**
 * Weight of evidence and information value from per-bin counts (docs/protocol.md §6).
 *
 * Sign convention: events are y = 1 (e.g. defaults). For bin i with e_i events and n_i
 * non-events of E and N in total, WOE_i = ln((e_i/E) / (n_i/N)), so a bin riskier than average has
 * a positive WOE; IV = Σ (e_i/E − n_i/N)·WOE_i. An empty count in a non-empty bin becomes 0.5
 * (in the WOE and in its IV term); an empty bin has WOE 0 and adds nothing.
 */

export const WOE_EMPTY_COUNT = 0.5;

export interface WoeBin {
  readonly rows: number;
  readonly events: number;
  readonly woe: number;
  readonly iv: number;
}

export interface WoeTable {
  readonly bins: readonly WoeBin[];
  readonly iv: number;
}

/**
 * The WOE table of one feature from its per-bin event counts and row counts.
 * @throws RangeError when counts are negative, not integers, or events exceed rows, or when the
 * rows hold only one class (WOE is undefined).
 */
export function woeTable(events: ArrayLike<number>, rows: ArrayLike<number>): WoeTable {
  if (events.length !== rows.length) throw new RangeError('woeTable: one event count per bin is expected');
  let E = 0;
  let N = 0;
  for (let i = 0; i < rows.length; i++) {
    const e = events[i];
    const c = rows[i];
    if (!(Number.isInteger(e) && Number.isInteger(c) && e >= 0 && e <= c))
      throw new RangeError(`woeTable: bin ${i} has ${e} events of ${c} rows`);
    E += e;
    N += c - e;
  }
  if (E === 0 || N === 0) throw new RangeError('woeTable: the rows hold one class only, so WOE is undefined');
  const bins: WoeBin[] = [];
  let iv = 0;
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i];
    if (c === 0) {
      bins.push({ rows: 0, events: 0, woe: 0, iv: 0 });
      continue;
    }
    const e = events[i] === 0 ? WOE_EMPTY_COUNT : events[i];
    const n = c - events[i] === 0 ? WOE_EMPTY_COUNT : c - events[i];
    const woe = Math.log(e / E / (n / N));
    const term = (e / E - n / N) * woe;
    iv += term;
    bins.push({ rows: c, events: events[i], woe, iv: term });
  }
  return { bins, iv };
}

/**
 * A column's values replaced by the WOE of their bin: bin b holds x with b = #thresholds below x
 * (as binColumn), `woe` lists the value bins then the missing-value bin (NaN goes there).
 */
export function woeEncodeColumn(
  values: ArrayLike<number>,
  thresholds: ArrayLike<number>,
  woe: ArrayLike<number>,
): Float64Array {
  if (woe.length !== thresholds.length + 2)
    throw new RangeError(`woeEncodeColumn: expected ${thresholds.length + 2} WOE values, got ${woe.length}`);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) {
      out[i] = woe[woe.length - 1];
      continue;
    }
    let lo = 0;
    let hi = thresholds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (thresholds[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    out[i] = woe[lo];
  }
  return out;
}
