/**
 * A stack of dense layers (dense → batch norm → activation → dropout) built directly on tfjs
 * variables rather than tf.layers, so that a party can run the forward pass in one protocol step
 * and the backward pass in a later one with the very same dropout masks and batch statistics,
 * and so that initialisation and dropout are seeded (SeededRandom) and reproducible on every
 * backend.
 */
import type * as Tf from '@tensorflow/tfjs';
import { SeededRandom } from '@vfl/data';
import { Activation, DenseLayerSpec } from './architecture';

export interface ForwardOptions {
  /** Dropout on and batch statistics instead of moving averages. */
  readonly training: boolean;
  /** Seed of this batch's dropout masks; the same seed gives the same masks. */
  readonly dropoutSeed?: number;
  /** Update the batch-norm moving averages (once per batch, in the first of the passes). */
  readonly updateStatistics?: boolean;
}

/** An activation that is NaN or infinite; names the layer that produced it. */
export class NonFiniteActivationError extends Error {
  constructor(
    readonly layer: string,
    message: string,
  ) {
    super(message);
    this.name = 'NonFiniteActivationError';
  }
}

const BN_EPSILON = 1e-3;
const BN_MOMENTUM = 0.99;

interface LayerParams {
  readonly spec: DenseLayerSpec;
  readonly kernel: Tf.Variable;
  readonly bias: Tf.Variable;
  readonly gamma?: Tf.Variable;
  readonly beta?: Tf.Variable;
  readonly movingMean?: Tf.Variable;
  readonly movingVariance?: Tf.Variable;
}

export class DenseStack {
  private readonly layers: LayerParams[];

  /**
   * @param path how errors name the layers, e.g. "bottom" gives "bottom[1]".
   */
  constructor(
    private readonly tf: typeof Tf,
    readonly inputWidth: number,
    specs: readonly DenseLayerSpec[],
    seed: number,
    readonly path: string,
  ) {
    const random = new SeededRandom(seed);
    let fanIn = inputWidth;
    this.layers = specs.map((spec) => {
      const kernel = tf.variable(tf.tensor2d(glorotUniform(random, fanIn, spec.units), [fanIn, spec.units]));
      const bias = tf.variable(tf.zeros([spec.units]));
      fanIn = spec.units;
      if (!spec.batchNorm) return { spec, kernel, bias };
      return {
        spec,
        kernel,
        bias,
        gamma: tf.variable(tf.ones([spec.units])),
        beta: tf.variable(tf.zeros([spec.units])),
        movingMean: tf.variable(tf.zeros([spec.units]), false),
        movingVariance: tf.variable(tf.ones([spec.units]), false),
      };
    });
  }

  get outputWidth(): number {
    return this.layers.length === 0 ? this.inputWidth : this.layers[this.layers.length - 1].spec.units;
  }

