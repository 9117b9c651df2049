/**
 * BFV with coefficient encoding, as SecureBoost uses it: plaintexts built and read through SEAL's
 * serialisation (the layout pinned here against SEAL's own encoder), encryption, sums of
 * plaintext × ciphertext products with a mask, and decryption, checked against the polynomial
 * product computed by hand in Z_t[X]/(X^N + 1).
 */
import { BfvContext, BfvError } from '../src/bfv-context';
import { BfvEncryptor, BfvKeyHolder, BfvProductSum } from '../src/bfv-keys';

describe('BFV with coefficient encoding', () => {
  let bfv: BfvContext;
  let keys: BfvKeyHolder;
  let encryptor: BfvEncryptor;

  beforeAll(async () => {
    bfv = await BfvContext.create();
    keys = BfvKeyHolder.generate(bfv);
    encryptor = BfvEncryptor.fromPublicKey(bfv, keys.publicKey());
  });
  afterAll(() => {
    encryptor.dispose();
    keys.dispose();
    bfv.dispose();
  });

  /** a·b in Z_t[X]/(X^N + 1), schoolbook. */
  function negacyclic(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
    const n = bfv.degree;
    const t = bfv.plainModulus;
    const out = new BigUint64Array(n);
    for (let i = 0; i < a.length; i++) {
      if (a[i] === 0n) continue;
      for (let j = 0; j < b.length; j++) {
        if (b[j] === 0n) continue;
        const k = i + j;
        const v = (a[i] * b[j]) % t;
        if (k < n) out[k] = (out[k] + v) % t;
        else out[k - n] = (out[k - n] + t - v) % t;
      }
    }
    return out;
  }

  /** Deterministic residues below `max` (< t). */
  function residues(count: number, max: bigint, seed: number): BigUint64Array {
    let x = BigInt(seed) * 0x9e3779b97f4a7c15n;
    return BigUint64Array.from({ length: count }, () => {
      x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      return (x >> 5n) % max;
    });
  }

  it('uses a 58-bit prime plaintext modulus and builds plaintexts SEAL reads back as written', () => {
    expect(bfv.plainModulus).toBeGreaterThan(2n ** 57n);
    expect(bfv.plainModulus).toBeLessThan(2n ** 58n);
    const coefficients = residues(bfv.degree, bfv.plainModulus, 1);
    coefficients[5] = bfv.plainModulus - 1n;
    const plain = bfv.plaintext(coefficients);
    // SEAL's own polynomial printer agrees on the leading coefficient: the layout is SEAL's.
    expect(
      plain.toPolynomial().startsWith(`${coefficients[bfv.degree - 1].toString(16).toUpperCase()}x^${bfv.degree - 1}`),
    ).toBe(true);
    expect(bfv.coefficients(plain)).toEqual(coefficients);
    plain.delete();
  });

  it('builds one-hot plaintexts in place: X^e for e >= 0, −X^(N+e) for a wrapped e < 0', () => {
    const plain = bfv.oneHotPlaintext(Int32Array.of(0, 5, -3, bfv.degree - 1));
    const expected = new BigUint64Array(bfv.degree);
    expected[0] = 1n;
    expected[5] = 1n;
    expected[bfv.degree - 3] = bfv.plainModulus - 1n;
    expected[bfv.degree - 1] = 1n;
    expect(bfv.coefficients(plain)).toEqual(expected);
    plain.delete();
    // The shared buffer is cleared between plaintexts.
    const next = bfv.oneHotPlaintext(Int32Array.of(7));
    expect(bfv.coefficients(next).filter((c) => c !== 0n)).toEqual(BigUint64Array.of(1n));
    next.delete();
    expect(() => bfv.oneHotPlaintext(Int32Array.of(bfv.degree))).toThrow('outside the ring');
  });

  it('refuses a coefficient of t or more (SEAL checks them) and more coefficients than the ring has', () => {
    expect(() => bfv.plaintext(BigUint64Array.of(bfv.plainModulus))).toThrow(BfvError);
    expect(() => bfv.plaintext(new BigUint64Array(bfv.degree + 1))).toThrow(`at most ${bfv.degree}`);
  });

  it('decrypts Σ c_k·p_k + mask to the negacyclic products, exactly, with noise budget to spare', () => {
    const a1 = residues(124, 2n ** 40n, 2);
    const a2 = residues(124, 2n ** 50n, 3);
    // One-hot plaintexts as SecureBoost builds them: 1 at a few places, −1 (t − 1) for a wrapped term.
    const p1 = new BigUint64Array(bfv.degree);
    const p2 = new BigUint64Array(bfv.degree);
    for (let i = 0; i < 124; i++) p1[(i * 31) % bfv.degree] = 1n;
    p1[bfv.degree - 3] = bfv.plainModulus - 1n;
    p2[1000] = 1n;
    const mask = residues(bfv.degree, bfv.plainModulus, 4);
    const sum = new BfvProductSum(bfv);
    const c1 = BfvProductSum.prepare(bfv, encryptor.encrypt(a1), 'c1');
    const c2 = BfvProductSum.prepare(bfv, encryptor.encrypt(a2), 'c2');
    sum.add(c1, p1);
    sum.add(c2, p2);
    const bytes = sum.finish(mask);
    c1.delete();
    c2.delete();
    const { coefficients, noiseBudget } = keys.decrypt(bytes, 'sum');
    const second = negacyclic(a2, p2);
    const expected = negacyclic(a1, p1).map((v, i) => (v + second[i] + mask[i]) % bfv.plainModulus);
    expect(coefficients).toEqual(expected);
    expect(noiseBudget).toBeGreaterThan(15);
  });

  it('keeps noise budget after 2,000 products of a 124-term one-hot plaintext (a 250,000-row node)', () => {
    const cipher = BfvProductSum.prepare(bfv, encryptor.encrypt(residues(124, bfv.plainModulus, 5)), 'c');
    const oneHot = new BigUint64Array(bfv.degree);
    for (let i = 0; i < 124; i++) oneHot[i * 33] = i % 2 === 0 ? 1n : bfv.plainModulus - 1n;
    const sum = new BfvProductSum(bfv);
    for (let k = 0; k < 2000; k++) sum.add(cipher, oneHot);
    cipher.delete();
    const { noiseBudget } = keys.decrypt(sum.finish(new BigUint64Array(bfv.degree)), 'sum');
    expect(noiseBudget).toBeGreaterThan(3);
  });

  it('refuses a ciphertext that is not one under the job parameters', () => {
    expect(() => keys.decrypt(new Uint8Array(100), 'junk')).toThrow('junk: not a ciphertext under the job');
    expect(() => keys.decrypt(new Uint8Array(bfv.maxCiphertextBytes() + 1), 'big')).toThrow('larger than allowed');
  });
});
