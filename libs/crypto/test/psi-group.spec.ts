import { hexToBytes, bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve';
import { sha512 } from '@noble/hashes/sha512';
import x25519Vectors from './vectors/x25519-rfc7748.json';
import curve25519H2c from './vectors/hash-to-curve-curve25519-rfc9380.json';
import xmdVectors from './vectors/expand-message-xmd-sha512-rfc9380.json';
import { NodeX25519Group, nobleX25519Group, PsiGroupError, x25519Noble, x25519OpenSsl } from '../src/psi-group';

const reverse = (hex: string) => bytesToHex(hexToBytes(hex).reverse());

describe('X25519 (RFC 7748)', () => {
  it.each([
    ['noble', x25519Noble],
    ['openssl', x25519OpenSsl],
  ] as const)('%s reproduces the §5.2 vectors', (_name, f) => {
    for (const v of x25519Vectors.vectors) {
      expect(bytesToHex(f(hexToBytes(v.scalar), hexToBytes(v.u)))).toBe(v.output);
    }
  });

  it.each([
    ['noble', x25519Noble],
    ['openssl', x25519OpenSsl],
  ] as const)('%s reproduces the §5.2 iterated results (1 and 1000 iterations)', (_name, f) => {
    let k = hexToBytes(x25519Vectors.iterated.start);
    let u = hexToBytes(x25519Vectors.iterated.start);
    const results = new Map<number, string>();
    for (let i = 1; i <= 1000; i++) {
      const next = f(k, u);
      u = k;
      k = next;
      results.set(i, bytesToHex(k));
    }
    for (const v of x25519Vectors.iterated.vectors) expect(results.get(v.iterations)).toBe(v.k);
  });

  it('openssl reproduces the §6.1 Diffie-Hellman example', () => {
    const dh = x25519Vectors.diffieHellman;
    const basepoint = hexToBytes(x25519Vectors.iterated.start);
    expect(bytesToHex(x25519OpenSsl(hexToBytes(dh.alicePrivate), basepoint))).toBe(dh.alicePublic);
    expect(bytesToHex(x25519OpenSsl(hexToBytes(dh.alicePrivate), hexToBytes(dh.bobPublic)))).toBe(dh.sharedSecret);
    expect(bytesToHex(x25519OpenSsl(hexToBytes(dh.bobPrivate), hexToBytes(dh.alicePublic)))).toBe(dh.sharedSecret);
  });
});

describe('hash to group (RFC 9380)', () => {
  it('expand_message_xmd(SHA-512) matches Appendix K.3', () => {
    for (const v of xmdVectors.vectors) {
      const out = expand_message_xmd(utf8ToBytes(v.msg), utf8ToBytes(xmdVectors.dst), v.len_in_bytes, sha512);
      expect(bytesToHex(out)).toBe(v.uniform_bytes);
    }
  });

  it('gives the curve25519_XMD:SHA-512_ELL2_RO_ u-coordinate of Appendix J.4.1 (little-endian)', () => {
    for (const group of [nobleX25519Group, new NodeX25519Group()]) {
      for (const v of curve25519H2c.vectors) {
        expect(bytesToHex(group.hashToGroup(utf8ToBytes(v.msg), utf8ToBytes(curve25519H2c.dst)))).toBe(reverse(v.P.x));
      }
    }
  });
});

describe(NodeX25519Group.name, () => {
  const fast = new NodeX25519Group();
  const dst = utf8ToBytes('test-dst');

  it('is byte-identical to the noble reference on random inputs, and blinding commutes', () => {
    for (let i = 0; i < 50; i++) {
      const a = fast.randomScalar();
      const b = fast.randomScalar();
      const p = fast.hashToGroup(utf8ToBytes(`1380013${i}`), dst);
      const ap = fast.multiply(a, p);
      expect(bytesToHex(ap)).toBe(bytesToHex(nobleX25519Group.multiply(a, p)));
      expect(bytesToHex(fast.multiply(b, ap))).toBe(bytesToHex(fast.multiply(a, fast.multiply(b, p))));
    }
  });

  it.each([
    ['the identity (u = 0)', '00'.repeat(32), 'IDENTITY'],
    ['a point of order 4 (u = 1)', '01' + '00'.repeat(31), 'IDENTITY'],
    ['a point of order 8', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'IDENTITY'],
    ['a non-canonical u (= p)', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'INVALID_ELEMENT'],
    ['a u with the top bit set', '00'.repeat(31) + '80', 'INVALID_ELEMENT'],
    ['a short element', '01'.repeat(31), 'INVALID_ELEMENT'],
  ])('rejects %s from a peer', (_what, hex, code) => {
    for (const group of [fast, nobleX25519Group]) {
      let error: unknown;
      try {
        group.multiply(group.randomScalar(), hexToBytes(hex));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PsiGroupError);
      expect((error as PsiGroupError).code).toBe(code);
    }
  });

  it('separates domains: the same ID under two job tags maps to different elements', () => {
    const id = utf8ToBytes('13800138000');
    expect(bytesToHex(fast.hashToGroup(id, utf8ToBytes('job-a')))).not.toBe(bytesToHex(fast.hashToGroup(id, utf8ToBytes('job-b'))));
  });
});
