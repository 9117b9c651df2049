/**
 * AES-128 from node:crypto for KKRT, always many blocks per cipher call (one OpenSSL call per
 * chunk, not per element): the PRG that stretches a base-OT seed (AES-CTR), the pseudo-random
 * code (keyed AES-ECB), and the fixed-key hash that turns an OPRF row into a tag.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

const ZERO_IV = Buffer.alloc(16);

/** A stream of pseudo-random bytes from a 16-byte seed: AES-128-CTR over zeros, read in order. */
export class AesPrg {
  private readonly cipher: Cipher;
  constructor(seed: Uint8Array) {
    if (seed.length !== 16) throw new RangeError(`PRG seed expected 16 bytes, got ${seed.length}`);
    this.cipher = createCipheriv('aes-128-ctr', seed, ZERO_IV);
  }
  /** The next `zeros.length` bytes of the stream, written into a new buffer. */
  next(zeros: Buffer): Buffer {
    return this.cipher.update(zeros);
  }
}

/** AES-128-ECB of every 16-byte block of `blocks` under `key`, in one call. */
export function aesEcb(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new RangeError(`AES key expected 16 bytes, got ${key.length}`);
  if (blocks.length % 16 !== 0) throw new RangeError(`AES input expected whole blocks, got ${blocks.length} bytes`);
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  const out = cipher.update(blocks);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Words of a byte array that starts on a 4-byte boundary (little-endian platforms, as Node's). */
export function words(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 !== 0 || bytes.length % 4 !== 0) throw new RangeError('byte array not word-aligned');
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}
