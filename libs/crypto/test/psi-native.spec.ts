import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import suiteVectors from './vectors/hash-to-group-vfl-x25519-ell2s-ro.json';
import { buildNativeAddons } from '../../../scripts/build-native';
import { nobleX25519Group, SodiumX25519Group } from '../src/psi-group';
import { loadNativeHashToGroup, NATIVE_ADDON_PATH, packMessages } from '../src/psi-native';

// The unit tests run the TypeScript sources, so build the addon where psi-native.ts looks for it.
beforeAll(() => {
  const result = buildNativeAddons(path.resolve(__dirname, '../../..'), [path.dirname(NATIVE_ADDON_PATH)]);
  if ('skipped' in result) throw new Error(`the C addon must build on the test machine: ${result.skipped}`);
});

function nativeHash(messages: readonly Uint8Array[], dst: Uint8Array): Uint8Array | null {
  const native = loadNativeHashToGroup();
  if (!native) throw new Error('the addon did not load');
  const { bytes, ends } = packMessages(messages);
  return native.hashToGroupPacked(bytes, ends, dst);
}

describe('native hash to group (suite vfl-x25519-ell2s-ro, libs/crypto/native/h2c25519.c)', () => {
  const sodium = new SodiumX25519Group();

  it('reproduces the checked-in known answers', () => {
    const dst = utf8ToBytes(suiteVectors.dst);
    const out = nativeHash(
      suiteVectors.hashToGroup.map((v) => utf8ToBytes(v.msg)),
      dst,
    );
    suiteVectors.hashToGroup.forEach((v, i) => expect(bytesToHex(out!.subarray(i * 32, i * 32 + 32))).toBe(v.u));
  });

  it('is byte-identical to the libsodium path on 3,000 random messages of 0..200 bytes and random DSTs', () => {
    for (const dstLength of [1, 17, 255]) {
      const dst = new Uint8Array(randomBytes(dstLength));
      const messages = Array.from({ length: 1000 }, (_, i) => new Uint8Array(randomBytes(i % 201)));
      expect(bytesToHex(nativeHash(messages, dst)!)).toBe(bytesToHex(sodium.hashToGroupPackedSodium(messages, dst)));
    }
  });

  it('agrees with the @noble/curves reference, and the group uses it for single hashes too', () => {
    const dst = utf8ToBytes('vfl-psi-native-test');
    for (let i = 0; i < 30; i++) {
      const m = utf8ToBytes(`1380013${i}`);
      const expected = bytesToHex(nobleX25519Group.hashToGroup(m, dst));
      expect(bytesToHex(nativeHash([m], dst)!)).toBe(expected);
      expect(bytesToHex(sodium.hashToGroup(m, dst))).toBe(expected);
    }
  });

  it('returns an empty list for no messages', () => {
    expect(nativeHash([], utf8ToBytes('d'))!.length).toBe(0);
  });

  // Errors made by the addon come from Node's own realm, not jest's, so they are matched by message.
  it('refuses malformed arguments, naming the problem', () => {
    const native = loadNativeHashToGroup()!;
    const dst = utf8ToBytes('d');
    const ends = /message ends must be non-decreasing and within the message bytes/;
    expect(() => native.hashToGroupPacked(new Uint8Array(4), new Uint32Array([5]), dst)).toThrow(ends);
    expect(() => native.hashToGroupPacked(new Uint8Array(4), new Uint32Array([3, 2]), dst)).toThrow(ends);
    expect(() => native.hashToGroupPacked(new Uint8Array(4), new Uint32Array([4]), new Uint8Array(256))).toThrow(
      /DST longer than 255 bytes/,
    );
    expect(() =>
      native.hashToGroupPacked(new Uint8Array(4), new Uint8Array([4]) as unknown as Uint32Array, dst),
    ).toThrow(/expects \(Uint8Array, Uint32Array, Uint8Array\)/);
  });
});
