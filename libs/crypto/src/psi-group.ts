/**
 * The prime-order group ECDH-PSI blinds identifiers in: X25519 (RFC 7748) on Montgomery
 * u-coordinates. Blinding is commutative on u: x25519(a, x25519(b, P)) = x25519(b, x25519(a, P))
 * (clamped scalars are multiples of the cofactor 8, so small-subgroup components vanish).
 *
 * Hash to group (suite `vfl-x25519-ell2s-ro`, documented in docs/protocol.md):
 *   r0 ‖ r1 = expand_message_xmd(msg, DST, 64, SHA-512)         (RFC 9380 §5.3.1)
 *   P = F(r0) + F(r1) on edwards25519, returned as u = (1 + y) / (1 − y)
 *   F(r) = 8 · E(r): the Elligator 2 map of RFC 9380 §6.7.1 applied to t = r mod 2^255 (mod p),
 *          taken to edwards25519, with the sign of x given by r's top bit.
 * F is libsodium's crypto_core_ed25519_from_uniform. It differs from RFC 9380's map only in how
 * the sign of x is chosen (the RFC derives it from a square root we cannot observe through
 * libsodium), so the RFC's own suite cannot be computed at libsodium's speed. Summing two
 * independent well-distributed encodings keeps the random-oracle property of RFC 9380's _RO_
 * suites; a sign taken from the uniform bytes keeps the encoding well distributed.
 *
 * Two implementations: `nobleX25519Group` (reference: @noble/curves arithmetic, ~2k elements/s)
 * and `SodiumX25519Group` (libsodium through sodium-native, ~10x faster; its hash runs in the C
 * addon of psi-native.ts when that is built, ~5x faster again and faster than one X25519). Tests prove them
 * byte-identical on the checked-in known-answer vectors and on random inputs, and tie F to
 * noble's RFC 9380 map (F(r) = ±8·map(t)).
 *
 * Peer input validation: an element must be a 32-byte canonical u (< p, top bit clear); an
 * all-zero result (the identity: the peer sent a low-order point) is rejected. Points on the
 * quadratic twist are harmless to the key owner (X25519 is twist-secure) and yield values no
 * honest element can match.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve';
import { invert as invertMod } from '@noble/curves/abstract/modular';
import { sha512 } from '@noble/hashes/sha512';
import type * as SodiumNative from 'sodium-native';
import { loadNativeHashToGroup, packMessages } from './psi-native';

export const PSI_ELEMENT_BYTES = 32;
export const PSI_HASH_SUITE = 'vfl-x25519-ell2s-ro';
const P = 2n ** 255n - 19n;
const UNIFORM_BYTES = 64;

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
  /** Hash to the group (suite `vfl-x25519-ell2s-ro`) with the given domain separation tag; returns u. */
  hashToGroup(message: Uint8Array, dst: Uint8Array): Uint8Array;
  /** A fresh secret scalar (32 random bytes; X25519 clamps it). */
  randomScalar(): Uint8Array;
  /**
   * scalar * element.
   * @throws PsiGroupError INVALID_ELEMENT for a non-canonical encoding, IDENTITY for a low-order input.
   */
  multiply(scalar: Uint8Array, element: Uint8Array): Uint8Array;
}

/** Throws unless `element` is a canonical 32-byte u-coordinate. Byte comparisons only: it runs per peer element. */
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
  // u >= p = 2^255 - 19 exactly when bytes 31..1 are 7f ff .. ff and byte 0 >= 0xed.
  if (element[31] === 0x7f && element[0] >= 0xed) {
    let high = true;
    for (let i = 1; i < 31 && high; i++) high = element[i] === 0xff;
    if (high) throw new PsiGroupError('INVALID_ELEMENT', 'element is not reduced modulo 2^255-19');
  }
}

function assertNotIdentity(result: Uint8Array): Uint8Array {
  let acc = 0;
  for (const b of result) acc |= b;
  if (acc === 0) throw new PsiGroupError('IDENTITY', 'element is of low order (result is the identity)');
  return result;
}

function leToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

