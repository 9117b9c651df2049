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

  /** a·b in Z_t[X]/(X^N + 1), schoolbook, exact with BigInt. */
  function negacyclic(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
    const n = bfv.degree;
    const t = BigInt(bfv.plainModulus);
    const out = new Array<bigint>(n).fill(0n);
    for (let i = 0; i < a.length; i++) {
      if (a[i] === 0) continue;
      for (let j = 0; j < b.length; j++) {
        if (b[j] === 0) continue;
        const k = i + j;
        const v = BigInt(a[i]) * BigInt(b[j]);
        if (k < n) out[k] = (out[k] + v) % t;
        else out[k - n] = (((out[k - n] - v) % t) + t) % t;
      }
    }
    return Float64Array.from(out, Number);
  }

  it('uses a 40-bit prime plaintext modulus and builds plaintexts SEAL reads back as written', () => {
    expect(bfv.plainModulus).toBeGreaterThan(2 ** 39);
    expect(bfv.plainModulus).toBeLessThan(2 ** 40);
    const coefficients = Float64Array.from({ length: bfv.degree }, (_, i) => (i * 7919 + 3) % bfv.plainModulus);
    coefficients[5] = bfv.plainModulus - 1;
    const plain = bfv.plaintext(coefficients);
    // SEAL's own polynomial printer agrees on the leading coefficient: the layout is SEAL's.
    expect(
      plain.toPolynomial().startsWith(`${coefficients[bfv.degree - 1].toString(16).toUpperCase()}x^${bfv.degree - 1}`),
    ).toBe(true);
    expect(bfv.coefficients(plain)).toEqual(coefficients);
    plain.delete();
  });

  it('refuses a coefficient outside [0, t) and more coefficients than the ring has', () => {
    expect(() => bfv.plaintext([bfv.plainModulus])).toThrow(BfvError);
    expect(() => bfv.plaintext([-1])).toThrow('an integer in [0, t)');
    expect(() => bfv.plaintext(new Float64Array(bfv.degree + 1))).toThrow(`at most ${bfv.degree}`);
  });

  it('decrypts Σ c_k·p_k + mask to the negacyclic products, exactly, with noise budget to spare', () => {
    const random = (count: number, max: number) =>
      Float64Array.from(
        { length: count },
        (_, i) => Math.floor(Math.abs(Math.sin(i * 12.9898 + max)) * max) % bfv.plainModulus,
      );
    const a1 = random(200, 2 ** 30);
    const a2 = random(200, 2 ** 20);
    const p1 = new Float64Array(bfv.degree);
    const p2 = new Float64Array(bfv.degree);
    p1[0] = 1;
    p1[77] = 1;
    p1[bfv.degree - 3] = bfv.plainModulus - 1; // −X^(N−3): a wrapped one-hot term
    p2[1000] = 1;
    const mask = random(bfv.degree, 2 ** 39);
    const sum = new BfvProductSum(bfv);
    const c1 = BfvProductSum.prepare(bfv, encryptor.encrypt(a1), 'c1');
    const c2 = BfvProductSum.prepare(bfv, encryptor.encrypt(a2), 'c2');
    sum.add(c1, p1);
    sum.add(c2, p2);
    const bytes = sum.finish(mask);
    c1.delete();
    c2.delete();
    const { coefficients, noiseBudget } = keys.decrypt(bytes, 'sum');
    const expected = negacyclic(a1, p1).map((v, i) => (v + negacyclic(a2, p2)[i] + mask[i]) % bfv.plainModulus);
    expect(coefficients).toEqual(expected);
    expect(noiseBudget).toBeGreaterThan(10);
  });

  it('refuses a ciphertext that is not one under the job parameters', () => {
    expect(() => keys.decrypt(new Uint8Array(100), 'junk')).toThrow('junk: not a ciphertext under the job');
    expect(() => keys.decrypt(new Uint8Array(bfv.maxCiphertextBytes() + 1), 'big')).toThrow('larger than allowed');
  });
});
