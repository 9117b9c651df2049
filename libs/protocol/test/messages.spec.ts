import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { CkksError } from '@vfl/crypto';
import {
  digestHex,
  packBody,
  packCiphertexts,
  packedCiphertextsDigest,
  publicBundleDigest,
  unpackCiphertexts,
} from '../src/wire/codec';

describe('message digests', () => {
  it('match the SHA-256 known answers and the @noble/hashes reference', () => {
    expect(digestHex(utf8ToBytes('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(digestHex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const big = Uint8Array.from({ length: 400_000 }, (_, i) => (i * 31) & 0xff);
    expect(digestHex(big)).toBe(bytesToHex(sha256(big)));
    const bundle = { publicKey: big.subarray(0, 1000), galoisKeys: big.subarray(1000, 1500) };
    expect(publicBundleDigest(bundle)).toBe(bytesToHex(sha256(big.subarray(0, 1500))));
  });
});

describe('packed ciphertexts', () => {
  const a = Uint8Array.of(1, 2, 3);
  const b = Uint8Array.of(4);

  it('round-trip as one body', () => {
    expect(unpackCiphertexts(packCiphertexts([a, b]), 2, 'gradient', 10)).toEqual([a, b]);
  });

  it('refuse a wrong count, a body that is not a list of byte strings, and an oversized body before parsing', () => {
    expect(() => unpackCiphertexts(packCiphertexts([a]), 2, 'gradient', 10)).toThrow(
      'gradient: expected 2 ciphertexts, got 1',
    );
    expect(() => unpackCiphertexts(packBody(['x']), 1, 'gradient', 10)).toThrow('gradient: not a list of ciphertexts');
    expect(() => unpackCiphertexts(Uint8Array.of(0xc1), 1, 'gradient', 10)).toThrow(CkksError);
    const oversized = packCiphertexts([new Uint8Array(100)]);
    expect(() => unpackCiphertexts(oversized, 1, 'gradient', 10)).toThrow(
      'gradient: 103 bytes is more than 1 ciphertexts can take',
    );
  });

  it('are digested piece by piece exactly as their packed body is, at every MessagePack header width', () => {
    const of = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
    const lists = [
      [],
      [of(0)],
      [of(1), of(255), of(256)],
      [of(65_535), of(65_536), of(131_185)],
      Array.from({ length: 16 }, (_, i) => of(i)),
      Array.from({ length: 65_536 }, (_, i) => of(i % 3)),
    ];
    for (const list of lists) {
      const body = packCiphertexts(list);
      expect(packedCiphertextsDigest(list)).toEqual({ digest: digestHex(body), byteSize: body.length });
    }
  });
});