function bigIntToLe32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Inverse scalars (unbalanced PSI: the small side removes its own blinding)

/** Order L of the prime-order subgroup that H maps into (F(r) = 8·E(r)). */
export const X25519_GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const TWO_254 = 2n ** 254n;
const TWO_251 = 2n ** 251n;
const INV_8 = invertMod(8n, X25519_GROUP_ORDER);

/** decodeScalar25519 (RFC 7748 §5): the integer X25519 actually multiplies by. */
export function clampedScalar(scalar: Uint8Array): bigint {
  if (scalar.length !== 32) throw new RangeError(`scalar expected 32 bytes, got ${scalar.length}`);
  const k = Uint8Array.from(scalar);
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
  return leToBigInt(k);
}

/**
 * A 32-byte scalar k' whose clamped value is ≡ clamp(scalar)⁻¹ (mod L), so that
 * x25519(k', x25519(scalar, P)) = P for every P of order L; null when no such k' exists.
 * Clamping leaves 2^254 + 8·m with 0 ≤ m < 2^251, so k' exists iff m = (inv − 2^254)·8⁻¹ mod L
 * is below 2^251: for about half of all scalars (L ≈ 2^252).
 */
export function x25519InverseScalar(scalar: Uint8Array): Uint8Array | null {
  const c = clampedScalar(scalar) % X25519_GROUP_ORDER; // never 0: 2^254 ≤ c < 2^255 and L is prime ≈ 2^252
  const inv = invertMod(c, X25519_GROUP_ORDER);
  const m = ((((inv - TWO_254) % X25519_GROUP_ORDER) + X25519_GROUP_ORDER) * INV_8) % X25519_GROUP_ORDER;
  if (m >= TWO_251) return null;
  return bigIntToLe32(TWO_254 + 8n * m);
}

/** A fresh scalar that has an inverse scalar (drawn again until it has, ~2 draws on average). */
export function randomInvertibleScalar(random: () => Uint8Array): { scalar: Uint8Array; inverse: Uint8Array } {
  for (let attempt = 0; attempt < 256; attempt++) {
    const scalar = random();
    const inverse = x25519InverseScalar(scalar);
    if (inverse) return { scalar, inverse };
    scalar.fill(0);
  }
  // 2^-256 for a working CSPRNG: a broken random source, not bad luck.
  throw new Error('no invertible X25519 scalar in 256 draws: the random source is broken');
}

// ---------------------------------------------------------------------------------------------
// Reference implementation (@noble/curves)

const Fp = ed25519.Point.Fp;
const MONTGOMERY_A = 486662n;

/** F(r) in noble arithmetic: Elligator 2's x (RFC 9380 §6.7.1), Edwards y, x sign from r's top bit, times 8. */
export function fromUniformNoble(r: Uint8Array): InstanceType<typeof ed25519.Point> {
  if (r.length !== 32) throw new RangeError(`uniform input expected 32 bytes, got ${r.length}`);
  const sign = r[31] >> 7;
  const masked = Uint8Array.from(r);
  masked[31] &= 0x7f;
  const t = Fp.create(leToBigInt(masked));
  const x1 = Fp.neg(Fp.div(MONTGOMERY_A, Fp.add(Fp.ONE, Fp.mul(2n, Fp.sqr(t)))));
  const gx1 = Fp.add(Fp.mul(Fp.sqr(x1), Fp.add(x1, MONTGOMERY_A)), x1);
  // Legendre symbol: g(x1) is a square -> x = x1, otherwise x = -x1 - A (whose g is a square).
  const isSquare = Fp.eql(Fp.pow(gx1, (P - 1n) / 2n), Fp.ONE) || Fp.is0(gx1);
  const x = isSquare ? x1 : Fp.sub(Fp.neg(x1), MONTGOMERY_A);
  const y = Fp.div(Fp.sub(x, Fp.ONE), Fp.add(x, Fp.ONE));
  const encoded = bigIntToLe32(y);
  encoded[31] |= sign << 7;
  return ed25519.Point.fromHex(encoded).clearCofactor();
}

