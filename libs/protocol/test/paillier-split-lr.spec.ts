import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters, LrOptimizer, partialLogits, taylorResidual } from '@vfl/ml';
import { SeededRandom } from '@vfl/data';
import { decodeFixed, encodeFixed, PaillierKeyHolder, PaillierLrParty } from '../src/split-lr/paillier-split-lr';

describe('split LR under Paillier (the baseline the benchmark compares CKKS with)', () => {
  it('encodes signed fixed-point values modulo n and back', () => {
    const n = 1n << 100n;
    for (const v of [0, 1.5, -2.25, 1e-6, -123456.789]) expect(decodeFixed(encodeFixed(v, n), n, 32)).toBeCloseTo(v, 9);
    expect(() => encodeFixed(NaN, n)).toThrow('cannot encode NaN');
  });

  it('one round gives each party the plaintext gradient, the coordinator seeing only masked values', async () => {
    // 1024-bit keys keep the test quick; the benchmark uses 2048.
    const keys = await PaillierKeyHolder.generate(1024);
    const rng = new SeededRandom(3);
    const rows = 40;
    const label = Float64Array.from({ length: rows * 3 }, (_, i) => (i % 3 === 2 ? 1 : rng.normal()));
    const feature = Float64Array.from({ length: rows * 2 }, () => rng.normal());
    const y = Uint8Array.from({ length: rows }, () => (rng.next() < 0.4 ? 1 : 0));
    const hp: LrHyperparameters = { ...DEFAULT_LR_HYPERPARAMETERS, optimizer: 'sgd', learningRate: 0.5, l2: 0 };
    const bank = new PaillierLrParty(keys.publicKey, label, 3, hp, 2, y);
    const shop = new PaillierLrParty(keys.publicKey, feature, 2, hp);
    bank.weights.set([0.3, -0.2, 0.1]);
    shop.weights.set([0.5, 0.25]);
    const batch = Int32Array.from({ length: rows }, (_, i) => i);

    // Plaintext: the same Taylor residual and one SGD step on the pooled weights.
    const u = partialLogits(label, 3, bank.weights, batch).map(
      (v, k) => v + partialLogits(feature, 2, shop.weights, batch)[k],
    );
    const d = Array.from(u, (v, k) => taylorResidual(v, y[k]));
    const expectStep = (m: Float64Array, cols: number, w: Float64Array, intercept: number) => {
      const g = Array.from({ length: cols }, (_, j) => d.reduce((s, dk, k) => s + dk * m[k * cols + j], 0) / rows);
      const out = Float64Array.from(w);
      new LrOptimizer(hp, cols, intercept).apply(out, g);
      return out;
    };
    const bankNext = expectStep(label, 3, bank.weights, 2);
    const shopNext = expectStep(feature, 2, shop.weights, -1);

    const residual = bank.residual(batch, [shop.forward(batch)]);
    const releasedBank = keys.decrypt(bank.maskedGradient(batch, residual));
    const releasedShop = keys.decrypt(shop.maskedGradient(batch, residual));
    // What the coordinator decrypted is gradient + a mask of 128 bits: far from the gradient itself.
    for (const m of [...releasedBank, ...releasedShop]) expect(m > 1n << 100n).toBe(true);
    bank.applyUpdate(releasedBank, rows);
    shop.applyUpdate(releasedShop, rows);
    bank.weights.forEach((w, j) => expect(Math.abs(w - bankNext[j])).toBeLessThan(1e-7));
    shop.weights.forEach((w, j) => expect(Math.abs(w - shopNext[j])).toBeLessThan(1e-7));
    expect(() => shop.applyUpdate(releasedShop, rows)).toThrow('pending gradient');
  }, 60_000);
});
