/**
 * A party's feature matrix held as a TensorFlow.js tensor, scoring row subsets against a weight
 * vector (X[rows]·w). Float32 on the device; callers get Float64Array back.
 */
import type * as Tf from '@tensorflow/tfjs';

export class TfLinearScorer {
  private readonly matrix: Tf.Tensor2D;

  constructor(
    private readonly tf: typeof Tf,
    values: Float64Array,
    readonly columns: number,
  ) {
    if (values.length % columns !== 0) throw new RangeError(`${values.length} values do not form rows of ${columns} columns`);
    this.matrix = tf.tensor2d(Float32Array.from(values), [values.length / columns, columns]);
  }

  logits(rows: Int32Array, weights: Float64Array): Float64Array {
    if (weights.length !== this.columns) throw new RangeError(`weights have ${weights.length} entries, expected ${this.columns}`);
    const tf = this.tf;
    const out = tf.tidy(() =>
      tf.matMul(tf.gather(this.matrix, tf.tensor1d(rows, 'int32')), tf.tensor2d(Float32Array.from(weights), [this.columns, 1])),
    );
    try {
      return Float64Array.from(out.dataSync());
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.matrix.dispose();
  }
}
