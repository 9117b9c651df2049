/**
 * The BFV engine on worker threads computes what it computes inline: the same masked sums of
 * one-hot products (decrypted and compared), and encryptions that decrypt to their coefficients.
 */
import { BfvContext } from '../src/bfv-context';
import { createBfvEngine, InlineBfvEngine, WorkerBfvEngine } from '../src/bfv-engine';
import { BfvEncryptor, BfvKeyHolder } from '../src/bfv-keys';

describe('BfvEngine: worker threads compute what the calling thread would', () => {
  let bfv: BfvContext;
  let keys: BfvKeyHolder;

  beforeAll(async () => {
    bfv = await BfvContext.create();
    keys = BfvKeyHolder.generate(bfv);
  });
  afterAll(() => {
    keys.dispose();
    bfv.dispose();
  });

  it('encrypts and sums masked one-hot products the same on two workers as inline', async () => {
    const workers = createBfvEngine(bfv, 2, keys.publicKey());
    const encryptor = BfvEncryptor.fromPublicKey(bfv, keys.publicKey());
    const inline = new InlineBfvEngine({ bfv, encryptor });
    try {
      expect(workers).toBeInstanceOf(WorkerBfvEngine);
      const coefficients = [0, 1, 2].map((k) => BigUint64Array.from({ length: 124 }, (_, i) => BigInt(i * 1000 + k)));
      const chunks = await workers.encrypt(coefficients);
      expect(chunks).toHaveLength(3);
      chunks.forEach((c, k) => expect(keys.decrypt(c, 'chunk').coefficients.subarray(0, 124)).toEqual(coefficients[k]));
      const outputs = [0, 1, 2, 3, 4].map((q) => ({
        terms: chunks.map((_, c) => Int32Array.from({ length: 124 }, (_, i) => ((i + q + c) % 33) * 124 - i)),
        mask: BigUint64Array.from({ length: bfv.degree }, (_, i) => BigInt(i * q)),
      }));
      const [fromWorkers, fromInline] = await Promise.all([
        workers.productSums(chunks, outputs),
        inline.productSums(chunks, outputs),
      ]);
      expect(fromWorkers).toHaveLength(5);
      fromWorkers.forEach((sum, k) =>
        expect(keys.decrypt(sum, 'workers').coefficients).toEqual(keys.decrypt(fromInline[k], 'inline').coefficients),
      );
    } finally {
      await workers.close();
      encryptor.dispose();
    }
  });

  it('refuses to encrypt without a public key', async () => {
    const engine = createBfvEngine(bfv, 0);
    await expect(engine.encrypt([new BigUint64Array(4)])).rejects.toThrow('holds no public key');
    await engine.close();
  });
});
