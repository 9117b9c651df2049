import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils';
import { SigningIdentity, verifySignature } from '../src/signing-identity';

// RFC 8032 §7.1, TEST 1 and TEST 2 (the messages as text: empty, and "r" = 0x72).
const VECTORS = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: 'r',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

describe('SigningIdentity (ed25519 in OpenSSL)', () => {
  it.each(VECTORS)('signs and verifies RFC 8032 vector $publicKey', (v) => {
    const identity = SigningIdentity.fromSeedHex('party', v.seed);
    expect(identity.publicKeyHex).toBe(v.publicKey);
    expect(identity.sign(v.message)).toBe(v.signature);
    expect(verifySignature(v.publicKey, v.message, v.signature)).toBe(true);
  });

  it('gives the same signatures as @noble/curves and accepts noble-made ones', () => {
    const seed = ed25519.utils.randomPrivateKey();
    const identity = SigningIdentity.fromSeedHex('party', bytesToHex(seed));
    const message = 'vfl-envelope-v1|job=1|seq=7|digest=ab';
    const noble = bytesToHex(ed25519.sign(new TextEncoder().encode(message), seed));
    expect(identity.sign(message)).toBe(noble);
    expect(
      ed25519.verify(
        hexToBytes(identity.sign(message)),
        new TextEncoder().encode(message),
        hexToBytes(identity.publicKeyHex),
      ),
    ).toBe(true);
  });

  it('refuses a changed message, a foreign key, a flipped signature bit and malformed input', () => {
    const identity = SigningIdentity.generate('bank');
    const other = SigningIdentity.generate('shop');
    const signature = identity.sign('hello');
    expect(verifySignature(identity.publicKeyHex, 'hellO', signature)).toBe(false);
    expect(verifySignature(other.publicKeyHex, 'hello', signature)).toBe(false);
    const flipped = (parseInt(signature[0], 16) ^ 1).toString(16) + signature.slice(1);
    expect(verifySignature(identity.publicKeyHex, 'hello', flipped)).toBe(false);
    expect(verifySignature(identity.publicKeyHex.slice(2), 'hello', signature)).toBe(false);
    expect(verifySignature(identity.publicKeyHex, 'hello', 'zz')).toBe(false);
  });
});
