import { InlinePsiEngine, PsiEngine, WorkerPsiEngine } from '../../crypto/src/psi-engine';
import { nobleX25519Group } from '../../crypto/src/psi-group';
import { EcdhPsiSession, psiDomainTag, PsiProtocolError } from '../src/ecdh-psi';

const inline = new InlinePsiEngine();

async function exchange(alice: EcdhPsiSession, bob: EcdhPsiSession) {
  alice.acceptOwnDoubleBlinded(await bob.blindPeer(await alice.blindOwn()));
  bob.acceptOwnDoubleBlinded(await alice.blindPeer(await bob.blindOwn()));
}

async function run(a: string[], b: string[], engineA: PsiEngine = inline, engineB: PsiEngine = inline) {
  const dst = psiDomainTag('job-1');
  const alice = new EcdhPsiSession(engineA, a, dst);
  const bob = new EcdhPsiSession(engineB, b, dst);
  await exchange(alice, bob);
  return [alice.finish(), bob.finish()];
}

describe(EcdhPsiSession.name, () => {
  it('gives both sides exactly the intersection, in the same order, with equal digests', async () => {
    const a = Array.from({ length: 300 }, (_, i) => `138${String(i).padStart(8, '0')}`);
    const b = Array.from({ length: 200 }, (_, i) => `138${String(i + 150).padStart(8, '0')}`);
    const [ra, rb] = await run(a, b);
    const expected = a.filter((id) => b.includes(id)).sort();
    expect(ra.sharedIds).toEqual(expected);
    expect(rb.sharedIds).toEqual(expected);
    expect(ra.orderDigest).toBe(rb.orderDigest);
  });

  it('interoperates across engines: noble reference on one side, libsodium worker threads on the other', async () => {
    const workers = new WorkerPsiEngine(2);
    try {
      // More than one chunk per side, so chunks run on both workers and are reassembled in order.
      const a = Array.from({ length: 5000 }, (_, i) => `id-${i}`);
      const b = Array.from({ length: 40 }, (_, i) => `id-${i * 150}`);
      const [ra, rb] = await run(a, b, workers, new InlinePsiEngine(nobleX25519Group));
      expect(ra.sharedIds).toEqual(b.filter((id) => a.includes(id)).sort());
      expect(rb.sharedIds).toEqual(ra.sharedIds);
      expect(ra.orderDigest).toBe(rb.orderDigest);
    } finally {
      await workers.close();
    }
  });

  it('returns an empty intersection for disjoint sets', async () => {
    const [ra, rb] = await run(['1', '2'], ['3', '4']);
    expect(ra.sharedIds).toEqual([]);
    expect(rb.sharedIds).toEqual([]);
  });

  it('does not match across jobs (domain separation)', async () => {
    const alice = new EcdhPsiSession(inline, ['x', 'y'], psiDomainTag('job-1'));
    const bob = new EcdhPsiSession(inline, ['x', 'y'], psiDomainTag('job-2'));
    await exchange(alice, bob);
    expect(alice.finish().sharedIds).toEqual([]);
  });

  it('refuses an empty set, a truncated list, a wrong-length answer and low-order points', async () => {
    const dst = psiDomainTag('j');
    expect(() => new EcdhPsiSession(inline, [], dst)).toThrow('cannot run PSI on an empty ID set');
    const s = new EcdhPsiSession(inline, ['a', 'b'], dst);
    await expect(s.blindPeer(new Uint8Array(33))).rejects.toThrow('length 33 is not a multiple of 32');
    await expect(s.blindPeer(new Uint8Array(0))).rejects.toThrow(PsiProtocolError);
    await expect(s.blindPeer(new Uint8Array(32))).rejects.toThrow('peer element 0: element is of low order');
    expect(() => s.acceptOwnDoubleBlinded(new Uint8Array(32))).toThrow('has 1 elements, expected 2');
    expect(() => s.finish()).toThrow('before both directions');
  });

  it('names the first bad element of a peer list processed by worker threads', async () => {
    const workers = new WorkerPsiEngine(2);
    try {
      const s = new EcdhPsiSession(workers, ['a'], psiDomainTag('j'));
      const good = await new EcdhPsiSession(inline, Array.from({ length: 5000 }, (_, i) => `x${i}`), psiDomainTag('j')).blindOwn();
      good[4500 * 32 + 31] |= 0x80; // element 4500 (second chunk): top bit set
      await expect(s.blindPeer(good)).rejects.toThrow('peer element 4500: element has the top bit set');
    } finally {
      await workers.close();
    }
  });
});
