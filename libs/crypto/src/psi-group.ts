/**
 * The prime-order group ECDH-PSI blinds identifiers in: X25519 (RFC 7748) on Montgomery
 * u-coordinates, with identifiers hashed to the curve by RFC 9380's Elligator 2 suite
 * (edwards25519_XMD:SHA-512_ELL2_RO_, whose output is the prime-order subgroup; we carry its
 * Montgomery u-coordinate, which equals curve25519_XMD:SHA-512_ELL2_RO_'s output).
 *
 * Why X25519 rather than ristretto255: scalar multiplication through OpenSSL (node:crypto) is
 * ~15x faster here than @noble's ristretto255 multiply, and blinding is commutative on u:
 * x25519(a, x25519(b, P)) = x25519(b, x25519(a, P)) (clamped scalars are multiples of the
 * cofactor 8, so small-subgroup components vanish). The noble implementation stays as the
 * reference: a test checks both give byte-identical results on RFC vectors and random inputs.
 *
 * Peer input validation: an element must be a 32-byte canonical u (< p, top bit clear); an
 * all-zero result (the identity: the peer sent a low-order point) is rejected. Points on the
 * quadratic twist are harmless to the key owner (X25519 is twist-secure) and yield values no
 * honest element can match.
 */
import { randomBytes, createPrivateKey, createPublicKey, diffieHellman, KeyObject } from 'node:crypto';
import { x25519, hashToCurve } from '@noble/curves/ed25519';
import { invert, mod } from '@noble/curves/abstract/modular';

export const PSI_ELEMENT_BYTES = 32;
const P = 2n ** 255n - 19n;

/** A peer's element or a derived value that must not be accepted. */
export class PsiGroupError extends Error {
  constructor(
    readonly code: 'INVALID_ELEMENT' | 'IDENTITY',
    message: string,
  ) {
    super(message);
    this.name = 'PsiGroupError';
  }
}

export interface PsiGroup {
  readonly name: string;
  /** RFC 9380 hash_to_curve with the given domain separation tag; returns the u-coordinate. */
  hashToGroup(message: Uint8Array, dst: Uint8Array): Uint8Array;
  /** A fresh secret scalar (32 random bytes; X25519 clamps it). */
  randomScalar(): Uint8Array;
  /**
   * scalar * element.
   * @throws PsiGroupError INVALID_ELEMENT for a non-canonical encoding, IDENTITY for a low-order input.
   */
  multiply(scalar: Uint8Array, element: Uint8Array): Uint8Array;
}

export function assertCanonicalElement(element: Uint8Array): void {
  if (!(element instanceof Uint8Array) || element.length !== PSI_ELEMENT_BYTES) {
    throw new PsiGroupError(
      'INVALID_ELEMENT',
      `element expected Uint8Array of length 32, got ${element instanceof Uint8Array ? `length=${element.length}` : typeof element}`,
    );
  }
  // RFC 7748 §5 lets receivers mask the top bit and reduce mod p; a PSI peer has no reason to
  // send anything but the canonical encoding, so anything else is refused.
  if (element[31] & 0x80) throw new PsiGroupError('INVALID_ELEMENT', 'element has the top bit set');
  let u = 0n;
  for (let i = 31; i >= 0; i--) u = (u << 8n) | BigInt(element[i]);
  if (u >= P) throw new PsiGroupError('INVALID_ELEMENT', 'element is not reduced modulo 2^255-19');
}

function assertNotIdentity(result: Uint8Array): Uint8Array {
  let acc = 0;
  for (const b of result) acc |= b;
  if (acc === 0) throw new PsiGroupError('IDENTITY', 'element is of low order (result is the identity)');
  return result;
}

function hashToU(message: Uint8Array, dst: Uint8Array): Uint8Array {
  const { y } = hashToCurve(message, { DST: dst }).toAffine();
  // Birational map edwards25519 -> curve25519 (RFC 7748 §4.1): u = (1 + y) / (1 - y).
  const u = mod((1n + y) * invert(mod(1n - y, P), P), P);
  const out = new Uint8Array(32);
  let v = u;
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** RFC 7748 X25519 in @noble/curves, without the PSI input checks (throws on an all-zero result). */
export function x25519Noble(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  return x25519.scalarMult(scalar, u);
}

// DER prefixes that wrap raw X25519 keys (RFC 8410) so OpenSSL can load them.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** RFC 7748 X25519 in OpenSSL (node:crypto), without the PSI input checks. */
export function x25519OpenSsl(scalar: Uint8Array | KeyObject, u: Uint8Array): Uint8Array {
  const privateKey =
    scalar instanceof KeyObject ? scalar : createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, scalar]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, u]), format: 'der', type: 'spki' });
  return new Uint8Array(diffieHellman({ privateKey, publicKey }));
}

/** Reference implementation: all arithmetic in @noble/curves. */
export const nobleX25519Group: PsiGroup = {
  name: 'x25519-ell2-noble',
  hashToGroup: hashToU,
  randomScalar: () => new Uint8Array(randomBytes(32)),
  multiply(scalar, element) {
    assertCanonicalElement(element);
    try {
      return assertNotIdentity(x25519Noble(scalar, element));
    } catch (e) {
      if (e instanceof PsiGroupError) throw e;
      throw new PsiGroupError('IDENTITY', 'element is of low order (result is the identity)');
    }
  },
};

/** Fast implementation: hash-to-curve in @noble/curves, scalar multiplication in OpenSSL. */
export class NodeX25519Group implements PsiGroup {
  readonly name = 'x25519-ell2-openssl';
  private readonly keyCache = new WeakMap<Uint8Array, KeyObject>();

  hashToGroup(message: Uint8Array, dst: Uint8Array): Uint8Array {
    return hashToU(message, dst);
  }

  randomScalar(): Uint8Array {
    return new Uint8Array(randomBytes(32));
  }

  multiply(scalar: Uint8Array, element: Uint8Array): Uint8Array {
    assertCanonicalElement(element);
    const privateKey = this.privateKey(scalar);
    try {
      return assertNotIdentity(x25519OpenSsl(privateKey, element));
    } catch (e) {
      if (e instanceof PsiGroupError) throw e;
      // OpenSSL refuses an all-zero shared secret itself.
      throw new PsiGroupError('IDENTITY', 'element is of low order (result is the identity)');
    }
  }

  private privateKey(scalar: Uint8Array): KeyObject {
    let key = this.keyCache.get(scalar);
    if (!key) {
      if (scalar.length !== 32) throw new RangeError(`"scalar" expected Uint8Array of length 32, got length=${scalar.length}`);
      key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, scalar]), format: 'der', type: 'pkcs8' });
      this.keyCache.set(scalar, key);
    }
    return key;
  }
}
