/**
 * An ed25519 identity (RFC 8032, @noble/curves) for a service that signs what it vouches for:
 * the coordinator signs audit chain heads, parties sign the envelopes they send each other. The
 * 32-byte seed comes from configuration; without one a fresh identity is generated, which only
 * vouches for this process's lifetime.
 */
import { ed25519, edwardsToMontgomeryPriv, edwardsToMontgomeryPub, x25519 } from '@noble/curves/ed25519';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';

export class SigningIdentity {
  readonly publicKeyHex: string;

  private constructor(
    readonly id: string,
    private readonly seed: Uint8Array,
  ) {
    this.publicKeyHex = bytesToHex(ed25519.getPublicKey(seed));
  }

  /**
   * @throws RangeError unless `seedHex` is 64 hex characters.
   */
  static fromSeedHex(id: string, seedHex: string): SigningIdentity {
    if (!/^[0-9a-fA-F]{64}$/.test(seedHex)) throw new RangeError(`signing key for ${id} expected 64 hex characters (32 bytes), got ${seedHex.length} characters`);
    return new SigningIdentity(id, hexToBytes(seedHex));
  }

  static generate(id: string): SigningIdentity {
    return new SigningIdentity(id, ed25519.utils.randomPrivateKey());
  }

  sign(message: string): string {
    return bytesToHex(ed25519.sign(utf8ToBytes(message), this.seed));
  }

  /**
   * X25519 shared secret with another identity, from the birationally equivalent Montgomery
   * forms of both ed25519 keys (RFC 7748 §4.1), so one identity both signs and agrees keys.
   * @throws Error when the peer key is of low order (an all-zero secret).
   */
  agree(peerPublicKeyHex: string): Uint8Array {
    return x25519.getSharedSecret(edwardsToMontgomeryPriv(this.seed), edwardsToMontgomeryPub(hexToBytes(peerPublicKeyHex)));
  }
}

export function verifySignature(publicKeyHex: string, message: string, signatureHex: string): boolean {
  try {
    return ed25519.verify(hexToBytes(signatureHex), utf8ToBytes(message), hexToBytes(publicKeyHex));
  } catch {
    return false;
  }
}
