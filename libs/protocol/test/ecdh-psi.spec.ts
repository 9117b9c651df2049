import { NodeX25519Group, nobleX25519Group } from '../../crypto/src/psi-group';
import { EcdhPsiSession, psiDomainTag, PsiProtocolError } from '../src/ecdh-psi';

function run(a: string[], b: string[], group = new NodeX25519Group()) {
  const dst = psiDomainTag('job-1');
  const alice = new EcdhPsiSession(group, a, dst);
  const bob = new EcdhPsiSession(group, b, dst);
  alice.acceptOwnDoubleBlinded(bob.blindPeer(alice.blindOwn()));
  bob.acceptOwnDoubleBlinded(alice.blindPeer(bob.blindOwn()));
  return [alice.finish(), bob.finish()];
}

describe(EcdhPsiSession.name, () => {
  it('gives both sides exactly the intersection, in the same order, with equal digests', () => {
    const a = Array.from({ length: 300 }, (_, i) => `138${String(i).padStart(8, '0')}`);
    const b = Array.from({ length: 200 }, (_, i) => `138${String(i + 150).padStart(8, '0')}`);
    const [ra, rb] = run(a, b);
    const expected = a.filter((id) => b.includes(id)).sort();
    expect(ra.sharedIds).toEqual(expected);
    expect(rb.sharedIds).toEqual(expected);
    expect(ra.orderDigest).toBe(rb.orderDigest);
  });

  it('agrees with the noble reference group', () => {
    const [ra] = run(['a', 'b', 'c'], ['b', 'c', 'd'], nobleX25519Group as NodeX25519Group);
    expect(ra.sharedIds).toEqual(['b', 'c']);
  });

  it('returns an empty intersection for disjoint sets', () => {
    const [ra, rb] = run(['1', '2'], ['3', '4']);
    expect(ra.sharedIds).toEqual([]);
    expect(rb.sharedIds).toEqual([]);
  });

  it('does not match across jobs (domain separation)', () => {
    const group = new NodeX25519Group();
    const alice = new EcdhPsiSession(group, ['x', 'y'], psiDomainTag('job-1'));
    const bob = new EcdhPsiSession(group, ['x', 'y'], psiDomainTag('job-2'));
    alice.acceptOwnDoubleBlinded(bob.blindPeer(alice.blindOwn()));
    bob.acceptOwnDoubleBlinded(alice.blindPeer(bob.blindOwn()));
    expect(alice.finish().sharedIds).toEqual([]);
  });

  it('refuses an empty set, a truncated list, a wrong-length answer and low-order points', () => {
    const group = new NodeX25519Group();
    const dst = psiDomainTag('j');
    expect(() => new EcdhPsiSession(group, [], dst)).toThrow('cannot run PSI on an empty ID set');
    const s = new EcdhPsiSession(group, ['a', 'b'], dst);
    expect(() => s.blindPeer(new Uint8Array(33))).toThrow('length 33 is not a multiple of 32');
    expect(() => s.blindPeer(new Uint8Array(0))).toThrow(PsiProtocolError);
    expect(() => s.blindPeer(new Uint8Array(32))).toThrow('low order');
    expect(() => s.acceptOwnDoubleBlinded(new Uint8Array(32))).toThrow('has 1 elements, expected 2');
    expect(() => s.finish()).toThrow('before both directions');
  });
});
