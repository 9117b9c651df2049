import { CkksContext, CkksError, CkksEncryptor, CkksKeyHolder } from '@vfl/crypto';
import { packCiphertexts } from '../src/wire/codec';
import { BlockPacking } from '../src/split-lr/block-packing';
import {
  DecryptionRefusedError,
  MaskedDecryptionService,
  secureUniformMasks,
  SLOT_MASK_BOUND,
} from '../src/split-lr/masked-decryption';

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
  function gradientCiphertext(values: ArrayLike<number>): Uint8Array {
    const ct = encryptor.encrypt(values);
    const one = ckks.encode(new Float64Array(ckks.slots).fill(1));
    const product = ckks.multiplyPlainRescale(ct, one);
    try {
      return ckks.serialize(product);
    } finally {
      [ct, one, product].forEach((x) => x.delete());
    }
  }

  /** Slot vectors in the block layout whose column j's block holds `perRow(i, j)` for rows i. */
  function blockSlots(
    packing: BlockPacking,
    columns: number,
    perRow: (i: number, j: number) => number,
  ): Float64Array[] {
    const out = Array.from({ length: packing.gradientCiphertexts(columns) }, () => new Float64Array(ckks.slots));
    for (let j = 0; j < columns; j++) {
      for (let i = 0; i < packing.blockRows; i++)
        out[Math.floor(j / packing.blocksPerCiphertext)][(j % packing.blocksPerCiphertext) * packing.blockRows + i] =
          perRow(i, j);
    }
    return out;
  }

  it('releases one flooded, rounded block sum per column, and nothing else', async () => {
    const service = new MaskedDecryptionService(holder);
    const packing = new BlockPacking(ckks.slots, 1024); // 4 blocks of 1024 rows per ciphertext
    const perRow = (i: number, j: number) => ((j + 1) * (i % 7) - 3) / 1024;
    const slots = blockSlots(packing, 6, perRow);
    expect(slots).toHaveLength(2);
    service.expect('bank:0:0', { width: 6, batchRows: 1024, level: ckks.topLevel - 1 });
    const released = await service.decrypt('bank:0:0', packCiphertexts(slots.map(gradientCiphertext)));
    expect(released).toHaveLength(6);
    for (let j = 0; j < 6; j++) {
      let exact = 0;
      for (let i = 0; i < 1024; i++) exact += perRow(i, j);
      expect(Math.abs(released[j] - exact)).toBeLessThan(1e-5);
      expect(Number.isInteger(released[j] * 2 ** 20)).toBe(true);
    }
    expect(service.decryptions).toBe(2);
  });

  it('unmasks to the gradient within 1e-5 when every slot carries a mask of 2^24', async () => {
    const service = new MaskedDecryptionService(holder);
    const packing = new BlockPacking(ckks.slots, 1000);
    const gradientPart = (i: number, j: number) => Math.sin(i + 10 * j) / 1000;
    const values = blockSlots(packing, 3, gradientPart)[0];
    const mask = secureUniformMasks(ckks.slots, SLOT_MASK_BOUND);
    const maskSums = packing.blockSums([mask], 3);
    service.expect('k', { width: 3, batchRows: 1000, level: ckks.topLevel - 1 });
    const released = await service.decrypt(
      'k',
      packCiphertexts([gradientCiphertext(values.map((v, s) => v + mask[s]))]),
    );
    for (let j = 0; j < 3; j++) {
      let exact = 0;
      for (let i = 0; i < 1000; i++) exact += gradientPart(i, j);
      expect(Math.abs(released[j] - maskSums[j] - exact)).toBeLessThan(1e-5);
    }
  });

  it('takes one ciphertext per column when a batch has more rows than slots', async () => {
    const service = new MaskedDecryptionService(holder);
    const packing = new BlockPacking(ckks.slots, 5000);
    expect([packing.blockRows, packing.blocksPerCiphertext, packing.chunks]).toEqual([ckks.slots, 1, 2]);
    const slots = blockSlots(packing, 2, (i, j) => (j === 0 ? 1e-3 : -2e-3));
    service.expect('k', { width: 2, batchRows: 5000, level: ckks.topLevel - 1 });
    const released = await service.decrypt('k', packCiphertexts(slots.map(gradientCiphertext)));
    expect(Math.abs(released[0] - ckks.slots * 1e-3)).toBeLessThan(1e-5);
    expect(Math.abs(released[1] + ckks.slots * 2e-3)).toBeLessThan(1e-5);
  });

  it('refuses the wrong number of ciphertexts, and bytes that are not a list of them', async () => {
    const service = new MaskedDecryptionService(holder);
    const one = gradientCiphertext([1]);
    service.expect('a', { width: 6, batchRows: 1024, level: ckks.topLevel - 1 });
    await expect(service.decrypt('a', packCiphertexts([one]))).rejects.toThrow(
      'gradient: expected 2 ciphertexts, got 1',
    );
    service.expect('b', { width: 1, batchRows: 1024, level: ckks.topLevel - 1 });
    await expect(service.decrypt('b', one)).rejects.toThrow(CkksError);
  });

  it('refuses unannounced requests, replays and announcements made twice', async () => {
    const service = new MaskedDecryptionService(holder);
    const bytes = packCiphertexts([gradientCiphertext([1])]);
    await expect(service.decrypt('ecommerce:0:0', bytes)).rejects.toThrow(DecryptionRefusedError);
    service.expect('ecommerce:0:0', { width: 1, batchRows: 64, level: ckks.topLevel - 1 });
    await service.decrypt('ecommerce:0:0', bytes);
    await expect(service.decrypt('ecommerce:0:0', bytes)).rejects.toThrow('already served (replay)');
    expect(() => service.expect('ecommerce:0:0', { width: 1, batchRows: 64, level: 1 })).toThrow('already announced');
  });

  it('refuses a ciphertext at another level than announced (a fresh one could be anything)', async () => {
    const service = new MaskedDecryptionService(holder);
    const fresh = encryptor.encrypt([1, 2, 3]);
    const bytes = packCiphertexts([ckks.serialize(fresh)]);
    fresh.delete();
    service.expect('bank:1:1', { width: 3, batchRows: 64, level: ckks.topLevel - 1 });
    await expect(service.decrypt('bank:1:1', bytes)).rejects.toThrow(CkksError);
  });
});
