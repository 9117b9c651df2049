import { RowPacking } from '../src/split-lr/row-packing';

describe(RowPacking.name, () => {
  it('picks the smallest power-of-two stride that fits every party', () => {
    expect(RowPacking.strideFor(1)).toBe(1);
    expect(RowPacking.strideFor(14)).toBe(16);
    expect(RowPacking.strideFor(16)).toBe(16);
    expect(RowPacking.strideFor(21)).toBe(32);
    expect(() => RowPacking.strideFor(0)).toThrow(RangeError);
    expect(() => new RowPacking(16, 3)).toThrow('"stride" expected a power of two');
  });

  it('replicates each row value across its stride and spills into further ciphertexts', () => {
    const p = new RowPacking(8, 4); // 2 rows per ciphertext
    const chunks = p.replicate([1, 2, 3]);
    expect(chunks.map((c) => Array.from(c))).toEqual([
      [1, 1, 1, 1, 2, 2, 2, 2],
      [3, 3, 3, 3, 0, 0, 0, 0],
    ]);
  });

  it('lays selected feature rows into the first columns of each row block, scaled', () => {
    const p = new RowPacking(8, 4);
    const matrix = Float64Array.from([10, 11, 12, 20, 21, 22, 30, 31, 32]); // 3 rows x 3 columns
    const chunks = p.features(matrix, 3, [2, 0], 0.5);
    expect(Array.from(chunks[0])).toEqual([15, 15.5, 16, 0, 5, 5.5, 6, 0]);
    expect(() => p.features(matrix, 5, [0])).toThrow('5 columns do not fit stride 4');
  });
});
