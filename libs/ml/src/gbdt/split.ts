/**
 * Split finding on gradient histograms (XGBoost's exact-on-bins gain with L2 `lambda`, split cost
 * `gamma` and minimum child hessian `minChildWeight`).
 *
 * Tie rule: candidates are scanned in a fixed order (feature ascending, bin ascending, missing-right
 * before missing-left) and one replaces the best so far only when its gain is strictly greater.
 * The federated label party compares the parties' blocks in roster order with the same strict
 * rule ({@link bestSplitAcross}), so the plaintext reference and the federated run choose the same
 * split even when gains tie.
 */

import { Histogram, histogramIndex } from './histogram';

export interface SplitParams {
  readonly lambda: number;
  readonly gamma: number;
  readonly minChildWeight: number;
}

/** Rows with bin <= `bin` go left; missing rows go left iff `missingLeft`. */
export interface SplitCandidate {
  readonly feature: number;
  readonly bin: number;
  readonly missingLeft: boolean;
  readonly gain: number;
  readonly left: { G: number; H: number };
  readonly right: { G: number; H: number };
}

/** ½·[GL²/(HL+λ) + GR²/(HR+λ) − (GL+GR)²/(HL+HR+λ)] − γ */
export function splitGain(GL: number, HL: number, GR: number, HR: number, params: SplitParams): number {
  const { lambda, gamma } = params;
  const G = GL + GR;
  return 0.5 * ((GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - (G * G) / (HL + HR + lambda)) - gamma;
}

/** The leaf value minimising the second-order loss: −G/(H+λ). */
export function leafWeight(G: number, H: number, lambda: number): number {
  return -G / (H + lambda);
}

/**
 * The best split of one block, or null when no allowed candidate has gain > 0.
 *
 * Per feature, for each bin b that itself holds rows (H > 0; an empty bin would repeat the previous
 * partition): candidate A puts bins <= b left and missing right; candidate B, only when the feature
 * has missing rows, puts bins <= b and missing left. A candidate is skipped when a side has H == 0
 * (no rows: h > 0 for every row) or H < minChildWeight. "Everything non-missing left, missing right"
 * is candidate A at the last non-empty bin.
 */
export function bestSplit(
  hist: Histogram,
  params: SplitParams,
  featureMask?: ArrayLike<boolean>,
): SplitCandidate | null {
  assertParams(params);
  if (featureMask !== undefined && featureMask.length !== hist.features)
    throw new RangeError(`bestSplit: the feature mask has ${featureMask.length} entries for ${hist.features} features`);
  let best: SplitCandidate | null = null;
  for (let f = 0; f < hist.features; f++) {
    if (featureMask !== undefined && !featureMask[f]) continue;
    const found = bestSplitOfFeature(hist, f, params, best === null ? 0 : best.gain);
    if (found !== null) best = found;
  }
  return best;
}

/** The best over blocks in order (the roster order in the federated run), by the same strict rule. */
export function bestSplitAcross(
  hists: readonly Histogram[],
  params: SplitParams,
  masks?: readonly (ArrayLike<boolean> | undefined)[],
): { block: number; split: SplitCandidate } | null {
  if (masks !== undefined && masks.length !== hists.length)
    throw new RangeError(`bestSplitAcross: ${masks.length} masks for ${hists.length} histograms`);
  let best: { block: number; split: SplitCandidate } | null = null;
  for (let block = 0; block < hists.length; block++) {
    const split = bestSplit(hists[block], params, masks?.[block]);
    if (split !== null && (best === null || split.gain > best.split.gain)) best = { block, split };
  }
  return best;
}

/** The first candidate of feature f whose gain is strictly above `toBeat`, scanning in order; else null. */
function bestSplitOfFeature(hist: Histogram, f: number, params: SplitParams, toBeat: number): SplitCandidate | null {
  const { maxBins, sums } = hist;
  const missingAt = histogramIndex(maxBins, f, maxBins);
  const GM = sums[missingAt];
  const HM = sums[missingAt + 1];
  let GN = 0; // non-missing totals
  let HN = 0;
  for (let b = 0; b < maxBins; b++) {
    const at = histogramIndex(maxBins, f, b);
    GN += sums[at];
    HN += sums[at + 1];
  }
  const hasMissing = HM > 0;
  const { minChildWeight } = params;
  const allowed = (HL: number, HR: number): boolean => HL > 0 && HR > 0 && HL >= minChildWeight && HR >= minChildWeight;

  let best: SplitCandidate | null = null;
  let bestGain = toBeat;
  let GC = 0; // cumulative non-missing sums over bins 0..b
  let HC = 0;
  for (let b = 0; b < maxBins; b++) {
    const at = histogramIndex(maxBins, f, b);
    GC += sums[at];
    HC += sums[at + 1];
    if (!(sums[at + 1] > 0)) continue;

    // A: missing right.
    const GRa = GN - GC + GM;
    const HRa = HN - HC + HM;
    if (allowed(HC, HRa)) {
      const gain = splitGain(GC, HC, GRa, HRa, params);
      if (gain > bestGain) {
        bestGain = gain;
        best = candidate(f, b, false, gain, GC, HC, GRa, HRa);
      }
    }

    // B: missing left.
    if (!hasMissing) continue;
    const GLb = GC + GM;
    const HLb = HC + HM;
    const GRb = GN - GC;
    const HRb = HN - HC;
    if (allowed(HLb, HRb)) {
      const gain = splitGain(GLb, HLb, GRb, HRb, params);
      if (gain > bestGain) {
        bestGain = gain;
        best = candidate(f, b, true, gain, GLb, HLb, GRb, HRb);
      }
    }
  }
  return best;
}

function candidate(
  feature: number,
  bin: number,
  missingLeft: boolean,
  gain: number,
  GL: number,
  HL: number,
  GR: number,
  HR: number,
): SplitCandidate {
  return { feature, bin, missingLeft, gain, left: { G: GL, H: HL }, right: { G: GR, H: HR } };
}

function assertParams(params: SplitParams): void {
  const { lambda, gamma, minChildWeight } = params;
  if (!(lambda >= 0 && lambda < Infinity)) throw new RangeError('lambda must be a finite number >= 0');
  if (!(gamma >= 0 && gamma < Infinity)) throw new RangeError('gamma must be a finite number >= 0');
  if (!(minChildWeight >= 0 && minChildWeight < Infinity))
    throw new RangeError('minChildWeight must be a finite number >= 0');
}
