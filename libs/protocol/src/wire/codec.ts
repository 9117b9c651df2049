/**
 * How bodies become bytes: MessagePack for every message, SHA-256 digests for the audit trail,
 * float64 vectors and lists of ciphertexts as raw bytes.
 */
import { createHash } from 'node:crypto';
import { decode, Encoder } from '@msgpack/msgpack';
import { CkksError } from '@vfl/crypto';

/**
 * SHA-256 of a message body, hex. OpenSSL's, not @noble/hashes': every ciphertext message is
 * hashed by its sender, its receiver and the coordinator, and OpenSSL does it ~10x faster.
 */
export function digestHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What the audit trail keeps of a payload: its SHA-256 (hex) and its size. */
export interface PayloadDigest {
  readonly digest: string;
  readonly byteSize: number;
}

/** A payload's digest and size, from its bytes or as already summed up (`packedCiphertextsDigest`). */
export function payloadDigest(payload: Uint8Array | PayloadDigest): PayloadDigest {
  return payload instanceof Uint8Array ? { digest: digestHex(payload), byteSize: payload.length } : payload;
}

/**
 * The digest and size of `packCiphertexts(ciphertexts)`, hashed piece by piece (MessagePack's
 * array header, then each bin header and ciphertext) instead of building a body that reaches
 * hundreds of MB a level at FATE's shape; a test checks the two agree.
 */
export function packedCiphertextsDigest(ciphertexts: readonly Uint8Array[]): PayloadDigest {
  const hash = createHash('sha256');
  const array = msgpackHeader(ciphertexts.length, [0x90, 16], 0xdc, 0xdd);
  hash.update(array);
  let byteSize = array.length;
  for (const c of ciphertexts) {
    const bin = msgpackHeader(c.length, [0xc4, 256], 0xc5, 0xc6);
    hash.update(bin).update(c);
    byteSize += bin.length + c.length;
  }
  return { digest: hash.digest('hex'), byteSize };
}

/** A MessagePack length header: the short form (fix tag | n, or tag + u8), else 16- or 32-bit big-endian. */
function msgpackHeader(n: number, [shortTag, shortLimit]: [number, number], tag16: number, tag32: number): Uint8Array {
  if (n < shortLimit) return shortLimit === 16 ? Uint8Array.of(shortTag | n) : Uint8Array.of(shortTag, n);
  if (n < 0x10000) return Uint8Array.of(tag16, n >>> 8, n & 0xff);
  return Uint8Array.of(tag32, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** The digest the coordinator and each party record for a CKKS public key bundle (public key, Galois keys, relinearisation keys). */
export function publicBundleDigest(bundle: {
  readonly publicKey: Uint8Array;
  readonly galoisKeys: Uint8Array;
  readonly relinKeys?: Uint8Array;
}): string {
  return createHash('sha256')
    .update(bundle.publicKey)
    .update(bundle.galoisKeys)
    .update(bundle.relinKeys ?? new Uint8Array(0))
    .digest('hex');
}

/** Bytes of a CKKS public key bundle, as the coordinator and each party record it. */
export function publicBundleBytes(bundle: {
  readonly publicKey: Uint8Array;
  readonly galoisKeys: Uint8Array;
  readonly relinKeys?: Uint8Array;
}): number {
  return bundle.publicKey.length + bundle.galoisKeys.length + (bundle.relinKeys?.length ?? 0);
}

/**
 * One encoder for every body: it keeps its grown buffer between calls and returns a right-sized
 * copy, where msgpack's `encode` starts at 2 KB and doubles its way up to each ciphertext.
 */
const bodyEncoder = new Encoder();

export function packBody(payload: unknown): Uint8Array {
  return bodyEncoder.encode(payload);
}

export function unpackBody<T>(body: Uint8Array): T {
  return decode(body) as T;
}

/** Several ciphertexts as one message body (the party's audit record and the coordinator's digest cover it whole). */
export function packCiphertexts(ciphertexts: readonly Uint8Array[]): Uint8Array {
  return bodyEncoder.encode(ciphertexts);
}

/**
 * @throws CkksError PAYLOAD_TOO_LARGE before parsing a body above `count` ciphertexts' worth of
 * bytes, WRONG_SIZE when it does not hold exactly `count` byte strings.
 */
export function unpackCiphertexts(
  packed: Uint8Array,
  count: number,
  what: string,
  maxCiphertextBytes: number,
): Uint8Array[] {
  if (!(packed instanceof Uint8Array))
    throw new CkksError('MALFORMED_CIPHERTEXT', `${what}: expected bytes, got ${typeof packed}`);
  if (packed.length > count * (maxCiphertextBytes + 16)) {
    throw new CkksError(
      'PAYLOAD_TOO_LARGE',
      `${what}: ${packed.length} bytes is more than ${count} ciphertexts can take`,
    );
  }
  let list: unknown;
  try {
    list = decode(packed);
  } catch (e) {
    throw new CkksError(
      'MALFORMED_CIPHERTEXT',
      `${what}: not a list of ciphertexts (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (!Array.isArray(list) || !list.every((c) => c instanceof Uint8Array))
    throw new CkksError('MALFORMED_CIPHERTEXT', `${what}: not a list of ciphertexts`);
  if (list.length !== count)
    throw new CkksError('WRONG_SIZE', `${what}: expected ${count} ciphertexts, got ${list.length}`);
  return list;
}

/** Float64Array <-> bytes (little-endian, as the platform is). */
export function f64ToBytes(values: Float64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function bytesToF64(bytes: Uint8Array, what: string): Float64Array {
  if (!(bytes instanceof Uint8Array) || bytes.length % 8 !== 0) {
    throw new TypeError(`${what}: expected bytes holding float64 values`);
  }
  const copy = new Uint8Array(bytes);
  return new Float64Array(copy.buffer, 0, copy.length / 8);
}