function edwardsToU(point: InstanceType<typeof ed25519.Point>): Uint8Array {
  if (point.equals(ed25519.Point.ZERO)) throw new PsiGroupError('IDENTITY', 'hash to group produced the identity');
  const { y } = point.toAffine();
  return bigIntToLe32(Fp.div(Fp.add(Fp.ONE, y), Fp.sub(Fp.ONE, y)));
}

function hashToGroupNoble(message: Uint8Array, dst: Uint8Array): Uint8Array {
  const uniform = expand_message_xmd(message, dst, UNIFORM_BYTES, sha512);
  return edwardsToU(fromUniformNoble(uniform.subarray(0, 32)).add(fromUniformNoble(uniform.subarray(32, 64))));
}

/** RFC 7748 X25519 in @noble/curves, without the PSI input checks (throws on an all-zero result). */
export function x25519Noble(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  return x25519.scalarMult(scalar, u);
}

/** Reference implementation: all arithmetic in @noble/curves. */
export const nobleX25519Group: PsiGroup = {
  name: 'x25519-ell2s-noble',
  hashToGroup: hashToGroupNoble,
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

// ---------------------------------------------------------------------------------------------
// Fast implementation (libsodium)

/** expand_message_xmd (RFC 9380 §5.3.1) with SHA-512 through OpenSSL; len ≤ 64 (one block). */
export function expandMessageXmdSha512(message: Uint8Array, dst: Uint8Array, len: number): Uint8Array {
  if (dst.length > 255) throw new RangeError('DST longer than 255 bytes');
  if (len < 1 || len > 64) throw new RangeError(`expandMessageXmdSha512 supports 1..64 output bytes, got ${len}`);
  const dstPrime = Buffer.concat([dst, Buffer.from([dst.length])]);
  const b0 = createHash('sha512')
    .update(ZERO_PAD_128)
    .update(message)
    .update(Buffer.from([len >> 8, len & 0xff, 0]))
    .update(dstPrime)
    .digest();
  const b1 = createHash('sha512').update(b0).update(ONE_BYTE).update(dstPrime).digest();
  return new Uint8Array(b1.buffer, b1.byteOffset, len);
}
const ZERO_PAD_128 = Buffer.alloc(128);
const ONE_BYTE = Buffer.from([1]);

let sodiumModule: typeof SodiumNative | null | undefined;
/** sodium-native, or null where its prebuilt binary does not load on this platform. */
export function loadSodium(): typeof SodiumNative | null {
  if (sodiumModule === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      sodiumModule = require('sodium-native') as typeof SodiumNative;
    } catch {
      sodiumModule = null;
    }
  }
  return sodiumModule;
}

/**
 * Converts packed edwards25519 encodings (32 bytes each) to X25519 u-coordinates in place,
 * u = (1 + y) / (1 − y), with one field inversion for the whole batch (Montgomery's trick).
 */
export function edwardsToMontgomeryBatch(packed: Uint8Array): void {
  const n = packed.length / 32;
  const ys = new Array<bigint>(n);
  const prefix = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    const chunk = packed.subarray(i * 32, i * 32 + 32);
    const top = chunk[31];
    chunk[31] = top & 0x7f; // the x sign bit is not part of y
    const y = BigInt('0x' + Buffer.from(chunk).reverse().toString('hex')) % P;
    chunk[31] = top;
    const d = (1n - y + P) % P;
    if (d === 0n) throw new PsiGroupError('IDENTITY', 'hash to group produced the identity');
    ys[i] = y;
    prefix[i] = acc;
    acc = (acc * d) % P;
  }
  let inv = Fp.inv(acc);
  for (let i = n - 1; i >= 0; i--) {
    const d = (1n - ys[i] + P) % P;
    const dInv = (inv * prefix[i]) % P;
    inv = (inv * d) % P;
    const u = ((1n + ys[i]) * dInv) % P;
    const hex = u.toString(16).padStart(64, '0');
    packed.set(Buffer.from(hex, 'hex').reverse(), i * 32);
  }
}

