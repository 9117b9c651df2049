/**
 * Bit-matrix work for KKRT's OT extension, on 32-bit words: the transpose between the column
 * form the OT extension produces (one pseudo-random bit string per base OT) and the row form the
 * OPRF needs (one 512-bit row per cuckoo bin).
 *
 * Layouts. Columns: `width` bit strings of `rows` bits, column j in words
 * [j·rows/32, (j+1)·rows/32), bit r of the column in word r >>> 5, bit r & 31 (LSB first).
 * Rows: `rows` rows of `width` bits, row r in words [r·width/32, (r+1)·width/32), same bit order.
 */

/** In-place transpose of a 32×32 bit block held in a[off..off+32): bit c of a[r] ↔ bit r of a[c]. */
export function transpose32(a: Uint32Array, off = 0): void {
  let m = 0x0000ffff;
  for (let j = 16; j !== 0; j >>>= 1, m = (m ^ (m << j)) >>> 0) {
    for (let k = 0; k < 32; k = ((k | j) + 1) & ~j) {
      // Swap the high j bits of row k with the low j bits of row k|j.
      const t = ((a[off + k] >>> j) ^ a[off + (k | j)]) & m;
      a[off + (k | j)] ^= t;
      a[off + k] ^= t << j;
    }
  }
}

/**
 * Columns → rows. `rows` and `width` must be multiples of 32.
 * @param columns width·rows/32 words in column layout
 * @param out rows·width/32 words in row layout (may be reused between calls)
 */
export function columnsToRows(columns: Uint32Array, rows: number, width: number, out: Uint32Array): Uint32Array {
  if (rows % 32 !== 0 || width % 32 !== 0) throw new RangeError(`rows and width must be multiples of 32`);
  if (columns.length !== (rows * width) / 32 || out.length !== columns.length)
    throw new RangeError(`matrix expected ${(rows * width) / 32} words, got ${columns.length} and ${out.length}`);
  const colWords = rows / 32;
  const rowWords = width / 32;
  const block = new Uint32Array(32);
  for (let cb = 0; cb < rowWords; cb++) {
    for (let rb = 0; rb < colWords; rb++) {
      // Word rb of columns 32cb..32cb+31 → after the transpose, word cb of rows 32rb..32rb+31.
      for (let c = 0; c < 32; c++) block[c] = columns[(cb * 32 + c) * colWords + rb];
      transpose32(block);
      for (let r = 0; r < 32; r++) out[(rb * 32 + r) * rowWords + cb] = block[r];
    }
  }
  return out;
}
