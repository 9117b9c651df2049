/**
 * SecureBoost's coefficient packing, in plaintext arithmetic: the product of a chunk polynomial
 * (g and h packed in one coefficient) and a one-hot polynomial carries every bin's g and h sums at
 * the output positions, for full and narrowed (small-node) layouts; the packing's precision is
 * the finest that keeps every sum decodable.
 */
import {
  fitsPacking,
  gradientChunks,
  gradientPacking,
  nodeLayout,
  oneHotTerms,
  outputPositions,
  productGroups,
  uniformResidues,
  unpackSum,
} from '../src/secureboost/packing';

const T = 288230376151130113n; // the BFV parameter set's t: SEAL's 58-bit prime ≡ 1 mod 8192

/** The one-hot polynomial of its exponents, as BfvContext.oneHotPlaintext builds it: X^e, or −X^(N+e) for e < 0. */
function oneHotCoefficients(degree: number, terms: Int32Array, t: bigint): BigUint64Array {
  const out = new BigUint64Array(degree);
  for (const e of terms) out[e >= 0 ? e : degree + e] = e >= 0 ? 1n : t - 1n;
  return out;
}

function negacyclic(a: BigUint64Array, b: BigUint64Array, n: number): bigint[] {
  const out = new Array<bigint>(n).fill(0n);
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < b.length; j++) {
      if (a[i] === 0n || b[j] === 0n) continue;
      const v = a[i] * b[j];
      if (i + j < n) out[i + j] += v;
      else out[i + j - n] -= v;
    }
  return out.map((v) => ((v % T) + T) % T);
}

describe('SecureBoost coefficient packing', () => {
  it('lays out the widest block that fits and narrows it for small nodes', () => {
    expect(nodeLayout(4096, 32, 100_000)).toMatchObject({ slots: 33, block: 124, featuresPerProduct: 1 });
    expect(nodeLayout(4096, 32, 100_000).chunks).toBe(Math.ceil(100_000 / 124));
    expect(nodeLayout(4096, 32, 5)).toMatchObject({ block: 5, featuresPerProduct: 24, chunks: 1 });
    expect(productGroups(nodeLayout(4096, 32, 10), [0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14])).toEqual([
      [0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13],
      [14],
    ]);
    expect(() => nodeLayout(64, 70, 10)).toThrow('do not fit');
  });

  it('picks the finest precision that keeps sums decodable, and refuses too few bits', () => {
    // 21,000 rows, logistic: |g| ≤ 1 (15 bits of sum), h ≤ 1/4 (13 bits): (58 − 5 − 28) / 2 → 12.
    expect(gradientPacking(58, 21_000, 1, 0.25)).toEqual({ fractionBits: 12, gBits: 12 + 15 + 2 });
    expect(() => gradientPacking(58, 1e9, 4, 1)).toThrow('fewer than 6 bits of precision');
    const packing = gradientPacking(58, 1000, 1, 0.25);
    const scale = 2 ** packing.fractionBits;
    const g = Float64Array.from({ length: 1000 }, () => -scale);
    const h = Float64Array.from({ length: 1000 }, () => scale / 4);
    expect(fitsPacking(packing, g, h, T)).toBe(true);
    // Every row at its bound decodes exactly, summed.
    const sum = BigInt(-1000 * scale) + BigInt((1000 * scale) / 4) * 2n ** BigInt(packing.gBits);
    expect(unpackSum((sum + T) % T, packing, T)).toEqual({ g: -1000 * scale, h: (1000 * scale) / 4 });
    expect(
      fitsPacking(
        packing,
        g.map((v) => v * 64),
        h,
        T,
      ),
    ).toBe(false);
  });

  it.each([
    ['a full chunk', 512, 7, 200],
    ['a small node, several features per product', 512, 7, 3],
  ])('puts every bin sum of g and h at the output positions (%s)', (_, degree, maxBins, rowCount) => {
    const layout = nodeLayout(degree, maxBins, rowCount);
    const packing = gradientPacking(58, rowCount, 1000, 500);
    const rows = Int32Array.from({ length: rowCount }, (_, i) => 2 * i + 1);
    const g = Float64Array.from({ length: 2 * rowCount + 2 }, (_, r) => ((r * 7919) % 2001) - 1000);
    const h = Float64Array.from({ length: 2 * rowCount + 2 }, (_, r) => (r * 104729) % 500);
    const features = Math.min(3, layout.featuresPerProduct);
    const binned = Array.from({ length: features }, (_, f) =>
      Uint8Array.from({ length: g.length }, (_, r) => (r * (f + 3) + f) % (maxBins + 1)),
    );
    const group = Array.from({ length: features }, (_, f) => f);
    const chunks = gradientChunks(layout, rows, g, h, packing, T);
    const total = new Array<bigint>(degree).fill(0n);
    chunks.forEach((chunk, c) => {
      const oneHot = oneHotCoefficients(degree, oneHotTerms(layout, rows, c, group, binned), T);
      negacyclic(chunk, oneHot, degree).forEach((v, i) => (total[i] = (total[i] + v) % T));
    });
    const positions = outputPositions(layout, features);
    for (let q = 0; q < features; q++)
      for (let b = 0; b < layout.slots; b++) {
        let G = 0;
        let H = 0;
        for (const r of rows)
          if (binned[q][r] === b) {
            G += g[r];
            H += h[r];
          }
        expect(unpackSum(total[positions[q * layout.slots + b]], packing, T)).toEqual({ g: G, h: H });
      }
  });

  it('draws masks uniform in [0, t)', () => {
    const masks = uniformResidues(20_000, T);
    let max = 0n;
    let sum = 0;
    for (const m of masks) {
      if (m > max) max = m;
      sum += Number(m) / Number(T);
    }
    expect(max < T).toBe(true);
    expect(Math.abs(sum / masks.length - 0.5)).toBeLessThan(0.01);
    expect(new Set(masks).size).toBe(masks.length);
  });
});
