/**
 * End-to-end encryption of party-to-party message bodies. Peer messages carry ciphertexts under
 * the coordinator's CKKS key, so whoever carries them (a shared network, the NATS server and its
 * object store) must not be the coordinator's eyes: each pair of parties derives a key from the
 * X25519 agreement of their identities, bound to the job, and seals every body with AES-256-GCM;
 * the envelope header (job, type, sender, receiver, sequence number) is authenticated as
 * associated data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf';
import { sha256 } from '@noble/hashes/sha256';
import { utf8ToBytes } from '@noble/hashes/utils';
import { SigningIdentity } from './signing-identity';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class PeerSealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerSealError';
  }
}

/** The symmetric key two parties share for one job (the same on both sides). */
export function peerChannelKey(
  me: SigningIdentity,
  myId: string,
  peerId: string,
  peerPublicKeyHex: string,
  jobId: string,
): Uint8Array {
  const shared = me.agree(peerPublicKeyHex);
  const [a, b] = [myId, peerId].sort();
  try {
    return hkdf(sha256, shared, utf8ToBytes(jobId), utf8ToBytes(`vfl-peer-seal-v1|${a}|${b}`), 32);
  } finally {
    shared.fill(0);
  }
}

/** nonce (12) || ciphertext || tag (16). */
export function seal(key: Uint8Array, plaintext: Uint8Array, associated: string): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(associated, 'utf8'));
  // Bodies reach tens of MB (SecureBoost's chunks): one output buffer, written once, no concatenations.
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(NONCE_BYTES + body.length + tail.length + TAG_BYTES);
  out.set(nonce);
  out.set(body, NONCE_BYTES);
  out.set(tail, NONCE_BYTES + body.length);
  out.set(cipher.getAuthTag(), out.length - TAG_BYTES);
  return out;
}

/** @throws PeerSealError when the body was not sealed by the peer for this header. */
export function open(key: Uint8Array, sealed: Uint8Array, associated: string): Uint8Array {
  if (sealed.length < NONCE_BYTES + TAG_BYTES)
    throw new PeerSealError(`sealed body of ${sealed.length} bytes is too short`);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(associated, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
    const tail = decipher.final();
    // A large body owns its ArrayBuffer: hand it on as a view, not a copy (small ones sit in Node's pool).
    if (tail.length === 0 && body.byteOffset === 0 && body.buffer.byteLength === body.length)
      return new Uint8Array(body.buffer, 0, body.length);
    return new Uint8Array(Buffer.concat([body, tail]));
  } catch {
    throw new PeerSealError('sealed body does not open with this channel key and header');
  }
}
