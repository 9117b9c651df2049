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
