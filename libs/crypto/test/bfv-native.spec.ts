/**
 * The C addon's product sums (libs/crypto/native/bfv_products.c) against two references: a
 * schoolbook negacyclic product in BigInt on residues chosen by hand (independent of SEAL), and
 * SEAL's own evaluator on real ciphertexts, byte for byte, masks included. Then what it refuses.
 */
import { randomInt } from 'node:crypto';
import * as path from 'node:path';
import { buildNativeAddons } from '../../../scripts/build-native';
import { BfvContext, BFV_N4096_T21 } from '../src/bfv-context';
import { runBfvTask } from '../src/bfv-engine';
import { BfvEncryptor, BfvKeyHolder } from '../src/bfv-keys';
import { BFV_ADDON_PATH, BfvSumOutput, loadNativeBfvProducts, nativeProductSums } from '../src/bfv-native';

// The unit tests run the TypeScript sources, so build the addon where bfv-native.ts looks for it.
beforeAll(() => {
  const result = buildNativeAddons(path.resolve(__dirname, '../../..'), [path.dirname(BFV_ADDON_PATH)]);
  if ('skipped' in result) throw new Error(`the C addons must build on the test machine: ${result.skipped}`);
});

/** Σ_c chunk_c · Σ_e ±X^e modulo (X^N + 1, q), schoolbook, one residue vector. */
function schoolbook(chunks: BigUint64Array[], terms: Int32Array[], q: bigint, n: number): bigint[] {
  const out = new Array<bigint>(n).fill(0n);
  chunks.forEach((a, c) => {
    for (const e of terms[c]) {
      // X^e for e ≥ 0; −X^(N+e) for e < 0.
      const shift = e >= 0 ? e : n + e;
      const sign = e >= 0 ? 1n : -1n;
      for (let i = 0; i < n; i++) {
        const k = i + shift;
        const v = sign * a[i];
        if (k < n) out[k] += v;
        else out[k - n] -= v;
      }
    }
  });
  return out.map((v) => ((v % q) + q) % q);
}

