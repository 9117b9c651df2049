/**
 * Optimizers over tfjs variables with the learning rate passed per step (so a schedule is a plain
 * function of the epoch), and the same SGD-with-momentum on float64 arrays for the interactive
 * weight shares that live outside tfjs.
 */
import type * as Tf from '@tensorflow/tfjs';

export type OptimizerKind = 'sgd' | 'adam' | 'momentum';

export class TfOptimizer {
  private readonly state = new Map<string, { m: Tf.Variable; v?: Tf.Variable }>();
  private steps = 0;

  constructor(
    private readonly tf: typeof Tf,
    readonly kind: OptimizerKind,
    private readonly momentum = 0.9,
  ) {}

  /** One step; `grads` is keyed by variable name (as tf.variableGrads returns it). */
  apply(variables: readonly Tf.Variable[], grads: Record<string, Tf.Tensor>, learningRate: number): void {
    const tf = this.tf;
    this.steps++;
    const t = this.steps;
    tf.tidy(() => {
      for (const variable of variables) {
        const g = grads[variable.name];
        if (!g) continue;
        if (this.kind === 'sgd') {
          variable.assign(tf.sub(variable, tf.mul(g, learningRate)));
          continue;
        }
        let s = this.state.get(variable.name);
        if (!s) {
          s = { m: tf.variable(tf.zerosLike(variable), false), v: this.kind === 'adam' ? tf.variable(tf.zerosLike(variable), false) : undefined };
          tf.keep(s.m);
          if (s.v) tf.keep(s.v);
          this.state.set(variable.name, s);
        }
        if (this.kind === 'momentum') {
          s.m.assign(tf.add(tf.mul(s.m, this.momentum), g));
          variable.assign(tf.sub(variable, tf.mul(s.m, learningRate)));
        } else {
          s.m.assign(tf.add(tf.mul(s.m, 0.9), tf.mul(g, 0.1)));
          s.v!.assign(tf.add(tf.mul(s.v!, 0.999), tf.mul(tf.square(g), 0.001)));
          const mHat = tf.div(s.m, 1 - 0.9 ** t);
          const vHat = tf.div(s.v!, 1 - 0.999 ** t);
          variable.assign(tf.sub(variable, tf.div(tf.mul(mHat, learningRate), tf.add(tf.sqrt(vHat), 1e-7))));
        }
      }
    });
  }

  dispose(): void {
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v?.dispose();
    }
    this.state.clear();
  }
}

/**
 * SGD with momentum on a float64 array: m ← μ·m + g; w ← w − η·m. Linear in g, so two parties
 * applying it to shares g₁ + g₂ = g of a gradient keep shares of exactly the weights one party
 * would get from g.
 */
export class MomentumShare {
  private readonly m: Float64Array;

  constructor(
    readonly weights: Float64Array,
    private readonly momentum: number,
  ) {
    this.m = new Float64Array(weights.length);
  }

  apply(gradient: ArrayLike<number>, learningRate: number): void {
    if (gradient.length !== this.weights.length) {
      throw new RangeError(`gradient share has ${gradient.length} entries, weights have ${this.weights.length}`);
    }
    for (let i = 0; i < this.weights.length; i++) {
      const g = gradient[i];
      if (!Number.isFinite(g)) throw new RangeError(`gradient share entry ${i} is not finite (${g}): training diverged`);
      this.m[i] = this.momentum * this.m[i] + g;
      this.weights[i] -= learningRate * this.m[i];
    }
  }

  snapshot(): { weights: Float64Array; m: Float64Array } {
    return { weights: this.weights.slice(), m: this.m.slice() };
  }

  restore(s: { weights: Float64Array; m: Float64Array }): void {
    this.weights.set(s.weights);
    this.m.set(s.m);
  }
}