  /** Trainable variables, in a fixed order. */
  trainable(): Tf.Variable[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias, ...(l.gamma ? [l.gamma, l.beta!] : [])]);
  }

  /** All variables including batch-norm moving averages (for snapshots). */
  allVariables(): Tf.Variable[] {
    return this.layers.flatMap((l) => [
      l.kernel,
      l.bias,
      ...(l.gamma ? [l.gamma, l.beta!, l.movingMean!, l.movingVariance!] : []),
    ]);
  }

  forward(x: Tf.Tensor2D, options: ForwardOptions): Tf.Tensor2D {
    const outputs = this.forwardLayers(x, options);
    const last = outputs.pop()!;
    outputs.forEach((t) => t !== x && t.dispose());
    return last;
  }

  /** The output of every layer (index 0 is the input); the caller disposes them. */
  forwardLayers(x: Tf.Tensor2D, options: ForwardOptions): Tf.Tensor2D[] {
    const tf = this.tf;
    if (x.shape[1] !== this.inputWidth) {
      throw new RangeError(`${this.path}[0] expects ${this.inputWidth} input columns, got ${x.shape[1]}`);
    }
    const outputs: Tf.Tensor2D[] = [x];
    const random = options.dropoutSeed === undefined ? undefined : new SeededRandom(options.dropoutSeed);
    let h = x;
    this.layers.forEach((l, i) => {
      h = tf.tidy(() => {
        let pre = tf.add<Tf.Tensor2D>(tf.matMul(h, l.kernel), l.bias);
        if (l.gamma) {
          let mean: Tf.Tensor;
          let variance: Tf.Tensor;
          if (options.training) {
            const m = tf.moments(pre, 0);
            mean = m.mean;
            variance = m.variance;
            if (options.updateStatistics) {
              l.movingMean!.assign(tf.add(tf.mul(l.movingMean!, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
              l.movingVariance!.assign(
                tf.add(tf.mul(l.movingVariance!, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)),
              );
            }
          } else {
            mean = l.movingMean!;
            variance = l.movingVariance!;
          }
          pre = tf.add<Tf.Tensor2D>(
            tf.mul(tf.div(tf.sub(pre, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), l.gamma),
            l.beta!,
          );
        }
        let out = activate(tf, pre, l.spec.activation ?? 'relu');
        const rate = l.spec.dropout ?? 0;
        if (options.training && rate > 0) {
          if (!random) throw new RangeError(`${this.path}[${i}] has dropout: a training pass needs a dropout seed`);
          out = tf.mul<Tf.Tensor2D>(
            out,
            tf.tensor2d(dropoutMask(random, out.shape[0] * out.shape[1], rate), out.shape),
          );
        }
        return out;
      });
      outputs.push(h);
    });
    return outputs;
  }

  /**
   * Throws NonFiniteActivationError naming the first layer whose output is NaN or infinite,
   * re-running the pass layer by layer (only called once a non-finite output was seen).
   */
  locateNonFinite(x: Tf.Tensor2D, options: ForwardOptions, where: string): never {
    const outputs = this.forwardLayers(x, { ...options, updateStatistics: false });
    try {
      for (let i = 0; i < outputs.length; i++) {
        const bad = firstNonFinite(outputs[i].dataSync());
        if (bad >= 0) {
          const layer = i === 0 ? `${this.path} input` : `${this.path}[${i - 1}]`;
          throw new NonFiniteActivationError(
            layer,
            `${layer} produced a non-finite activation (${outputs[i].dataSync()[bad]}) ${where}`,
          );
        }
      }
      throw new NonFiniteActivationError(this.path, `${this.path} output is non-finite ${where}`);
    } finally {
      outputs.slice(1).forEach((t) => t.dispose());
    }
  }

  snapshot(): Float32Array[] {
    return this.allVariables().map((v) => Float32Array.from(v.dataSync()));
  }

  /** Every variable's values (snapshot's order), as plain numbers for a saved model or checkpoint. */
  exportValues(): number[][] {
    return this.allVariables().map((v) => Array.from(v.dataSync()));
  }

  restore(values: readonly ArrayLike<number>[]): void {
    const vars = this.allVariables();
    if (values.length !== vars.length)
      throw new RangeError(`${this.path}: snapshot has ${values.length} tensors, expected ${vars.length}`);
    vars.forEach((v, i) => {
      const size = v.shape.reduce((a, b) => a * b, 1);
      if (values[i].length !== size)
        throw new RangeError(`${this.path}: snapshot tensor ${i} has ${values[i].length} values, expected ${size}`);
    });
    this.tf.tidy(() => vars.forEach((v, i) => v.assign(this.tf.tensor(Float32Array.from(values[i]), v.shape))));
  }

  dispose(): void {
    this.allVariables().forEach((v) => v.dispose());
  }
}

export function activate(tf: typeof Tf, x: Tf.Tensor2D, activation: Activation): Tf.Tensor2D {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
    case 'leaky_relu':
      return tf.leakyRelu(x, 0.2);
  }
}

/** Glorot (Xavier) uniform initialisation, limit sqrt(6 / (fanIn + fanOut)), seeded. */
export function glorotUniform(random: SeededRandom, fanIn: number, fanOut: number, gain = 1): Float32Array {
  const limit = gain * Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: fanIn * fanOut }, () => (2 * random.next() - 1) * limit);
}

/** Inverted dropout: kept units are scaled by 1 / (1 - rate) so inference needs no rescaling. */
function dropoutMask(random: SeededRandom, size: number, rate: number): Float32Array {
  const keep = 1 / (1 - rate);
  return Float32Array.from({ length: size }, () => (random.next() < rate ? 0 : keep));
}

export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** A seed for one purpose derived from a party's seed (FNV-1a over the label, mixed with the seed). */
export function deriveSeed(seed: number, ...label: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}|${label.join('|')}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Runs `fn` in a tidy scope and returns its tensor's values as float64 (the tensor is freed). */
export function readTensor(tf: typeof Tf, fn: () => Tf.Tensor): Float64Array {
  const t = tf.tidy(fn);
  try {
    return Float64Array.from(t.dataSync());
  } finally {
    t.dispose();
  }
}
