/**
 * The optional C addon for the hash to the group (libs/crypto/native/h2c25519.c, built by
 * `npm run build` through scripts/build-native.ts). It computes suite `vfl-x25519-ell2s-ro`
 * byte-identically to the libsodium path at about a fifth of its cost; where it is not built,
 * or for a batch holding an exceptional input it declines (returns null), callers use libsodium.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

interface NativeHashToGroup {
  /** Messages concatenated, message i ending at ends[i]; packed u-coordinates, or null to decline. */
  hashToGroupPacked(messages: Uint8Array, ends: Uint32Array, dst: Uint8Array): Buffer | null;
  /** SHA-256(len(dst) ‖ dst ‖ message) for each message, packed 32 bytes each (KKRT's ID digests). */
  sha256IdsPacked(messages: Uint8Array, ends: Uint32Array, dst: Uint8Array): Buffer;
}

let nativeModule: NativeHashToGroup | null | undefined;

/** Where the build puts the addon, relative to this file in libs/crypto/src or dist/libs/crypto/src. */
export const NATIVE_ADDON_PATH = path.join(__dirname, '..', 'native', 'build', 'h2c25519.node');

/** The addon, or null when it is not built here or VFL_PSI_NATIVE=0 turns it off. */
export function loadNativeHashToGroup(): NativeHashToGroup | null {
  if (nativeModule === undefined) {
    nativeModule = null;
    if (process.env.VFL_PSI_NATIVE !== '0' && existsSync(NATIVE_ADDON_PATH)) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        nativeModule = require(NATIVE_ADDON_PATH) as NativeHashToGroup;
      } catch {
        nativeModule = null; // built for another Node ABI or platform: libsodium serves
      }
    }
  }
  return nativeModule;
}

/** Concatenates messages into the addon's (bytes, end offsets) form. */
export function packMessages(messages: readonly Uint8Array[]): { bytes: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(messages.length);
  let total = 0;
  messages.forEach((m, i) => (ends[i] = total += m.length));
  const bytes = new Uint8Array(total);
  messages.forEach((m, i) => bytes.set(m, ends[i] - m.length));
  return { bytes, ends };
}
