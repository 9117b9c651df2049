import { randomBytes } from 'node:crypto';
import { hexToBytes, bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve';
import { ed25519_hasher, edwardsToMontgomeryPub } from '@noble/curves/ed25519';
import { sha512 } from '@noble/hashes/sha512';
import sodium from 'sodium-native';
import x25519Vectors from './vectors/x25519-rfc7748.json';
import xmdVectors from './vectors/expand-message-xmd-sha512-rfc9380.json';
import suiteVectors from './vectors/hash-to-group-vfl-x25519-ell2s-ro.json';
import {
  edwardsToMontgomeryBatch,
  expandMessageXmdSha512,
  fromUniformNoble,
  nobleX25519Group,
  PsiGroupError,
  SodiumX25519Group,
  x25519Noble,
} from '../src/psi-group';

const P = 2n ** 255n - 19n;
const x25519Sodium = (k: Uint8Array, u: Uint8Array) => {
  const out = Buffer.alloc(32);
  sodium.crypto_scalarmult(out, Buffer.from(k), Buffer.from(u));
  return new Uint8Array(out);
};
const fromUniformSodium = (r: Uint8Array) => {
  const out = Buffer.alloc(32);
  sodium.crypto_core_ed25519_from_uniform(out, Buffer.from(r));
  return bytesToHex(out);
};

describe('X25519 (RFC 7748)', () => {
  it.each([
    ['noble', x25519Noble],
    ['libsodium', x25519Sodium],
  ] as const)('%s reproduces the §5.2 vectors', (_name, f) => {
    for (const v of x25519Vectors.vectors) {
      expect(bytesToHex(f(hexToBytes(v.scalar), hexToBytes(v.u)))).toBe(v.output);
    }
  });

  it.each([
    ['noble', x25519Noble],
    ['libsodium', x25519Sodium],
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

  it('libsodium reproduces the §6.1 Diffie-Hellman example', () => {
    const dh = x25519Vectors.diffieHellman;
    const basepoint = hexToBytes(x25519Vectors.iterated.start);
    expect(bytesToHex(x25519Sodium(hexToBytes(dh.alicePrivate), basepoint))).toBe(dh.alicePublic);
    expect(bytesToHex(x25519Sodium(hexToBytes(dh.alicePrivate), hexToBytes(dh.bobPublic)))).toBe(dh.sharedSecret);
    expect(bytesToHex(x25519Sodium(hexToBytes(dh.bobPrivate), hexToBytes(dh.alicePublic)))).toBe(dh.sharedSecret);
  });
});

describe('hash to group (suite vfl-x25519-ell2s-ro)', () => {
  it('expand_message_xmd(SHA-512) in noble and through OpenSSL match RFC 9380 Appendix K.3', () => {
    for (const v of xmdVectors.vectors) {
      const msg = utf8ToBytes(v.msg);
      const dst = utf8ToBytes(xmdVectors.dst);
      expect(bytesToHex(expand_message_xmd(msg, dst, v.len_in_bytes, sha512))).toBe(v.uniform_bytes);
      if (v.len_in_bytes <= 64)
        expect(bytesToHex(expandMessageXmdSha512(msg, dst, v.len_in_bytes))).toBe(v.uniform_bytes);
    }
  });

  it("F(r) is ±8·(RFC 9380 Elligator 2 map of r mod 2^255) in noble's own map, with the sign from r's top bit", () => {
    for (let i = 0; i < 40; i++) {
      const r = new Uint8Array(randomBytes(32));
      const t = BigInt('0x' + bytesToHex(Uint8Array.from(r).reverse())) & ((1n << 255n) - 1n);
      const rfc = ed25519_hasher.mapToCurve([t % P]) as unknown as ReturnType<typeof fromUniformNoble>;
      const f = fromUniformNoble(r);
      expect(f.equals(rfc) || f.equals(rfc.negate())).toBe(true);
      const flipped = Uint8Array.from(r);
      flipped[31] ^= 0x80;
      expect(fromUniformNoble(flipped).equals(f.negate())).toBe(true);
    }
  });

  it('F in libsodium and in the noble reference give the known answers', () => {
    for (const v of suiteVectors.fromUniform) {
      expect(bytesToHex(fromUniformNoble(hexToBytes(v.r)).toBytes())).toBe(v.point);
      expect(fromUniformSodium(hexToBytes(v.r))).toBe(v.point);
    }
  });

  it('both groups give the known answers, and agree on random messages', () => {
    const fast = new SodiumX25519Group();
    const dst = utf8ToBytes(suiteVectors.dst);
    for (const v of suiteVectors.hashToGroup) {
      expect(bytesToHex(nobleX25519Group.hashToGroup(utf8ToBytes(v.msg), dst))).toBe(v.u);
      expect(bytesToHex(fast.hashToGroup(utf8ToBytes(v.msg), dst))).toBe(v.u);
    }
    const messages = Array.from({ length: 60 }, (_, i) => new Uint8Array(randomBytes(i % 50)));
    const packed = fast.hashToGroupPacked(messages, dst);
    messages.forEach((m, i) =>
      expect(bytesToHex(packed.subarray(i * 32, i * 32 + 32))).toBe(bytesToHex(nobleX25519Group.hashToGroup(m, dst))),
    );
  });

  it('the batched Edwards-to-Montgomery conversion matches noble one point at a time', () => {
    const points = Array.from({ length: 20 }, () => fromUniformNoble(new Uint8Array(randomBytes(32))));
    const packed = new Uint8Array(points.length * 32);
    points.forEach((p, i) => packed.set(p.toBytes(), i * 32));
    edwardsToMontgomeryBatch(packed);
    points.forEach((p, i) =>
      expect(bytesToHex(packed.subarray(i * 32, i * 32 + 32))).toBe(bytesToHex(edwardsToMontgomeryPub(p.toBytes()))),
    );
  });
});

describe(SodiumX25519Group.name, () => {
  const fast = new SodiumX25519Group();
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
    [
      'a non-canonical u (= p + 1)',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'INVALID_ELEMENT',
    ],
    ['u = p - 1 (order 4)', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'IDENTITY'],
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

  it('accepts a canonical u just below p (p - 2; p - 1 is of low order)', () => {
    const nearP = hexToBytes('ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    const k = fast.randomScalar();
    expect(bytesToHex(fast.multiply(k, nearP))).toBe(bytesToHex(nobleX25519Group.multiply(k, nearP)));
  });

  it('separates domains: the same ID under two job tags maps to different elements', () => {
    const id = utf8ToBytes('13800138000');
    expect(bytesToHex(fast.hashToGroup(id, utf8ToBytes('job-a')))).not.toBe(
      bytesToHex(fast.hashToGroup(id, utf8ToBytes('job-b'))),
    );
  });
});
