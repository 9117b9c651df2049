import { CkksContext, CkksError } from '../src/ckks-context';
import { ckksWorkerThreads, InlineCkksEngine, ProductSumsTask, WorkerCkksEngine } from '../src/ckks-engine';
import { CkksEncryptor, CkksKeyHolder } from '../src/ckks-keys';

describe('CkksEngine: worker threads compute what the calling thread would', () => {
  let ckks: CkksContext;
  let keys: CkksKeyHolder;
  let encryptor: CkksEncryptor;
  let workers: WorkerCkksEngine;
  let decryptors: WorkerCkksEngine;
  let inline: InlineCkksEngine;
  const level1 = () => ckks.topLevel - 1;

  beforeAll(async () => {
    ckks = await CkksContext.create();
    keys = CkksKeyHolder.generate(ckks, []);
    encryptor = CkksEncryptor.fromBundle(ckks, keys.publicBundle());
    workers = new WorkerCkksEngine({ ckks, encryptor }, 2);
    decryptors = new WorkerCkksEngine({ ckks, keys }, 2);
    inline = new InlineCkksEngine({ ckks, encryptor, keys });
  });
  afterAll(async () => {
    await workers.close();
    await decryptors.close();
    encryptor.dispose();
    keys.dispose();
    ckks.dispose();
  });

  const slotsOf = (n: number, f: (i: number) => number) =>
    Float64Array.from({ length: ckks.slots }, (_, i) => (i < n ? f(i) : 0));

  function task(
    rescale: boolean,
    level: number,
    scale: number,
    plainScale: number,
  ): { task: () => ProductSumsTask; expected: Float64Array[] } {
    const a = slotsOf(ckks.slots, (i) => Math.sin(i) / 2);
    const b = slotsOf(ckks.slots, (i) => Math.cos(i) / 3);
    const x = slotsOf(ckks.slots, (i) => ((i % 11) - 5) / 1024);
    const y = slotsOf(ckks.slots, (i) => ((i % 7) - 3) / 1024);
    const add = slotsOf(ckks.slots, (i) => (i % 13) * 1000);
    const ciphertexts = [a, b].map((v) => {
      const ct = encryptor.encrypt(v, scale, level);
      try {
        return ckks.serialize(ct);
      } finally {
        ct.delete();
      }
    });
    // Three outputs (more than the two workers): x·a + y·b + add, y·a + x·b, and again the first.
    const first = Float64Array.from(a, (_, i) => a[i] * x[i] + b[i] * y[i] + add[i]);
    const second = Float64Array.from(a, (_, i) => a[i] * y[i] + b[i] * x[i]);
    // Fresh buffers each time: a worker engine takes them.
    const outputs = () => [
      { plains: [x.slice(), y.slice()], add: add.slice() },
      { plains: [y.slice(), x.slice()] },
      { plains: [x.slice(), y.slice()], add: add.slice() },
    ];
    return {
      task: () => ({ ciphertexts, expect: { level, scale }, plainScale, rescale, outputs: outputs() }),
      expected: [first, second, first],
    };
  }

  it.each([
    ['without a rescale, one level below the top (split LR, Taylor)', false, 2 ** 40, 2 ** 32],
    ['rescaled from the top (cubic, weighted)', true, 2 ** 40, 2 ** 40],
  ])('a product sum %s matches the inline engine', async (_, rescale, scale, plainScale) => {
    const level = rescale ? ckks.topLevel : level1();
    const { task: make, expected } = task(rescale, level, scale, plainScale);
    const [fromWorkers, fromInline] = await Promise.all([workers.productSums(make()), inline.productSums(make())]);
    const outLevel = level1();
    const outScale = rescale ? ckks.rescaledScale(scale * plainScale, ckks.topLevel) : scale * plainScale;
    for (const outputs of [fromWorkers, fromInline]) {
      expect(outputs).toHaveLength(3);
      const decrypted = await decryptors.decrypt(outputs, { level: outLevel, scale: outScale });
      decrypted.forEach((slots, k) => {
        let worst = 0;
        for (let i = 0; i < ckks.slots; i++) worst = Math.max(worst, Math.abs(slots[i] - expected[k][i]));
        expect(worst).toBeLessThan(1e-6);
      });
    }
  });

  it('leaves a message the ciphertexts were decoded from whole (a Node Buffer slice is a view, not a copy)', async () => {
    const { task: make, expected } = task(false, level1(), 2 ** 40, 2 ** 32);
    const t = make();
    // As a transport decodes them: views into one Buffer holding the whole message.
    const message = Buffer.concat([Buffer.from('header'), ...t.ciphertexts]);
    let offset = 6;
    const views = t.ciphertexts.map((c) => message.subarray(offset, (offset += c.length)));
    const outputs = await workers.productSums({ ...t, ciphertexts: views });
    expect(message.length).toBeGreaterThan(0); // not detached
    expect(views.every((v, i) => Buffer.from(v).equals(Buffer.from(t.ciphertexts[i])))).toBe(true);
    const [slots] = await decryptors.decrypt([Buffer.concat([Buffer.from('x'), outputs[0]]).subarray(1)], {
      level: level1(),
      scale: 2 ** 72,
    });
    expect(Math.abs(slots[5] - expected[0][5])).toBeLessThan(1e-6);
  });

  it('decrypts on worker threads holding the key to the same slots as the key holder', async () => {
    const values = slotsOf(100, (i) => i / 7);
    const ct = encryptor.encrypt(values);
    const bytes = ckks.serialize(ct);
    const own = keys.decrypt(ct);
    ct.delete();
    const [remote] = await decryptors.decrypt([bytes], { level: ckks.topLevel, scale: ckks.scale });
    for (let i = 0; i < 100; i++) expect(Math.abs(remote[i] - own[i])).toBeLessThan(1e-6);
  });

  it('encrypts from Enc(0)s made ahead on the workers, each used once', async () => {
    const engine = new WorkerCkksEngine({ ckks, encryptor }, 1);
    try {
      const values = slotsOf(10, (i) => i - 4.5);
      const first = engine.encrypt(values, 2 ** 40, level1());
      expect(engine.encryptions).toEqual({ fromReserve: 0, inline: 1 });
      await engine.prepare(2 ** 40, level1()); // the reserve refills meanwhile
      const later = [engine.encrypt(values, 2 ** 40, level1()), engine.encrypt(values, 2 ** 40, level1())];
      expect(engine.encryptions).toEqual({ fromReserve: 2, inline: 1 });
      const bytes = new Set<string>();
      for (const ct of [first, ...later]) {
        expect(ckks.levelOf(ct)).toBe(level1());
        const slots = keys.decrypt(ct);
        for (let i = 0; i < 10; i++) expect(Math.abs(slots[i] - values[i])).toBeLessThan(1e-6);
        bytes.add(Buffer.from(ckks.serialize(ct)).toString('base64'));
        ct.delete();
      }
      expect(bytes.size).toBe(3); // fresh randomness in each
    } finally {
      await engine.close();
    }
  });

  it('starts the threads asked for, and none for 0 or on a single core (what the party logs)', () => {
    expect(ckksWorkerThreads(2, 2)).toBe(2);
    expect(ckksWorkerThreads(4, 8)).toBe(4);
    expect(ckksWorkerThreads(0, 8)).toBe(0);
    expect(ckksWorkerThreads(2, 1)).toBe(0);
  });

  it('warms its workers once (one promise however often asked), and works on after', async () => {
    const fresh = new WorkerCkksEngine({ ckks, keys }, 2);
    try {
      const warming = fresh.warm();
      expect(fresh.warm()).toBe(warming);
      await warming;
      const ct = encryptor.encrypt([0.25, -0.5], ckks.scale, level1());
      const bytes = ckks.serialize(ct);
      ct.delete();
      const [slots] = await fresh.decrypt([bytes], { level: level1(), scale: ckks.scale });
      expect(slots[0]).toBeCloseTo(0.25, 6);
      expect(slots[1]).toBeCloseTo(-0.5, 6);
      await expect(inline.warm()).resolves.toBeUndefined();
    } finally {
      await fresh.close();
    }
  });

  it('names a wrong-level ciphertext from a worker as a CkksError, and refuses work once closed', async () => {
    const { task: make } = task(false, level1(), 2 ** 40, 2 ** 32);
    const wrong = { ...make(), expect: { level: ckks.topLevel, scale: 2 ** 40 } };
    const error = await workers.productSums(wrong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CkksError);
    expect((error as CkksError).code).toBe('WRONG_LEVEL');
    const engine = new WorkerCkksEngine({ ckks, encryptor }, 1);
    await engine.close();
    await expect(engine.productSums(make())).rejects.toThrow('CKKS engine closed');
  });

  it('will not decrypt without the secret key', async () => {
    const ct = encryptor.encrypt([1]);
    const bytes = ckks.serialize(ct);
    ct.delete();
    await expect(workers.decrypt([bytes], { level: ckks.topLevel })).rejects.toThrow('holds no secret key');
  });
});
