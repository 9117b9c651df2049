import { BlockPacking } from '../src/split-lr/block-packing';

describe(BlockPacking.name, () => {
  it('fits as many blocks of the batch rows as the slots hold', () => {
    expect(new BlockPacking(4096, 1024)).toMatchObject({ blockRows: 1024, blocksPerCiphertext: 4, chunks: 1 });
    expect(new BlockPacking(4096, 1000)).toMatchObject({ blockRows: 1000, blocksPerCiphertext: 4, chunks: 1 });
    expect(new BlockPacking(4096, 3000)).toMatchObject({ blockRows: 3000, blocksPerCiphertext: 1, chunks: 1 });
    expect(new BlockPacking(4096, 9000)).toMatchObject({ blockRows: 4096, blocksPerCiphertext: 1, chunks: 3 });
    expect(new BlockPacking(4096, 1024).gradientCiphertexts(14)).toBe(4);
    expect(new BlockPacking(4096, 1024).gradientCiphertexts(300)).toBe(75);
    expect(() => new BlockPacking(4096, 0)).toThrow('"batchRows" expected a positive integer');
  });

  it('repeats each chunk of a per-row vector in every block', () => {
    const p = new BlockPacking(8, 3); // 2 blocks of 3 rows, 2 slots spare
    expect(p.replicate([1, 2, 3]).map((c) => Array.from(c))).toEqual([[1, 2, 3, 1, 2, 3, 0, 0]]);
    const q = new BlockPacking(4, 6); // rows spill into a second chunk
    expect(q.replicate([1, 2, 3, 4, 5, 6]).map((c) => Array.from(c))).toEqual([
      [1, 2, 3, 4],
      [5, 6, 0, 0],
    ]);
    expect(() => p.replicate([1, 2])).toThrow('expected 3 rows for this batch, got 2');
  });

  it('puts column j of the batch rows in block j mod R of plaintext j div R, scaled', () => {
    const p = new BlockPacking(8, 2); // 4 blocks of 2 rows
    const matrix = Float64Array.from([10, 11, 12, 20, 21, 22, 30, 31, 32]); // 3 rows x 3 columns
    const plains = p.features(matrix, 3, [2, 0], 0.5);
    expect(plains).toHaveLength(1);
    expect(plains[0].map((x) => Array.from(x))).toEqual([[15, 5, 15.5, 5.5, 16, 6, 0, 0]]);
    const wide = new BlockPacking(4, 2).features(matrix, 3, [1, 2]); // 2 blocks per ciphertext: 2 plaintexts
    expect(wide[0].map((x) => Array.from(x))).toEqual([
      [20, 30, 21, 31],
      [22, 32, 0, 0],
    ]);
  });

  it("sums each column's block: residual times features, summed, is the gradient Xᵀd", () => {
    const p = new BlockPacking(16, 3);
    const matrix = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // 5 rows x 2 columns
    const rows = [4, 1, 3];
    const d = [0.5, -1, 2];
    const residual = p.replicate(d)[0];
    const product = p.features(matrix, 2, rows)[0].map((plain) => plain.map((x, s) => x * residual[s]));
    const gradient = p.blockSums(product, 2);
    const expected = [0, 1].map((j) => rows.reduce((s, r, k) => s + matrix[r * 2 + j] * d[k], 0));
    expect(Array.from(gradient)).toEqual(expected);
    expect(() => p.blockSums([], 2)).toThrow('expected 1 slot vectors for 2 columns, got 0');
  });
});
