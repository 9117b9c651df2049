/**
 * SecureBoost's Paillier histograms (the bench's comparison backend) give the same packed bin sums
 * as plain arithmetic: encryption per row, additions per row and feature, masked decryption.
 */
import * as paillier from 'paillier-bigint';
import { paillierBinSums, paillierEncryptRows, paillierUnmask } from '../src/secureboost/paillier-histogram';
import { gradientPacking } from '../src/secureboost/packing';

describe('SecureBoost histograms under Paillier', () => {
  it('sum g + 2^K·h per bin exactly, behind masks uniform below n', async () => {
    const { publicKey, privateKey } = await paillier.generateRandomKeys(1024);
    const packing = gradientPacking(58, 40, 1, 0.25);
    const rows = Int32Array.from({ length: 30 }, (_, i) => i + 5);
    const scale = 2 ** packing.fractionBits;
    const g = Float64Array.from({ length: 40 }, (_, r) => Math.round(Math.sin(r) * scale));
    const h = Float64Array.from({ length: 40 }, (_, r) => Math.round(Math.abs(Math.cos(r)) * scale * 0.25));
    const binned = [0, 1].map((f) => Uint8Array.from({ length: 40 }, (_, r) => (r * (f + 2)) % 5));
    const ciphertexts = paillierEncryptRows(publicKey, rows, g, h, packing);
    const { sums, masks } = paillierBinSums(publicKey, ciphertexts, rows, binned, 5);
    const decrypted = sums.map((c) => privateKey.decrypt(c));
    const packed = paillierUnmask(publicKey, decrypted, masks);
    const shift = 2n ** BigInt(packing.gBits);
    binned.forEach((column, f) => {
      for (let b = 0; b < 5; b++) {
        let expected = 0n;
        for (const r of rows) if (column[r] === b) expected += BigInt(g[r]) + BigInt(h[r]) * shift;
        expect(packed[f * 5 + b]).toBe(expected);
        // What the coordinator decrypted is the masked value, not the sum.
        expect(decrypted[f * 5 + b]).not.toBe(expected);
      }
    });
  });
});