/** libsodium (sodium-native) for F, point addition and X25519; byte-identical to the reference. */
export class SodiumX25519Group implements PsiGroup {
  readonly name = 'x25519-ell2s-sodium';
  private readonly sodium: typeof SodiumNative;

  constructor() {
    const sodium = loadSodium();
    if (!sodium) throw new Error('sodium-native is not available on this platform; use nobleX25519Group');
    this.sodium = sodium;
  }

  hashToGroup(message: Uint8Array, dst: Uint8Array): Uint8Array {
    return this.hashToGroupPacked([message], dst);
  }

  /**
   * Hashes many messages to packed u-coordinates: through the C addon when it is built (see
   * psi-native.ts), through libsodium otherwise or when the addon declines a batch.
   */
  hashToGroupPacked(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array {
    if (dst.length > 255) throw new RangeError('DST longer than 255 bytes');
    const native = loadNativeHashToGroup();
    if (native) {
      const { bytes, ends } = packMessages(messages);
      const out = native.hashToGroupPacked(bytes, ends, dst);
      if (out) return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    return this.hashToGroupPackedSodium(messages, dst);
  }

  /**
   * The libsodium path: two crypto_core_ed25519_from_uniform, an addition, and the Edwards →
   * Montgomery conversion with one inversion for the batch. The addon's reference and fallback.
   */
  hashToGroupPackedSodium(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array {
    const out = new Uint8Array(messages.length * 32);
    messages.forEach((m, i) => this.hashEdwardsInto(m, dst, out.subarray(i * 32, i * 32 + 32)));
    edwardsToMontgomeryBatch(out);
    return out;
  }

  randomScalar(): Uint8Array {
    return new Uint8Array(randomBytes(32));
  }

  multiply(scalar: Uint8Array, element: Uint8Array): Uint8Array {
    assertCanonicalElement(element);
    const out = Buffer.alloc(32);
    this.multiplyInto(scalar, element, out);
    return new Uint8Array(out.buffer, out.byteOffset, 32);
  }

  /** scalar · each element of a packed list, into a new packed list. Validates every element. */
  multiplyPacked(scalar: Uint8Array, packed: Uint8Array): Uint8Array {
    if (packed.length % 32 !== 0)
      throw new PsiGroupError('INVALID_ELEMENT', `packed list length ${packed.length} is not a multiple of 32`);
    const out = Buffer.alloc(packed.length);
    for (let i = 0; i < packed.length; i += 32) {
      const element = packed.subarray(i, i + 32);
      assertCanonicalElement(element);
      this.multiplyInto(scalar, element, out.subarray(i, i + 32));
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  private multiplyInto(scalar: Uint8Array, element: Uint8Array, out: Buffer): void {
    if (scalar.length !== 32)
      throw new RangeError(`"scalar" expected Uint8Array of length 32, got length=${scalar.length}`);
    try {
      // libsodium refuses an all-zero result (a low-order input) itself.
      this.sodium.crypto_scalarmult(out, asBuffer(scalar), asBuffer(element));
    } catch {
      throw new PsiGroupError('IDENTITY', 'element is of low order (result is the identity)');
    }
    assertNotIdentity(out);
  }

  private hashEdwardsInto(message: Uint8Array, dst: Uint8Array, out: Uint8Array): void {
    const uniform = Buffer.from(expandMessageXmdSha512(message, dst, UNIFORM_BYTES));
    const p0 = Buffer.alloc(32);
    const p1 = Buffer.alloc(32);
    this.sodium.crypto_core_ed25519_from_uniform(p0, uniform.subarray(0, 32));
    this.sodium.crypto_core_ed25519_from_uniform(p1, uniform.subarray(32, 64));
    try {
      this.sodium.crypto_core_ed25519_add(asBuffer(out), p0, p1);
    } catch {
      throw new PsiGroupError('IDENTITY', 'hash to group produced the identity');
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The fastest group available here: libsodium when it loads, the noble reference otherwise. */
export function defaultPsiGroup(): PsiGroup {
  return loadSodium() ? new SodiumX25519Group() : nobleX25519Group;
}
