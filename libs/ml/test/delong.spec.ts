/** DeLong's paired-AUC test against vectors from a direct O(m*n) computation (test/vectors/delong.json). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { delongPairedAuc, erfc, rocAuc } from '../src';

interface Case {
  name: string;
  labels: number[];
  a: number[];
  b: number[];
  expected: {
    aucA: number;
    aucB: number;
    varianceA: number;
    difference: number;
    standardError: number;
    z: number;
    pValue: number;
    interval95: [number, number];
  };
}
const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, 'vectors/delong.json'), 'utf8')) as {
  cases: Case[];
};

describe('delongPairedAuc', () => {
  it.each(vectors.cases.map((c) => [c.name, c] as const))('reproduces the reference: %s', (_, c) => {
    const r = delongPairedAuc(c.a, c.b, c.labels);
    for (const key of ['aucA', 'aucB', 'varianceA', 'difference', 'standardError', 'z', 'pValue'] as const)
      expect(r[key]).toBeCloseTo(c.expected[key], 12);
    expect(r.interval95[0]).toBeCloseTo(c.expected.interval95[0], 12);
    expect(r.interval95[1]).toBeCloseTo(c.expected.interval95[1], 12);
    expect(r.aucA).toBeCloseTo(rocAuc(c.a, c.labels), 12);
  });

  it('gives a model compared with itself a difference of 0 and p = 1', () => {
    const c = vectors.cases[1];
    const r = delongPairedAuc(c.a, c.a, c.labels);
    expect(r).toMatchObject({ difference: 0, standardError: 0, pValue: 1, interval95: [0, 0] });
  });

  it('refuses a class with fewer than two rows, and lengths that differ', () => {
    expect(() => delongPairedAuc([1, 2, 3], [1, 2, 3], [1, 0, 0])).toThrow(/two rows of each class/);
    expect(() => delongPairedAuc([1, 2], [1], [1, 0])).toThrow(RangeError);
  });

  it('erfc matches known values', () => {
    // Abramowitz & Stegun table 7.1: erfc(0.5) = 0.4795001222, erfc(1) = 0.1572992070, erfc(2) = 0.0046777350
    expect(erfc(0)).toBe(1);
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 14);
    expect(erfc(1)).toBeCloseTo(0.15729920705028513, 14);
    expect(erfc(2)).toBeCloseTo(0.004677734981047266, 15);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497148, 14);
  });
});
