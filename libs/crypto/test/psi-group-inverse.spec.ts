import { randomBytes } from 'node:crypto';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import inverseVectors from './vectors/x25519-inverse-scalar.json';
import {
  clampedScalar,
  nobleX25519Group,
  PsiGroup,
  randomInvertibleScalar,
  SodiumX25519Group,
  X25519_GROUP_ORDER,
  x25519InverseScalar,
} from '../src/psi-group';

const groups: [string, PsiGroup][] = [
  ['noble', nobleX25519Group],
  ['libsodium', new SodiumX25519Group()],
];
const L = X25519_GROUP_ORDER;

describe('X25519 inverse scalars (unbalanced PSI)', () => {
  it('the group order is 2^252 + 27742317777372353535851937790883648493', () => {
    expect(BigInt(inverseVectors.groupOrder)).toBe(L);
    expect(L).toBe(2n ** 252n + 27742317777372353535851937790883648493n);
  });

  it('reproduces the checked-in inverses, and scalars without one', () => {
    for (const v of inverseVectors.vectors)
      expect(bytesToHex(x25519InverseScalar(hexToBytes(v.scalar))!)).toBe(v.inverse);
    for (const s of inverseVectors.noInverse) expect(x25519InverseScalar(hexToBytes(s))).toBeNull();
  });

  it.each(groups)('%s gives the known answers: blinding, then the inverse scalar, returns H(id)', (_name, group) => {
    const dst = utf8ToBytes(inverseVectors.dst);
    for (const v of inverseVectors.vectors) {
      const point = group.hashToGroup(utf8ToBytes(v.id), dst);
      expect(bytesToHex(point)).toBe(v.point);
      const blinded = group.multiply(hexToBytes(v.scalar), point);
      expect(bytesToHex(blinded)).toBe(v.blinded);
      expect(bytesToHex(group.multiply(hexToBytes(v.inverse), blinded))).toBe(v.point);
    }
  });

  it("an inverse clamps to clamp(s)⁻¹ mod L: X25519's clamping leaves it as it is", () => {
    for (const v of inverseVectors.vectors) {
      const inverse = hexToBytes(v.inverse);
      expect(clampedScalar(inverse)).toBe(BigInt('0x' + Buffer.from(inverse).reverse().toString('hex')));
      expect(((clampedScalar(hexToBytes(v.scalar)) % L) * clampedScalar(inverse)) % L).toBe(1n);
    }
  });

  it('random scalars: noble and libsodium agree byte for byte, and b·s·H(x) unblinds to b·H(x)', () => {
    const dst = utf8ToBytes('vfl-ecdh-psi-v2|job=inverse-random');
    let found = 0;
    for (let i = 0; i < 40; i++) {
      const { scalar, inverse } = randomInvertibleScalar(() => new Uint8Array(randomBytes(32)));
      found++;
      const b = new Uint8Array(randomBytes(32));
      const point = nobleX25519Group.hashToGroup(utf8ToBytes(`user-${i}`), dst);
      const [noble, sodium] = groups.map(([, g]) => {
        const sx = g.multiply(scalar, point);
        const bsx = g.multiply(b, sx);
        return {
          sx: bytesToHex(sx),
          bsx: bytesToHex(bsx),
          unblinded: bytesToHex(g.multiply(inverse, bsx)),
          bx: bytesToHex(g.multiply(b, point)),
        };
      });
      expect(sodium).toEqual(noble);
      expect(noble.unblinded).toBe(noble.bx);
    }
    expect(found).toBe(40);
  });

  it('about half of all scalars have an inverse', () => {
    let with_ = 0;
    const n = 400;
    for (let i = 0; i < n; i++) if (x25519InverseScalar(new Uint8Array(randomBytes(32)))) with_++;
    // Binomial(400, ~0.5): outside [140, 260] with probability < 1e-9.
    expect(with_).toBeGreaterThan(140);
    expect(with_).toBeLessThan(260);
  });

  it('refuses a broken random source instead of looping', () => {
    const none = inverseVectors.noInverse[0];
    expect(() => randomInvertibleScalar(() => hexToBytes(none))).toThrow(/random source is broken/);
  });
});
