/**
 * The SIMD layout split LR uses: (row, feature) pairs, so a whole mini-batch gradient costs one
 * rotate-and-sum per party.
 *
 * With stride S (a power of two at least every party's column count) a ciphertext holds
 * R = slots / S rows. Row i of a chunk owns slots [i·S, i·S + S):
 *   - per-row values (partial logits, residuals) are replicated across the row's S slots;
 *   - a party's feature row x_i is written into the first columns of those slots, zeros after.
 * The slot-wise product residual ⊙ features then holds d_i·x_ij at slot i·S + j; adding a
 * batch's chunks and rotate-summing by S, 2S, ..., slots/2 (log2 R rotations) leaves
 * Σ_i d_i·x_ij in slot j — and, because the rotations are cyclic, in every slot k·S + j.
 */
export class RowPacking {
  readonly rowsPerCiphertext: number;

  constructor(
    readonly slots: number,
    readonly stride: number,
  ) {
    if (!Number.isInteger(stride) || stride < 1 || (stride & (stride - 1)) !== 0 || stride > slots) {
      throw new RangeError(`"stride" expected a power of two in [1, ${slots}], got ${stride}`);
    }
    this.rowsPerCiphertext = slots / stride;
  }

  /** The smallest stride that fits every party's column count. */
  static strideFor(maxColumns: number): number {
    if (!Number.isInteger(maxColumns) || maxColumns < 1) {
      throw new RangeError(`"maxColumns" expected a positive integer, got ${maxColumns}`);
    }
    let stride = 1;
    while (stride < maxColumns) stride *= 2;
    return stride;
  }

  ciphertextsFor(rows: number): number {
    return Math.ceil(rows / this.rowsPerCiphertext);
  }

  /** One slot vector per ciphertext, each row's value repeated across its S slots. */
  replicate(values: ArrayLike<number>): Float64Array[] {
    const chunks = this.emptyChunks(values.length);
    for (let i = 0; i < values.length; i++) {
      const chunk = chunks[Math.floor(i / this.rowsPerCiphertext)];
      const base = (i % this.rowsPerCiphertext) * this.stride;
      chunk.fill(values[i], base, base + this.stride);
    }
    return chunks;
  }

  /** Feature rows `rows` of a row-major matrix, each multiplied by `factor`, in the row layout. */
  features(matrix: Float64Array, columns: number, rows: ArrayLike<number>, factor = 1): Float64Array[] {
    if (columns > this.stride) throw new RangeError(`${columns} columns do not fit stride ${this.stride}`);
    const chunks = this.emptyChunks(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const chunk = chunks[Math.floor(i / this.rowsPerCiphertext)];
      const base = (i % this.rowsPerCiphertext) * this.stride;
      const source = rows[i] * columns;
      for (let j = 0; j < columns; j++) chunk[base + j] = matrix[source + j] * factor;
    }
    return chunks;
  }

  private emptyChunks(rows: number): Float64Array[] {
    return Array.from({ length: this.ciphertextsFor(rows) }, () => new Float64Array(this.slots));
  }
}
