/**
 * Label protection on the gradients the label party returns to feature parties (against norm and
 * direction attacks, Li et al. 2021, arXiv 2102.08504): per-example clipping of δ_i (the gradient
 * of row i's loss with respect to the interactive layer's output) to norm C, then Gaussian noise
 * N(0, (z·C)²) on every coordinate. Everything a feature party receives is computed from the
 * noised δ̃, so its view is post-processing of a Gaussian mechanism on each row's gradient.
 */
export type DefenceSpec =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'gaussian';
      /** z: noise standard deviation in units of the clipping norm. */
      readonly noiseMultiplier: number;
      /** C: per-example L2 bound of δ_i. */
      readonly clipNorm: number;
    };

export const NO_DEFENCE: DefenceSpec = Object.freeze({ kind: 'none' });

export function validateDefence(spec: unknown): DefenceSpec {
  const s = spec as Record<string, unknown> | undefined;
  if (!s || typeof s !== 'object') throw new RangeError(`defence must be an object, got ${String(spec)}`);
  if (s.kind === 'none') return spec as DefenceSpec;
  if (s.kind !== 'gaussian')
    throw new RangeError(`defence.kind must be "none" or "gaussian", got ${JSON.stringify(s.kind)}`);
  if (typeof s.noiseMultiplier !== 'number' || !(s.noiseMultiplier > 0) || !Number.isFinite(s.noiseMultiplier)) {
    throw new RangeError(`defence.noiseMultiplier must be a positive number, got ${String(s.noiseMultiplier)}`);
  }
  if (typeof s.clipNorm !== 'number' || !(s.clipNorm > 0) || !Number.isFinite(s.clipNorm)) {
    throw new RangeError(`defence.clipNorm must be a positive number, got ${String(s.clipNorm)}`);
  }
  return spec as DefenceSpec;
}

/**
 * Clips each row of `perExample` (rows × units, row i = δ_i) to norm C and adds the noise, in place.
 * @returns the number of rows that were clipped.
 */
export function applyDefence(
  spec: DefenceSpec,
  perExample: Float64Array,
  units: number,
  gaussian: () => number,
): number {
  if (spec.kind === 'none') return 0;
  const sigma = spec.noiseMultiplier * spec.clipNorm;
  let clipped = 0;
  for (let base = 0; base < perExample.length; base += units) {
    let norm = 0;
    for (let j = 0; j < units; j++) norm += perExample[base + j] ** 2;
    norm = Math.sqrt(norm);
    const factor = norm > spec.clipNorm ? spec.clipNorm / norm : 1;
    if (factor < 1) clipped++;
    for (let j = 0; j < units; j++) perExample[base + j] = perExample[base + j] * factor + sigma * gaussian();
  }
  return clipped;
}

/**
 * (ε, δ) of the label-DP guarantee towards a feature party after `epochs` epochs, by Rényi DP of
 * the Gaussian mechanism: replacing one row's label moves its clipped δ_i by at most 2C, so one
 * epoch (each row in exactly one batch) is RDP with ε(α) = α·(2C)² / (2σ²) = 2α / z²; epochs
 * compose additively; ε = min over α of ε_RDP(α) + ln(1/δ) / (α − 1).
 * It accounts for the direct release of each row's gradient; the label party's model also
 * carries other rows' labels into later gradients, which this bound does not cover.
 */
export function gaussianLabelDpEpsilon(noiseMultiplier: number, epochs: number, delta = 1e-5): number {
  let best = Infinity;
  for (let a = 1.01; a < 2000; a *= 1.02) {
    best = Math.min(best, (2 * a * epochs) / noiseMultiplier ** 2 + Math.log(1 / delta) / (a - 1));
  }
  return best;
}
