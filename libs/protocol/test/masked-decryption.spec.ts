import { CkksContext, CkksError } from '../../crypto/src/ckks-context';
import { CkksEncryptor, CkksKeyHolder } from '../../crypto/src/ckks-keys';
import { DecryptionRefusedError, MaskedDecryptionService, secureUniformMasks } from '../src/split-lr/masked-decryption';

describe(MaskedDecryptionService.name, () => {
  let ckks: CkksContext;
  let holder: CkksKeyHolder;
  let encryptor: CkksEncryptor;

  beforeAll(async () => {
    ckks = await CkksContext.create();
    holder = CkksKeyHolder.generate(ckks, []);
    encryptor = CkksEncryptor.fromBundle(ckks, holder.publicBundle());
  });
  afterAll(() => {
    encryptor.dispose();
    holder.dispose();
    ckks.dispose();
  });

  /** A ciphertext at the gradient level (one plaintext product below the top), as parties send. */
  function gradientCiphertext(values: number[]): Uint8Array {
    const ct = encryptor.encrypt(values);
    const one = ckks.encode(new Float64Array(ckks.slots).fill(1));
    const product = ckks.multiplyPlainRescale(ct, one);
    try {
      return ckks.serialize(product);
    } finally {
      [ct, one, product].forEach((x) => x.delete());
    }
  }

  it('releases only the announced width, flooded and rounded to a 2^-20 grid', () => {
    const service = new MaskedDecryptionService(holder);
    service.expect('bank:0:0', { width: 3, level: ckks.topLevel - 1 });
    const released = service.decrypt('bank:0:0', gradientCiphertext([0.125, -2.5, 1e-3, 99, 99]));
    expect(released).toHaveLength(3);
    [0.125, -2.5, 1e-3].forEach((v, j) => expect(Math.abs(released[j] - v)).toBeLessThan(1e-5));
    for (const v of released) expect(Number.isInteger(v * 2 ** 20)).toBe(true);
  });

  it('unmasks to the gradient within 1e-5 when the mask is 2^30', () => {
    const service = new MaskedDecryptionService(holder);
    const gradient = [0.0123, -0.456, 0.789];
    const mask = secureUniformMasks(ckks.slots, 2 ** 30);
    service.expect('k', { width: 3, level: ckks.topLevel - 1 });
    const released = service.decrypt('k', gradientCiphertext(gradient.map((g, j) => g + mask[j])));
    gradient.forEach((g, j) => expect(Math.abs(released[j] - mask[j] - g)).toBeLessThan(1e-5));
  });

  it('refuses unannounced requests, replays and announcements made twice', () => {
    const service = new MaskedDecryptionService(holder);
    const bytes = gradientCiphertext([1]);
    expect(() => service.decrypt('ecommerce:0:0', bytes)).toThrow(DecryptionRefusedError);
    service.expect('ecommerce:0:0', { width: 1, level: ckks.topLevel - 1 });
    service.decrypt('ecommerce:0:0', bytes);
    expect(() => service.decrypt('ecommerce:0:0', bytes)).toThrow('already served (replay)');
    expect(() => service.expect('ecommerce:0:0', { width: 1, level: 1 })).toThrow('already announced');
  });

  it('refuses a ciphertext at another level than announced (a fresh one could be anything)', () => {
    const service = new MaskedDecryptionService(holder);
    const fresh = encryptor.encrypt([1, 2, 3]);
    const bytes = ckks.serialize(fresh);
    fresh.delete();
    service.expect('bank:1:1', { width: 3, level: ckks.topLevel - 1 });
    expect(() => service.decrypt('bank:1:1', bytes)).toThrow(CkksError);
  });
});
