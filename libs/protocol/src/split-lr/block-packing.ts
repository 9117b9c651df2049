/**
 * The SIMD layout split LR uses: the rows of a mini-batch in blocks, so that a whole mini-batch
 * gradient costs no rotation at all. The sum over rows happens after decryption: the coordinator
 * adds up each block of masked slots and releases only the block sums (MaskedDecryptionService).
 *
 * With n = min(|B|, slots) rows per block, a ciphertext holds R = ⌊slots / n⌋ blocks:
 *   - a per-row vector (Enc(u_f/4), Enc(d)) takes ⌈|B| / n⌉ chunks; chunk c holds rows
 *     [c·n, c·n + n) of the batch, repeated in each of its R blocks;
 *   - a party's features: column j of chunk c's rows fills block j mod R of the chunk's
 *     plaintext ⌊j / R⌋.
 * Multiplying chunk c of Enc(d) by its plaintexts and adding over chunks leaves, in block j mod R
 * of gradient ciphertext ⌊j / R⌋, the products d_i·x_ij of every row: ⌈columns / R⌉ gradient
 * ciphertexts per party and batch, each of whose blocks sums to one gradient entry.
 * (The earlier layout, one row per stride of slots, needed log2(slots / stride) rotations per batch.)
 */
export class BlockPacking {
  /** Rows per block (n). */
  readonly blockRows: number;
  /** Blocks per ciphertext (R). */
  readonly blocksPerCiphertext: number;
  /** Ciphertexts per per-row vector of the batch. */
  readonly chunks: number;

  constructor(
    readonly slots: number,
    readonly batchRows: number,
  ) {
    if (!Number.isInteger(batchRows) || batchRows < 1)
      throw new RangeError(`"batchRows" expected a positive integer, got ${batchRows}`);
    this.blockRows = Math.min(batchRows, slots);
    this.blocksPerCiphertext = Math.floor(slots / this.blockRows);
    this.chunks = Math.ceil(batchRows / this.blockRows);
  }

  /** Gradient ciphertexts a party with `columns` columns sends per batch. */
  gradientCiphertexts(columns: number): number {
    return Math.ceil(columns / this.blocksPerCiphertext);
  }

  /** One slot vector per chunk: each chunk's rows, repeated in every block. */
  replicate(values: ArrayLike<number>): Float64Array[] {
    this.checkRows(values.length);
    const n = this.blockRows;
    return Array.from({ length: this.chunks }, (_, c) => {
      const chunk = new Float64Array(this.slots);
      const rows = Math.min(n, values.length - c * n);
      for (let r = 0; r < this.blocksPerCiphertext; r++) {
        for (let i = 0; i < rows; i++) chunk[r * n + i] = values[c * n + i];
      }
      return chunk;
    });
  }

  /**
   * The batch rows `rows` of a row-major matrix, times `factor`, as plaintext slot vectors:
   * `[chunk][gradient ciphertext]`.
   */
  features(matrix: Float64Array, columns: number, rows: ArrayLike<number>, factor = 1): Float64Array[][] {
    this.checkRows(rows.length);
    const n = this.blockRows;
    const R = this.blocksPerCiphertext;
    const perChunk = this.gradientCiphertexts(columns);
    return Array.from({ length: this.chunks }, (_, c) => {
      const plains = Array.from({ length: perChunk }, () => new Float64Array(this.slots));
      const count = Math.min(n, rows.length - c * n);
      for (let i = 0; i < count; i++) {
        const source = rows[c * n + i] * columns;
        for (let j = 0; j < columns; j++) plains[Math.floor(j / R)][(j % R) * n + i] = matrix[source + j] * factor;
      }
      return plains;
    });
  }

  /** Sum of column j's block, for j < columns: what the coordinator releases, and how a party sums its masks. */
  blockSums(ciphertextSlots: readonly ArrayLike<number>[], columns: number): Float64Array {
    if (ciphertextSlots.length !== this.gradientCiphertexts(columns)) {
      throw new RangeError(
        `expected ${this.gradientCiphertexts(columns)} slot vectors for ${columns} columns, got ${ciphertextSlots.length}`,
      );
    }
    const n = this.blockRows;
    const R = this.blocksPerCiphertext;
    const out = new Float64Array(columns);
    for (let j = 0; j < columns; j++) {
      const slots = ciphertextSlots[Math.floor(j / R)];
      const base = (j % R) * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += slots[base + i];
      out[j] = s;
    }
    return out;
  }

  private checkRows(count: number): void {
    if (count !== this.batchRows) throw new RangeError(`expected ${this.batchRows} rows for this batch, got ${count}`);
  }
}
