import { epochBatches, trainValidationSplit } from '../src/batch-schedule';
import {
  cubicResidual,
  LrOptimizer,
  partialLogits,
  scheduledLearningRate,
  taylorResidual,
  withIntercept,
} from '../src/logistic';
import { Standardizer } from '../src/standardizer';
import { initTensorflow } from '../src/tf-backend';
import { TfLinearScorer } from '../src/tf-linear';

describe('batch schedule', () => {
  it('splits rows into disjoint train and validation sets, the same for the same seed', () => {
    const a = trainValidationSplit(100, 0.2, 7);
    const b = trainValidationSplit(100, 0.2, 7);
    expect(a).toEqual(b);
    expect(a.validation).toHaveLength(20);
    expect(new Set([...a.train, ...a.validation]).size).toBe(100);
    expect(trainValidationSplit(100, 0.2, 8).validation).not.toEqual(a.validation);
    expect(() => trainValidationSplit(1, 0.9, 1)).toThrow('leave no training rows');
    expect(() => trainValidationSplit(10, 1, 1)).toThrow(RangeError);
  });

  it('cuts each epoch into batches covering every training row once, reshuffled per epoch', () => {
    const { train } = trainValidationSplit(1000, 0.3, 1);
    const e0 = epochBatches(train, 128, 1, 0);
    // 700 rows: the 60-row remainder joins the last batch rather than forming a short one.
    expect(e0.map((b) => b.length)).toEqual([128, 128, 128, 128, 188]);
    expect(epochBatches(train, 1000, 1, 0).map((b) => b.length)).toEqual([700]);
    expect([...e0.flatMap((b) => Array.from(b))].sort((x, y) => x - y)).toEqual(Array.from(train));
    expect(epochBatches(train, 128, 1, 0)).toEqual(e0);
    expect(epochBatches(train, 128, 1, 1)[0]).not.toEqual(e0[0]);
  });
});

describe(LrOptimizer.name, () => {
  it('takes plain SGD steps with L2 on every weight but the intercept', () => {
    const w = Float64Array.from([1, 1]);
    new LrOptimizer({ learningRate: 0.1, l2: 0.5, optimizer: 'sgd' }, 2, 1).apply(w, [0.2, 0.2]);
    // w0: 1 - 0.1 * (0.2 + 0.5 * 1) = 0.93; w1 (intercept): 1 - 0.1 * 0.2 = 0.98
    expect(w[0]).toBeCloseTo(0.93, 12);
    expect(w[1]).toBeCloseTo(0.98, 12);
  });

  it("takes Adam's first step of size lr in the direction of -sign(g)", () => {
    const w = Float64Array.from([0, 0]);
    new LrOptimizer({ learningRate: 0.01, l2: 0, optimizer: 'adam' }, 2).apply(w, [3, -0.001]);
    expect(w[0]).toBeCloseTo(-0.01, 6);
    expect(w[1]).toBeCloseTo(0.01, 4);
  });

  it('stops on a diverged (non-finite) gradient with a clear message', () => {
    expect(() =>
      new LrOptimizer({ learningRate: 0.1, l2: 0, optimizer: 'sgd' }, 1).apply(new Float64Array(1), [NaN]),
    ).toThrow('training diverged');
  });

  it('adds the L1 subgradient to every weight but the intercept', () => {
    const opt = new LrOptimizer({ learningRate: 0.1, l2: 0, l1: 0.5, optimizer: 'sgd' }, 3, 2);
    const w = Float64Array.from([2, -1, 3]);
    opt.apply(w, [0, 0, 0]);
    expect(Array.from(w)).toEqual([2 - 0.05, -1 + 0.05, 3]);
  });

  it('schedules the learning rate per epoch: constant, cosine to zero, exponential', () => {
    const hp = { learningRate: 0.1, epochs: 4 };
    expect([0, 1, 3].map((e) => scheduledLearningRate(hp, e))).toEqual([0.1, 0.1, 0.1]);
    expect(scheduledLearningRate({ ...hp, schedule: 'cosine' }, 0)).toBeCloseTo(0.1, 15);
    expect(scheduledLearningRate({ ...hp, schedule: 'cosine' }, 2)).toBeCloseTo(0.05, 15);
    expect(scheduledLearningRate({ ...hp, schedule: 'exponential', decayRate: 0.5 }, 3)).toBeCloseTo(0.0125, 15);
    const opt = new LrOptimizer(
      { learningRate: 0.1, l2: 0, optimizer: 'sgd', schedule: 'exponential', decayRate: 0.5 },
      1,
    );
    const w = Float64Array.of(0);
    opt.apply(w, [1], 2);
    expect(w[0]).toBeCloseTo(-0.025, 15);
  });

  it('uses the cubic 1/2 + 0.15012u - 0.001593u³ - y: within 0.1 of the sigmoid on [-6, 6], closer than Taylor past |u| = 3', () => {
    expect(cubicResidual(0, 1)).toBe(-0.5);
    const sigmoid = (u: number) => 1 / (1 + Math.exp(-u));
    for (let u = -6; u <= 6; u += 0.25) expect(Math.abs(cubicResidual(u, 0) - sigmoid(u))).toBeLessThan(0.1);
    for (const u of [-6, -4, -3, 3, 4, 6])
      expect(Math.abs(cubicResidual(u, 0) - sigmoid(u))).toBeLessThan(Math.abs(taylorResidual(u, 0) - sigmoid(u)));
  });

  it('uses the first-order Taylor residual u/4 + 1/2 - y', () => {
    expect(taylorResidual(0, 1)).toBe(-0.5);
    expect(taylorResidual(2, 0)).toBe(1);
  });
});

describe(Standardizer.name, () => {
  it('maps fitted rows to mean 0 and deviation 1, and constant columns to 0', () => {
    const m = Float64Array.from([1, 5, 3, 5, 5, 5]); // 3 rows x 2 columns
    const s = Standardizer.fit(m, 2, [0, 1, 2]);
    expect(Array.from(s.means)).toEqual([3, 5]);
    const t = s.transform(m, 2);
    expect(t[0]).toBeCloseTo(-Math.sqrt(1.5), 12);
    expect(t[1]).toBe(0);
  });
});

describe(TfLinearScorer.name, () => {
  it('runs on the selected TensorFlow.js backend and matches float64 logits to float32 precision', async () => {
    const runtime = await initTensorflow();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(runtime.backend);
    expect(runtime.description).toContain(runtime.backend);
    const matrix = withIntercept(
      Float64Array.from({ length: 300 }, (_, i) => Math.sin(i)),
      3,
    );
    const weights = Float64Array.from([0.5, -1.25, 2, 0.1]);
    const rows = Int32Array.from([5, 0, 99, 42]);
    const scorer = new TfLinearScorer(runtime.tf, matrix, 4);
    const got = scorer.logits(rows, weights);
    const want = partialLogits(matrix, 4, weights, rows);
    got.forEach((g, k) => expect(Math.abs(g - want[k])).toBeLessThan(1e-5));
    scorer.dispose();
  });
});
