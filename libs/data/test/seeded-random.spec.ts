/** Tests for the deterministic PRNG. */
import { SeededRandom } from '../src';

describe('SeededRandom', () => {
  it('same seed gives the same sequence, different seeds differ', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 100 }, () => a.next());
    const seqB = Array.from({ length: 100 }, () => b.next());
    const seqC = Array.from({ length: 100 }, () => c.next());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('distinguishes seeds beyond 32 bits and negative seeds', () => {
    const first = (seed: number): number => new SeededRandom(seed).next();
    expect(first(1)).not.toBe(first(1 + 2 ** 32));
    expect(first(-1)).not.toBe(first(2 ** 32 - 1 + 2 ** 32));
    expect(() => new SeededRandom(0.5)).toThrow(RangeError);
  });

  it('next() stays in [0, 1) with a uniform mean', () => {
    const rng = new SeededRandom(1);
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('nextInt covers [0, max) evenly and rejects bad bounds', () => {
    const rng = new SeededRandom(2);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.nextInt(6)]++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
    expect(() => rng.nextInt(2.5)).toThrow(RangeError);
  });

  it('normal() has mean ~0 and standard deviation ~1', () => {
    const rng = new SeededRandom(3);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    const mean = sum / n;
    const std = Math.sqrt(sumSq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  it('shuffle permutes in place, deterministically', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new SeededRandom(4).shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(new SeededRandom(4).shuffle([...items])).toEqual(shuffled);
    const same = [1, 2, 3];
    expect(new SeededRandom(5).shuffle(same)).toBe(same);
  });
});
