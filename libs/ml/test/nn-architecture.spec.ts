import { ArchitectureError, NnArchitecture, scheduleFactor, validateArchitecture } from '../src/nn/architecture';
import { DenseStack, NonFiniteActivationError } from '../src/nn/dense-stack';
import { MomentumShare, TfOptimizer } from '../src/nn/optimizer';
import { initTensorflow } from '../src/tf-backend';

const GOOD: NnArchitecture = {
  bottom: [
    { units: 8, activation: 'relu', dropout: 0.2, batchNorm: true },
    { units: 4, activation: 'linear' },
  ],
  interactive: { units: 8, activation: 'relu' },
  top: [{ units: 4 }],
  training: {
    optimizer: 'adam',
    learningRate: 0.01,
    batchSize: 64,
    epochs: 3,
    seed: 1,
    schedule: { kind: 'step', everyEpochs: 2, factor: 0.5 },
  },
};

function refusal(spec: unknown): string {
  try {
    validateArchitecture(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ArchitectureError);
    return (e as Error).message;
  }
  throw new Error('spec was accepted');
}

describe('split-NN architecture spec', () => {
  it('accepts a well-formed spec (and its JSON round trip)', () => {
    expect(validateArchitecture(JSON.parse(JSON.stringify(GOOD)))).toEqual(GOOD);
  });

  it('names the offending layer and field', () => {
    const bottom = [GOOD.bottom[0], { units: 0 }];
    expect(refusal({ ...GOOD, bottom })).toBe('bottom[1].units must be an integer in [1, 1024], got 0');
    expect(refusal({ ...GOOD, top: [{ units: 4, activation: 'swish' }] })).toMatch(
      /^top\[0\]\.activation must be one of linear, relu/,
    );
    expect(refusal({ ...GOOD, bottom: [{ units: 4, dropout: 1 }] })).toBe(
      'bottom[0].dropout must be a number in [0, 1), got 1',
    );
    expect(refusal({ ...GOOD, bottomByParty: { shop: [{ units: 2.5 }] } })).toBe(
      'bottomByParty.shop[0].units must be an integer in [1, 1024], got 2.5',
    );
    expect(refusal({ ...GOOD, bottom: [] })).toMatch(/^bottom must have at least one layer/);
    expect(refusal({ ...GOOD, bottom: [{ units: 4, unit: 3 }] })).toBe(
      'bottom[0].unit is not a field of a dense layer',
    );
    expect(refusal({ ...GOOD, interactive: { units: -1 } })).toBe(
      'interactive.units must be an integer in [1, 1024], got -1',
    );
    expect(refusal({ ...GOOD, training: { ...GOOD.training, optimizer: 'rmsprop' } })).toBe(
      'training.optimizer must be "sgd" or "adam", got "rmsprop"',
    );
    expect(
      refusal({ ...GOOD, training: { ...GOOD.training, schedule: { kind: 'step', everyEpochs: 0, factor: 0.5 } } }),
    ).toBe('training.schedule.everyEpochs must be an integer in [1, 10000], got 0');
    expect(refusal({ ...GOOD, training: { ...GOOD.training, earlyStopping: { patience: 0 } } })).toBe(
      'training.earlyStopping.patience must be an integer in [1, 10000], got 0',
    );
  });

  it('computes learning-rate schedules per epoch', () => {
    expect([0, 1, 2, 3, 4].map((e) => scheduleFactor(GOOD.training.schedule, e, 5))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(scheduleFactor({ kind: 'exponential', decayPerEpoch: 0.9 }, 2, 5)).toBeCloseTo(0.81);
    expect(scheduleFactor({ kind: 'cosine' }, 0, 4)).toBe(1);
    expect(scheduleFactor({ kind: 'cosine' }, 2, 4)).toBeCloseTo(0.5);
    expect(scheduleFactor(undefined, 7, 8)).toBe(1);
  });
});

describe('DenseStack (real tfjs)', () => {
  it('is reproducible from its seed: weights, dropout masks and outputs', async () => {
    const { tf } = await initTensorflow();
    const x = tf.randomNormal<import('@tensorflow/tfjs').Rank.R2>([16, 5], 0, 1, 'float32', 3);
    const a = new DenseStack(tf, 5, GOOD.bottom, 7, 'bottom');
    const b = new DenseStack(tf, 5, GOOD.bottom, 7, 'bottom');
    const c = new DenseStack(tf, 5, GOOD.bottom, 8, 'bottom');
    try {
      expect(a.snapshot()).toEqual(b.snapshot());
      expect(a.snapshot()[0]).not.toEqual(c.snapshot()[0]);
      const train = { training: true, dropoutSeed: 11 };
      expect(Array.from(a.forward(x, train).dataSync())).toEqual(Array.from(b.forward(x, train).dataSync()));
      expect(Array.from(a.forward(x, train).dataSync())).not.toEqual(
        Array.from(a.forward(x, { training: true, dropoutSeed: 12 }).dataSync()),
      );
      expect(a.forward(x, { training: false }).shape).toEqual([16, 4]);
      expect(() => a.forward(x, { training: true })).toThrow(
        'bottom[0] has dropout: a training pass needs a dropout seed',
      );
    } finally {
      [a, b, c].forEach((s) => s.dispose());
      x.dispose();
    }
  });

  it('names the layer that produced a NaN', async () => {
    const { tf } = await initTensorflow();
    const stack = new DenseStack(tf, 3, [{ units: 4 }, { units: 2, activation: 'linear' }], 1, 'bottom');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const bad = tf.tensor2d([1, NaN, 3, 4, 5, 6], [2, 3]);
    try {
      expect(() => stack.locateNonFinite(bad, { training: false }, 'in a test')).toThrow(
        'bottom input produced a non-finite activation (NaN) in a test',
      );
      stack.trainable()[2].assign(tf.fill([4, 2], NaN));
      expect(() => stack.locateNonFinite(x, { training: false }, 'in a test')).toThrow(NonFiniteActivationError);
      expect(() => stack.locateNonFinite(x, { training: false }, 'in a test')).toThrow(
        /^bottom\[1\] produced a non-finite activation/,
      );
    } finally {
      stack.dispose();
      x.dispose();
      bad.dispose();
    }
  });

  it('splits SGD with momentum exactly over two shares of the gradient', async () => {
    const { tf } = await initTensorflow();
    const whole = new MomentumShare(Float64Array.from([0.5, -0.25]), 0.9);
    const v = new MomentumShare(Float64Array.from([0.2, 0.1]), 0.9);
    const n = new MomentumShare(Float64Array.from([0.3, -0.35]), 0.9);
    for (const [g, r] of [
      [
        [0.1, -0.2],
        [3, -1],
      ],
      [
        [0.05, 0.4],
        [-2, 0.5],
      ],
    ]) {
      whole.apply(g, 0.1);
      v.apply(r, 0.1);
      n.apply(
        g.map((x, i) => x - r[i]),
        0.1,
      );
    }
    whole.weights.forEach((w, i) => expect(v.weights[i] + n.weights[i]).toBeCloseTo(w, 12));
    // and it is the same rule as the tfjs momentum optimizer the reference uses
    const variable = tf.variable(tf.tensor1d([0.5, -0.25]));
    const opt = new TfOptimizer(tf, 'momentum', 0.9);
    for (const g of [
      [0.1, -0.2],
      [0.05, 0.4],
    ])
      opt.apply([variable], { [variable.name]: tf.tensor1d(g) }, 0.1);
    Array.from(variable.dataSync()).forEach((w, i) => expect(w).toBeCloseTo(whole.weights[i], 6));
    variable.dispose();
    opt.dispose();
  });
});
