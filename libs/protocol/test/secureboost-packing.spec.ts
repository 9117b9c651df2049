/**
 * SecureBoost's coefficient packing, in plaintext arithmetic: the product of a chunk polynomial
 * and a one-hot polynomial carries every bin sum of g and h at the output positions, for full
 * and narrowed (small-node) layouts, whatever the bins.
 */
import {
  nodeLayout,
  gradientChunks,
  oneHotPolynomial,
  outputPositions,
  productGroups,
  uniformResidues,
} from '../src/secureboost/packing';

const T = 1099511480321; // the BFV parameter set's 40-bit prime

function negacyclic(a: ArrayLike<number>, b: ArrayLike<number>, n: number): bigint[] {
  const out = new Array<bigint>(n).fill(0n);
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < b.length; j++) {
      if (a[i] === 0 || b[j] === 0) continue;
      const v = BigInt(a[i]) * BigInt(b[j]);
      if (i + j < n) out[i + j] += v;
      else out[i + j - n] -= v;
    }
  return out.map((v) => ((v % BigInt(T)) + BigInt(T)) % BigInt(T));
}

describe('SecureBoost coefficient packing', () => {
  it('lays out the widest block that fits and narrows it for small nodes', () => {
    expect(nodeLayout(4096, 32, 100_000)).toMatchObject({
      slots: 33,
      block: 124,
      rowsPerChunk: 62,
      featuresPerProduct: 1,
    });
    expect(nodeLayout(4096, 32, 100_000).chunks).toBe(Math.ceil(100_000 / 62));
    expect(nodeLayout(4096, 32, 5)).toMatchObject({ block: 10, rowsPerChunk: 5, featuresPerProduct: 12, chunks: 1 });
    expect(productGroups(nodeLayout(4096, 32, 5), [0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14])).toEqual([
      [0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13],
      [14],
    ]);
    expect(() => nodeLayout(64, 40, 10)).toThrow('do not fit');
  });

  it.each([
    ['a full chunk', 256, 7, 40],
    ['a small node, several features per product', 256, 7, 3],
  ])('puts every bin sum of g and h at the output positions (%s)', (_, degree, maxBins, rowCount) => {
    const layout = nodeLayout(degree, maxBins, rowCount);
    const rows = Int32Array.from({ length: rowCount }, (_, i) => 2 * i + 1);
    const g = Float64Array.from({ length: 2 * rowCount + 2 }, (_, r) => ((r * 7919) % 2001) - 1000);
    const h = Float64Array.from({ length: 2 * rowCount + 2 }, (_, r) => (r * 104729) % 500);
    const features = layout.featuresPerProduct;
    const binned = Array.from({ length: features }, (_, f) =>
      Uint8Array.from({ length: g.length }, (_, r) => (r * (f + 3) + f) % (maxBins + 1)),
    );
    const group = Array.from({ length: features }, (_, f) => f);
    const mod = (v: number) => ((v % T) + T) % T;
    const chunks = gradientChunks(layout, rows, g, h, mod);
    const total = new Array<bigint>(degree).fill(0n);
    chunks.forEach((chunk, c) => {
      const product = negacyclic(chunk, oneHotPolynomial(layout, rows, c, group, binned, T), degree);
      product.forEach((v, i) => (total[i] = (total[i] + v) % BigInt(T)));
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
        const at = 2 * (q * layout.slots + b);
        expect(Number(total[positions[at]])).toBe(mod(G));
        expect(Number(total[positions[at + 1]])).toBe(mod(H));
      }
  });

  it('draws masks uniform in [0, t)', () => {
    const masks = uniformResidues(20_000, T);
    expect(Math.max(...masks)).toBeLessThan(T);
    expect(Math.min(...masks)).toBeGreaterThanOrEqual(0);
    const mean = masks.reduce((s, v) => s + v, 0) / masks.length;
    expect(Math.abs(mean / T - 0.5)).toBeLessThan(0.01);
    expect(new Set(masks).size).toBe(masks.length);
  });
});
