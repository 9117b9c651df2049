/**
 * How a feature's value bins are formed and merged for WOE binning. Bins are described by a
 * grouping of fine bins (fine bin k → group groupOf[k], groups contiguous and ascending); the
 * missing-value bin is never merged. Merging by size needs no labels (each party does it alone);
 * chi-merge and the monotonic-WOE option work on the fine bins' event counts.
 */
import type { BinEdges } from '../gbdt/binning';

/**
 * Equal-width cut points over the non-missing values at `rows`: min + i·(max − min)/bins for
 * i = 1..bins−1. A column with one distinct value (or none) gets no cut points.
 */
export function equalWidthEdges(values: ArrayLike<number>, rows: ArrayLike<number>, bins: number): BinEdges {
  if (!(Number.isInteger(bins) && bins >= 2)) throw new RangeError(`bins must be an integer >= 2, got ${bins}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < rows.length; k++) {
    const v = values[rows[k]];
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return { thresholds: new Float64Array(0) };
  const cuts: number[] = [];
  for (let i = 1; i < bins; i++) {
    const cut = lo + ((hi - lo) * i) / bins;
    if (cut < hi && (cuts.length === 0 || cut > cuts[cuts.length - 1])) cuts.push(cut);
  }
  return { thresholds: Float64Array.from(cuts) };
}

/** The identity grouping of `bins` fine bins. */
export function identityGroups(bins: number): Int32Array {
  return Int32Array.from({ length: bins }, (_, k) => k);
}

/** How many groups a grouping has. */
export function groupCount(groupOf: Int32Array): number {
  return groupOf.length === 0 ? 0 : groupOf[groupOf.length - 1] + 1;
}

/** Sums per-fine-bin counts into their groups. */
export function sumByGroup(counts: ArrayLike<number>, groupOf: Int32Array): number[] {
  const out = new Array<number>(groupCount(groupOf)).fill(0);
  for (let k = 0; k < groupOf.length; k++) out[groupOf[k]] += counts[k];
  return out;
}

/** The cut points left once fine bins are grouped: a cut stays where two groups meet. */
export function groupedEdges(edges: BinEdges, groupOf: Int32Array): BinEdges {
  const kept: number[] = [];
  for (let k = 0; k < edges.thresholds.length; k++) if (groupOf[k] !== groupOf[k + 1]) kept.push(edges.thresholds[k]);
  return { thresholds: Float64Array.from(kept) };
}

/** Composes two groupings: fine → first's groups → second's groups. */
export function composeGroups(first: Int32Array, second: Int32Array): Int32Array {
  return Int32Array.from(first, (g) => second[g]);
}

/**
 * Merges bins smaller than `minRows` into their smaller neighbour, smallest first, until every
 * bin holds at least `minRows` rows or one bin is left. Empty bins merge first.
 */
export function mergeSmallBins(rows: ArrayLike<number>, minRows: number): Int32Array {
  const groups = Array.from(rows, (c, k) => ({ rows: c, members: [k] }));
  for (;;) {
    if (groups.length <= 1) break;
    let smallest = -1;
    for (let i = 0; i < groups.length; i++)
      if (groups[i].rows < minRows && (smallest < 0 || groups[i].rows < groups[smallest].rows)) smallest = i;
    if (smallest < 0) break;
    const left = smallest - 1;
    const right = smallest + 1;
    const into =
      left < 0 ? right : right >= groups.length ? left : groups[left].rows <= groups[right].rows ? left : right;
    mergeInto(groups, Math.min(into, smallest));
  }
  return groupingOf(groups, rows.length);
}

/**
 * Chi-merge: repeatedly merges the adjacent pair of bins whose event rates differ least (the
 * smallest χ² of their 2×2 table of events and non-events) until at most `maxBins` remain. With
 * `monotonic`, it then merges the least different pair among those breaking the trend (the sign of
 * last-bin rate minus first-bin rate) until the event rate, and so the WOE, is monotonic.
 */
export function chiMerge(
  events: ArrayLike<number>,
  rows: ArrayLike<number>,
  maxBins: number,
  monotonic: boolean,
): Int32Array {
  const groups = Array.from(rows, (c, k) => ({ rows: c, events: events[k], members: [k] }));
  const chi = (i: number) => chiSquare(groups[i], groups[i + 1]);
  const mergeLeast = (candidates: number[]) => {
    let best = candidates[0];
    for (const i of candidates) if (chi(i) < chi(best)) best = i;
    const a = groups[best];
    const b = groups[best + 1];
    a.events += b.events;
    mergeInto(groups, best);
  };
  while (groups.length > Math.max(1, maxBins)) mergeLeast(groups.slice(0, -1).map((_, i) => i));
  if (monotonic) {
    for (;;) {
      const rate = groups.map((g) => (g.rows > 0 ? g.events / g.rows : 0));
      const rising = rate[rate.length - 1] >= rate[0];
      const breaking = rate.slice(0, -1).flatMap((r, i) => ((rising ? rate[i + 1] < r : rate[i + 1] > r) ? [i] : []));
      if (breaking.length === 0) break;
      mergeLeast(breaking);
    }
  }
  return groupingOf(groups, rows.length);
}

/** Pearson's χ² of two bins' events and non-events (0 when a row or column of the table is empty). */
export function chiSquare(a: { rows: number; events: number }, b: { rows: number; events: number }): number {
  const total = a.rows + b.rows;
  const events = a.events + b.events;
  const nonEvents = total - events;
  if (total === 0 || events === 0 || nonEvents === 0 || a.rows === 0 || b.rows === 0) return 0;
  let chi = 0;
  for (const bin of [a, b]) {
    const expectedEvents = (bin.rows * events) / total;
    const expectedNon = (bin.rows * nonEvents) / total;
    chi += (bin.events - expectedEvents) ** 2 / expectedEvents;
    chi += (bin.rows - bin.events - expectedNon) ** 2 / expectedNon;
  }
  return chi;
}

function mergeInto(groups: { rows: number; members: number[] }[], i: number): void {
  groups[i].rows += groups[i + 1].rows;
  groups[i].members.push(...groups[i + 1].members);
  groups.splice(i + 1, 1);
}

function groupingOf(groups: readonly { members: number[] }[], bins: number): Int32Array {
  const out = new Int32Array(bins);
  groups.forEach((g, index) => g.members.forEach((k) => (out[k] = index)));
  return out;
}
