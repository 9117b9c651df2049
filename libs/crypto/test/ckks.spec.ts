import { CkksContext, CkksError, PlainText, truncatedParmsBytes } from '../src/ckks-context';
import { CkksEncryptor, CkksKeyHolder } from '../src/ckks-keys';
import { CKKS_N8192_L2 } from '../src/ckks-parameters';

describe(CkksContext.name, () => {
  let ckks: CkksContext;
  let holder: CkksKeyHolder;
  let encryptor: CkksEncryptor;
  const stride = 16;

  beforeAll(async () => {
    ckks = await CkksContext.create(CKKS_N8192_L2);
    holder = CkksKeyHolder.generate(ckks, ckks.rotationSteps(stride));
    encryptor = CkksEncryptor.fromBundle(ckks, holder.publicBundle());
  });

  afterAll(() => {
    encryptor.dispose();
    holder.dispose();
    ckks.dispose();
  });

  it('has 4096 slots, scale 2^40 and two data levels below the top', () => {
    expect(ckks.slots).toBe(4096);
    expect(ckks.scale).toBe(2 ** 40);
    expect(ckks.topLevel).toBe(2);
  });

  it('round-trips values through encrypt, serialize, deserialize and decrypt within 1e-7', () => {
    const values = Array.from({ length: 4096 }, (_, i) => Math.sin(i) * 100);
    const ct = encryptor.encrypt(values);
    const bytes = ckks.serialize(ct);
    ct.delete();
    const back = ckks.deserialize(bytes, { level: ckks.topLevel });
    const out = holder.decrypt(back);
    back.delete();
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(out[i] - values[i]));
    expect(worst).toBeLessThan(1e-7);
  });

  // Rotations add key-switching noise: the worst error measured over 15 key pairs was 2.5e-6.
  it('computes a plaintext-matrix product and block rotate-sum (X^T d) within 2e-5', () => {
    const rows = ckks.slots / stride;
    const features = 11;
    const d = Array.from({ length: rows }, (_, i) => Math.cos(i) * 0.5);
    const x = Array.from({ length: rows * features }, (_, k) => ((k * 7919) % 13) / 13 - 0.5);
    const replicated = new Float64Array(ckks.slots);
    const layout = new Float64Array(ckks.slots);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < stride; j++) replicated[i * stride + j] = d[i];
      for (let j = 0; j < features; j++) layout[i * stride + j] = x[i * features + j];
    }
    const ct = encryptor.encrypt(replicated);
    const plain = ckks.encode(layout);
    const product = ckks.multiplyPlainRescale(ct, plain);
    ckks.rotateSum(product, stride, encryptor.galoisKeys!);
    expect(ckks.levelOf(product)).toBe(ckks.topLevel - 1);
    const out = holder.decrypt(product);
    for (const v of [ct, plain, product]) v.delete();
    for (let j = 0; j < features; j++) {
      let expected = 0;
      for (let i = 0; i < rows; i++) expected += x[i * features + j] * d[i];
      expect(Math.abs(out[j] - expected)).toBeLessThan(2e-5);
    }
    expect(Math.abs(out[features])).toBeLessThan(2e-5);
  });

  it('adds values at a lower level with the exact scale of the ciphertext', () => {
    const ct = encryptor.encrypt([1, 2, 3]);
    const one = ckks.encode(new Float64Array(ckks.slots).fill(1));
    const product = ckks.multiplyPlainRescale(ct, one);
    ckks.addValues(product, [1000.5, -1000.5]);
    const out = holder.decrypt(product);
    for (const v of [ct, one, product]) v.delete();
    expect(out[0]).toBeCloseTo(1001.5, 6);
    expect(out[1]).toBeCloseTo(-998.5, 6);
    expect(out[2]).toBeCloseTo(3, 6);
  });

  it('encodes below the top directly: the same plaintext bytes as encoding at the top and mod-switching down', () => {
    const values = Float64Array.from({ length: ckks.slots }, (_, i) => Math.cos(i) * 2 ** 20);
    for (const level of [1, 0]) {
      const direct = ckks.encode(values, level, 2 ** 30);
      const switched = ckks.encoder.encode(values, 2 ** 30) as PlainText;
      const target = direct.parmsId;
      ckks.evaluator.plainModSwitchTo(switched, target, switched);
      try {
        expect(ckks.levelOf(direct)).toBe(level);
        expect(
          Buffer.from(direct.saveArray(ckks.seal.ComprModeType.none)).equals(
            Buffer.from(switched.saveArray(ckks.seal.ComprModeType.none)),
          ),
        ).toBe(true);
      } finally {
        for (const v of [direct, switched, target]) v.delete();
      }
    }
    expect(() => ckks.encode(values, 3)).toThrow('"level" expected an integer in [0, 2], got 3');
  });

  it('keeps the first moduli of serialized parameters, and refuses bytes of another shape', () => {
    const bytes = ckks.context.keyContextData.parms.saveArray(ckks.seal.ComprModeType.none);
    const parms = ckks.seal.EncryptionParameters(ckks.seal.SchemeType.ckks);
    try {
      parms.loadArray(truncatedParmsBytes(bytes, 2));
      expect(Array.from(parms.coeffModulus)).toEqual(
        Array.from(ckks.context.keyContextData.parms.coeffModulus).slice(0, 2),
      );
    } finally {
      parms.delete();
    }
    expect(() => truncatedParmsBytes(bytes, 5)).toThrow('"keep" expected in [1, 4], got 5');
    expect(() => truncatedParmsBytes(bytes.subarray(0, bytes.length - 1), 2)).toThrow(
      'unexpected SEAL EncryptionParameters serialization',
    );
  });

  it('refuses a ciphertext at an unexpected level, naming both levels', () => {
    const ct = encryptor.encrypt([1]);
    const bytes = ckks.serialize(ct);
    ct.delete();
    expect(() => ckks.deserialize(bytes, { level: 1 })).toThrow('expected at level 1, got level 2');
  });

  it('refuses garbage bytes and oversized payloads with a CkksError', () => {
    expect(() => ckks.deserialize(new Uint8Array([1, 2, 3, 4]), { level: 2 })).toThrow(CkksError);
    expect(() => ckks.deserialize(new Uint8Array(10), { level: 2, maxBytes: 5 })).toThrow(
      'ciphertext expected at most 5 bytes, got 10',
    );
  });

  it('refuses a ciphertext made under other parameters', async () => {
    const other = await CkksContext.create({
      name: 'test-n8192-60.40.60',
      polyModulusDegree: 8192,
      coeffModulusBits: [60, 40, 60],
      scaleBits: 40,
    });
    const otherHolder = CkksKeyHolder.generate(other, []);
    const otherEnc = CkksEncryptor.fromBundle(other, otherHolder.publicBundle());
    const ct = otherEnc.encrypt([1]);
    const bytes = other.serialize(ct);
    ct.delete();
    otherEnc.dispose();
    otherHolder.dispose();
    other.dispose();
    expect(() => ckks.deserialize(bytes, { level: 2 })).toThrow(CkksError);
    expect(() => CkksEncryptor.fromBundle(ckks, { ...holder.publicBundle(), parameterSet: 'other' })).toThrow(
      'public keys are for other',
    );
  });

  it('refuses a parameter set above the 128-bit security bound', async () => {
    await expect(
      CkksContext.create({
        name: 'too-big',
        polyModulusDegree: 8192,
        coeffModulusBits: [60, 60, 60, 60],
        scaleBits: 40,
      }),
    ).rejects.toThrow();
  });
});
