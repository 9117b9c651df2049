/**
 * An ed25519 identity (RFC 8032, @noble/curves) for a service that signs what it vouches for:
 * the coordinator signs audit chain heads, parties sign the envelopes they send each other. The
 * 32-byte seed comes from configuration; without one a fresh identity is generated, which only
 * vouches for this process's lifetime.
 *
 * Signing and verification run in OpenSSL (node:crypto): every peer envelope is signed and
 * checked, and noble's pure-JS verify (~4 ms) was a tenth of a training round. Ed25519 signatures
 * are deterministic, so both give the same bytes (RFC 8032 vectors in the tests check it).
 */
import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  sign as opensslSign,
  verify as opensslVerify,
} from 'node:crypto';
import { ed25519, edwardsToMontgomeryPriv, edwardsToMontgomeryPub, x25519 } from '@noble/curves/ed25519';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';

// DER headers of a raw ed25519 key (RFC 8410): PKCS#8 for the 32-byte seed, SPKI for the public key.
const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PUBLIC_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new RangeError(`ed25519 public key expected 32 bytes, got ${publicKey.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_PUBLIC_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

/**
 * Parsed verification keys by hex: a job's envelopes come from a handful of roster keys, and
 * parsing one into OpenSSL costs as much as the verification itself. A pure memo, bounded.
 */
const verificationKeys = new Map<string, KeyObject>();
const MAX_VERIFICATION_KEYS = 1024;

function verificationKey(publicKeyHex: string): KeyObject {
  let key = verificationKeys.get(publicKeyHex);
  if (!key) {
    key = publicKeyObject(hexToBytes(publicKeyHex));
    if (verificationKeys.size >= MAX_VERIFICATION_KEYS) verificationKeys.clear();
    verificationKeys.set(publicKeyHex, key);
  }
  return key;
}

export class SigningIdentity {
  readonly publicKeyHex: string;
  private readonly privateKey: KeyObject;

  private constructor(
    readonly id: string,
    private readonly seed: Uint8Array,
  ) {
    this.publicKeyHex = bytesToHex(ed25519.getPublicKey(seed));
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_SEED_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  }

  /**
   * @throws RangeError unless `seedHex` is 64 hex characters.
   */
  static fromSeedHex(id: string, seedHex: string): SigningIdentity {
    if (!/^[0-9a-fA-F]{64}$/.test(seedHex))
      throw new RangeError(
        `signing key for ${id} expected 64 hex characters (32 bytes), got ${seedHex.length} characters`,
      );
    return new SigningIdentity(id, hexToBytes(seedHex));
  }

  static generate(id: string): SigningIdentity {
    return new SigningIdentity(id, ed25519.utils.randomPrivateKey());
  }

  sign(message: string): string {
    return opensslSign(null, utf8ToBytes(message), this.privateKey).toString('hex');
  }

  /**
   * X25519 shared secret with another identity, from the birationally equivalent Montgomery
   * forms of both ed25519 keys (RFC 7748 §4.1), so one identity both signs and agrees keys.
   * @throws Error when the peer key is of low order (an all-zero secret).
   */
  agree(peerPublicKeyHex: string): Uint8Array {
    return x25519.getSharedSecret(
      edwardsToMontgomeryPriv(this.seed),
      edwardsToMontgomeryPub(hexToBytes(peerPublicKeyHex)),
    );
  }
}

export function verifySignature(publicKeyHex: string, message: string, signatureHex: string): boolean {
  try {
    return opensslVerify(null, utf8ToBytes(message), verificationKey(publicKeyHex), hexToBytes(signatureHex));
  } catch {
    return false;
  }
}
