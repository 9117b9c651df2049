/**
 * CKKS slot layouts of the split-NN interactive layer, and the slot sums the coordinator releases.
 *
 * No rotations: every matrix product M·P (M a batch matrix under encryption, P a small plaintext
 * matrix) is computed as slot-wise products, one ciphertext per output column, and the coordinator,
 * after decrypting the masked products, sums the slots of each output value and releases only
 * the sums. A rotation (3.9 ms) per summed block would cost more than decrypting and summing.
 *
 * RowBlocks(width): row i of a batch lives in ciphertext ⌊i / R⌋ at slots (i mod R)·S + [0, width),
 * S = the next power of two ≥ width, R = slots / S rows per ciphertext.
 */

export class RowBlocks {
  readonly stride: number;
  readonly rowsPerCiphertext: number;

  constructor(
    readonly slots: number,
    readonly width: number,
  ) {
    if (!Number.isInteger(width) || width < 1 || width > slots)
      throw new RangeError(`row width ${width} does not fit ${slots} slots`);
    this.stride = 2 ** Math.ceil(Math.log2(width));
    this.rowsPerCiphertext = slots / this.stride;
  }

  ciphertextsFor(rows: number): number {
    return Math.ceil(rows / this.rowsPerCiphertext);
  }

  rowsIn(chunk: number, rows: number): number {
    return Math.min(this.rowsPerCiphertext, rows - chunk * this.rowsPerCiphertext);
  }

  /** Packs a row-major rows × width matrix, optionally scaled. */
  pack(matrix: ArrayLike<number>, rows: number, scale = 1): Float64Array[] {
    if (matrix.length !== rows * this.width)
      throw new RangeError(`matrix has ${matrix.length} values, expected ${rows} × ${this.width}`);
    return Array.from({ length: this.ciphertextsFor(rows) }, (_, c) => {
      const out = new Float64Array(this.slots);
      const n = this.rowsIn(c, rows);
      for (let r = 0; r < n; r++) {
        const i = c * this.rowsPerCiphertext + r;
        for (let k = 0; k < this.width; k++) out[r * this.stride + k] = matrix[i * this.width + k] * scale;
      }
      return out;
    });
  }

  /** `vector` (width values) repeated in every row block: the plaintext of a product with a fixed column. */
  tile(vector: ArrayLike<number>): Float64Array {
    if (vector.length !== this.width)
      throw new RangeError(`vector has ${vector.length} values, expected ${this.width}`);
    const out = new Float64Array(this.slots);
    for (let r = 0; r < this.rowsPerCiphertext; r++)
      for (let k = 0; k < this.width; k++) out[r * this.stride + k] = vector[k];
    return out;
  }

  /** Column `column` of a rows × cols matrix, each row's value repeated over the row's width slots. */
  spread(matrix: ArrayLike<number>, cols: number, column: number, chunk: number, rows: number): Float64Array {
    const out = new Float64Array(this.slots);
    const n = this.rowsIn(chunk, rows);
    for (let r = 0; r < n; r++) {
      const v = matrix[(chunk * this.rowsPerCiphertext + r) * cols + column];
      for (let k = 0; k < this.width; k++) out[r * this.stride + k] = v;
    }
    return out;
  }
}

/**
 * A group of ciphertexts whose slots the coordinator sums into released values.
 * - 'rowSums': ciphertext c·units + u holds, for each row r of chunk c, `sumWidth` slots at
 *   r·stride; their sum is released value (chunk row index)·units + u. (M·P: one u per column of P.)
 * - 'columnSums': ciphertext u holds rows at r·stride + j, j < sumWidth; the sum over all R rows
 *   of slot j is released value u·sumWidth + j. (Mᵀ·A summed over the batch.)
 */
export interface SlotSumPart {
  readonly kind: 'rowSums' | 'columnSums';
  readonly ciphertexts: number;
  readonly level: number;
  /** Batch rows (rowSums only). */
  readonly rows: number;
  readonly stride: number;
  readonly sumWidth: number;
  readonly units: number;
  /** Index of the part's first value in the released vector. */
  readonly offset: number;
}

/** A plaintext share (already masked by its sender) added to released values [offset, offset + length). */
export interface PlainSharePart {
  readonly offset: number;
  readonly length: number;
}

export interface SlotSumPlan {
  readonly width: number;
  readonly parts: readonly SlotSumPart[];
  readonly shares: readonly PlainSharePart[];
}

/** Adds the part's slot sums (compensated) into `out`; parties use it on their masks, the coordinator on decryptions. */
export function addSlotSums(
  part: SlotSumPart,
  slotVectors: readonly ArrayLike<number>[],
  out: Float64Array,
  compensation?: Float64Array,
): void {
  if (slotVectors.length !== part.ciphertexts)
    throw new RangeError(`slot sums expected ${part.ciphertexts} vectors, got ${slotVectors.length}`);
  const slots = slotVectors.length > 0 ? slotVectors[0].length : 0;
  const rpc = slots / part.stride;
  const add = (index: number, value: number): void => {
    // Neumaier summation: the slots carry masks of ~2^30, the values are ~1.
    const t = out[index] + value;
    if (compensation)
      compensation[index] += Math.abs(out[index]) >= Math.abs(value) ? out[index] - t + value : value - t + out[index];
    out[index] = t;
  };
  if (part.kind === 'rowSums') {
    for (let q = 0; q < part.ciphertexts; q++) {
      const c = Math.floor(q / part.units);
      const u = q % part.units;
      const v = slotVectors[q];
      const n = Math.min(rpc, part.rows - c * rpc);
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < part.sumWidth; k++)
          add(part.offset + (c * rpc + r) * part.units + u, v[r * part.stride + k]);
      }
    }
  } else {
    for (let u = 0; u < part.ciphertexts; u++) {
      const v = slotVectors[u];
      for (let r = 0; r < rpc; r++)
        for (let j = 0; j < part.sumWidth; j++) add(part.offset + u * part.sumWidth + j, v[r * part.stride + j]);
    }
  }
}

/** The slot sums of one part alone (what a party subtracts for the masks it added). */
export function slotSums(part: SlotSumPart, slotVectors: readonly ArrayLike<number>[], width: number): Float64Array {
  const out = new Float64Array(width);
  const comp = new Float64Array(width);
  addSlotSums(part, slotVectors, out, comp);
  for (let i = 0; i < width; i++) out[i] += comp[i];
  return out;
}
