/**
 * Optimizers over tfjs variables with the learning rate passed per step (so a schedule is a plain
 * function of the epoch), and the same SGD-with-momentum on float64 arrays for the interactive
 * weight shares that live outside tfjs.
 */
import type * as Tf from '@tensorflow/tfjs';

export type OptimizerKind = 'sgd' | 'adam' | 'momentum';

/** An optimizer's state as plain numbers (JSON): the step count and each variable's moments. */
export interface TfOptimizerState {
  readonly kind: OptimizerKind;
  readonly steps: number;
  readonly slots: readonly ({ readonly m: readonly number[]; readonly v?: readonly number[] } | null)[];
}

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
          s = {
            m: tf.variable(tf.zerosLike(variable), false),
            v: this.kind === 'adam' ? tf.variable(tf.zerosLike(variable), false) : undefined,
          };
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

  /** Step count and moments of `variables`, in their order (null where a variable has not been stepped yet): a checkpoint. */
  exportState(variables: readonly Tf.Variable[]): TfOptimizerState {
    return {
      kind: this.kind,
      steps: this.steps,
      slots: variables.map((v) => {
        const s = this.state.get(v.name);
        return s ? { m: Array.from(s.m.dataSync()), ...(s.v ? { v: Array.from(s.v.dataSync()) } : {}) } : null;
      }),
    };
  }

  /** Restores exportState's output onto `variables` (the same stack rebuilt: names differ, order and shapes do not). */
  importState(variables: readonly Tf.Variable[], state: TfOptimizerState): void {
    const tf = this.tf;
    if (state.kind !== this.kind)
      throw new RangeError(`optimizer state is ${state.kind}'s, this optimizer is ${this.kind}`);
    if (state.slots.length !== variables.length)
      throw new RangeError(`optimizer state has ${state.slots.length} slots, expected ${variables.length}`);
    this.dispose();
    this.steps = state.steps;
    variables.forEach((variable, i) => {
      const slot = state.slots[i];
      if (!slot) return;
      const size = variable.shape.reduce((a, b) => a * b, 1);
      if (slot.m.length !== size || (slot.v && slot.v.length !== size))
        throw new RangeError(`optimizer state slot ${i} has ${slot.m.length} values, the variable ${size}`);
      const m = tf.variable(tf.tensor(slot.m, variable.shape), false);
      const v = slot.v ? tf.variable(tf.tensor(slot.v, variable.shape), false) : undefined;
      this.state.set(variable.name, { m, v });
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
      if (!Number.isFinite(g))
        throw new RangeError(`gradient share entry ${i} is not finite (${g}): training diverged`);
      this.m[i] = this.momentum * this.m[i] + g;
      this.weights[i] -= learningRate * this.m[i];
    }
  }

  snapshot(): { weights: Float64Array; m: Float64Array } {
    return { weights: this.weights.slice(), m: this.m.slice() };
  }

  restore(s: { weights: ArrayLike<number>; m: ArrayLike<number> }): void {
    if (s.weights.length !== this.weights.length || s.m.length !== this.m.length)
      throw new RangeError(`share snapshot has ${s.weights.length} weights, expected ${this.weights.length}`);
    this.weights.set(s.weights);
    this.m.set(s.m);
  }
}
