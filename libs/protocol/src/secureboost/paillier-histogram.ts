/**
 * SecureBoost's histograms the way FATE computes them, with Paillier (paillier-bigint, 2048-bit
 * keys): one ciphertext per row holding g + 2^K·h (the same GH packing), a homomorphic addition
 * per row and feature, and per bin a fresh encryption of a mask before the coordinator decrypts.
 * The benchmark times it beside the BFV protocol, on the same numbers; a test checks that both
 * give the same bin sums.
 */
import { randomBytes } from 'node:crypto';
import type * as paillier from 'paillier-bigint';
import type { GradientPacking } from './packing';

/** The label party's row ciphertexts, for the rows given (fixed-point g and h by row id). */
export function paillierEncryptRows(
  publicKey: paillier.PublicKey,
  rows: Int32Array,
  gFixed: Float64Array,
  hFixed: Float64Array,
  packing: GradientPacking,
): bigint[] {
  const shift = 2n ** BigInt(packing.gBits);
  return Array.from(rows, (r) => {
    const v = BigInt(gFixed[r]) + BigInt(hFixed[r]) * shift;
    return publicKey.encrypt(v < 0n ? publicKey.n + v : v);
  });
}

/**
 * A feature party's masked bin sums of one node: per feature and slot, Σ of its rows'
 * ciphertexts times Enc(mask); the masks (uniform below n) go to the label party.
 */
export function paillierBinSums(
  publicKey: paillier.PublicKey,
  ciphertexts: readonly bigint[],
  rows: Int32Array,
  binned: readonly Uint8Array[],
  slots: number,
): { sums: bigint[]; masks: bigint[] } {
  const n2 = publicKey._n2;
  const sums: bigint[] = [];
  const masks: bigint[] = [];
  for (const column of binned) {
    const acc = new Array<bigint>(slots).fill(1n);
    rows.forEach((r, k) => {
      const b = column[r];
      acc[b] = (acc[b] * ciphertexts[k]) % n2;
    });
    for (const sum of acc) {
      const mask = uniformBelow(publicKey.n);
      masks.push(mask);
      sums.push((sum * publicKey.encrypt(mask)) % n2);
    }
  }
  return { sums, masks };
}

/** The label party's bin sums from the coordinator's decryptions and the masks: signed packed residues. */
export function paillierUnmask(
  publicKey: paillier.PublicKey,
  decrypted: readonly bigint[],
  masks: readonly bigint[],
): bigint[] {
  const n = publicKey.n;
  return decrypted.map((d, i) => {
    const v = (((d - masks[i]) % n) + n) % n;
    return v > n / 2n ? v - n : v;
  });
}

function uniformBelow(n: bigint): bigint {
  const bytes = Math.ceil(n.toString(2).length / 8) + 8;
  // 64 extra bits make the reduction's bias negligible (< 2^-64).
  return BigInt(`0x${randomBytes(bytes).toString('hex')}`) % n;
}