describe('native BFV product sums (libs/crypto/native/bfv_products.c)', () => {
  let bfv: BfvContext;
  let keys: BfvKeyHolder;
  let encryptor: BfvEncryptor;

  beforeAll(async () => {
    expect(loadNativeBfvProducts()).not.toBeNull();
    bfv = await BfvContext.create();
    keys = BfvKeyHolder.generate(bfv);
    encryptor = BfvEncryptor.fromPublicKey(bfv, keys.publicKey());
  });
  afterAll(() => {
    encryptor.dispose();
    keys.dispose();
    bfv.dispose();
  });

  const n = 4096;
  const header = () => {
    const sample = encryptor.encrypt(new BigUint64Array(1));
    return sample.slice(0, sample.length - 2 * 2 * n * 8);
  };
  /** A ciphertext's bytes with residues chosen here: polynomial p, prime l, coefficient i. */
  const handMade = (residue: (p: number, l: number, i: number) => bigint): Uint8Array => {
    const head = header();
    const words = new BigUint64Array(2 * 2 * n);
    for (let p = 0; p < 2; p++)
      for (let l = 0; l < 2; l++) for (let i = 0; i < n; i++) words[(p * 2 + l) * n + i] = residue(p, l, i);
    const bytes = new Uint8Array(head.length + words.length * 8);
    bytes.set(head);
    bytes.set(new Uint8Array(words.buffer), head.length);
    return bytes;
  };
  const residues = (bytes: Uint8Array, p: number, l: number): BigUint64Array => {
    const words = new BigUint64Array(bytes.slice(bytes.length - 2 * 2 * n * 8).buffer);
    return words.subarray((p * 2 + l) * n, (p * 2 + l + 1) * n);
  };

  it('is the schoolbook negacyclic product modulo each prime on hand-made residues (known answer)', () => {
    const [q0, q1] = bfv.dataPrimes;
    expect([q0, q1]).toEqual([70368743587841n, 70368743669761n]);
    const chunks = [0, 1].map((c) =>
      handMade((p, l, i) => (BigInt(i * 7919 + p * 104729 + c * 31) * 1_000_003n) % [q0, q1][l]),
    );
    // Distinct positions (a one-hot sets each coefficient once): X^0, X^5, −X^(N−1), X^(N−2), −X^7, …
    const terms = [0, 1].map((c) => Int32Array.from([0, 5, -1, n - 2, -(n - 7), 33 * 124 - 3 - c]));
    const zeroMask = new BigUint64Array(n);
    const [sum] = nativeProductSums(bfv, chunks, [{ terms, mask: zeroMask }])!;
    for (const p of [0, 1])
      for (const l of [0, 1]) {
        const expected = schoolbook(
          chunks.map((c) => residues(c, p, l)),
          terms,
          [q0, q1][l],
          n,
        );
        expect(Array.from(residues(sum, p, l), (v) => v)).toEqual(expected);
      }
  });

  it("gives SEAL's evaluator's bytes, masks included, for 1 and 9 chunks and 1 to 3 features per product", () => {
    const t = bfv.plainModulus;
    for (const [chunkCount, block, features] of [
      [1, 124, 1],
      [9, 124, 1],
      [4, 41, 3],
    ]) {
      const plain = Array.from({ length: chunkCount }, () =>
        BigUint64Array.from({ length: block }, () => BigInt(randomInt(0, 2 ** 40)) % t),
      );
      const chunks = plain.map((p) => encryptor.encrypt(p));
      const outputs: BfvSumOutput[] = Array.from({ length: 3 }, () => ({
        terms: chunks.map(() => {
          const terms = new Int32Array(block * features);
          for (let q = 0; q < features; q++)
            for (let i = 0; i < block; i++) terms[q * block + i] = (q * 33 + randomInt(0, 33)) * block - i;
          return terms;
        }),
        mask: BigUint64Array.from({ length: n }, () => (BigInt(randomInt(0, 2 ** 47)) * 1024n) % t),
      }));
      const native = nativeProductSums(bfv, chunks, outputs)!;
      const seal = runBfvTask({ bfv, sealOnly: true }, { op: 'productSums', chunks, outputs });
      expect(native.map((b) => Buffer.from(b).toString('base64'))).toEqual(
        seal.map((b) => Buffer.from(b).toString('base64')),
      );
      // And decrypt to the masked bin sums: the first output's bins of its first feature.
      const decrypted = keys.decrypt(native[0], 'sum').coefficients;
      for (let bin = 0; bin < 33; bin++) {
        let sum = outputs[0].mask[bin * block];
        plain.forEach((values, c) =>
          outputs[0].terms[c].subarray(0, block).forEach((e, i) => {
            if (e + i === bin * block) sum += values[i];
          }),
        );
        expect(decrypted[bin * block]).toBe(sum % t);
      }
    }
  });

  it('refuses a chunk of another shape, an unreduced residue, an exponent outside the ring, a mask not below t; declines wide primes', async () => {
    const good = encryptor.encrypt(new BigUint64Array([1n, 2n, 3n]));
    const output = (terms: Int32Array, count = 2): BfvSumOutput => ({
      terms: Array.from({ length: count }, () => terms),
      mask: new BigUint64Array(n),
    });
    const one = Int32Array.from([0]);
    const reheaded = good.slice();
    reheaded[40] ^= 1; // inside parms_id: SEAL would refuse it; the header check refuses it first
    expect(() => nativeProductSums(bfv, [good, reheaded], [output(one)])).toThrow(/chunk 1: not a ciphertext/);
    const unreduced = handMade((p, l, i) => (i === 17 ? bfv.dataPrimes[l] : 1n));
    expect(() => nativeProductSums(bfv, [good, unreduced], [output(one)])).toThrow(/not reduced modulo its prime/);
    expect(() => nativeProductSums(bfv, [good], [output(Int32Array.from([n]), 1)])).toThrow(/outside the ring/);
    expect(() => nativeProductSums(bfv, [good.subarray(0, 200)], [output(one, 1)])).toThrow(/chunk 0/);
    const wideMask = { ...output(one, 1), mask: new BigUint64Array(n).fill(bfv.plainModulus) };
    expect(() => nativeProductSums(bfv, [good], [wideMask])).toThrow(/mask residue is not below t/);

    const binning = await BfvContext.create(BFV_N4096_T21);
    try {
      expect(nativeProductSums(binning, [good], [output(one, 1)])).toBeNull();
    } finally {
      binning.dispose();
    }
  });
});
