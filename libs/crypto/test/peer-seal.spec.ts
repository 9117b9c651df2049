/** Peer bodies sealed with AES-256-GCM: a published known answer, round trips of every size, and what fails to open. */
import { randomBytes } from 'node:crypto';
import { open, PeerSealError, seal } from '../src/peer-seal';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe('peer seal (AES-256-GCM, nonce ‖ ciphertext ‖ tag)', () => {
  it('opens the GCM specification’s test case 14 (zero key and nonce, one zero block)', () => {
    const sealed = hex(`${'00'.repeat(12)}cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919`);
    expect(open(new Uint8Array(32), sealed, '')).toEqual(new Uint8Array(16));
  });

  it('round-trips bodies from empty to 12 MB, the large ones opened without a copy of their own', () => {
    const key = new Uint8Array(randomBytes(32));
    for (const size of [0, 1, 4095, 70_000, 12_000_000]) {
      const body = new Uint8Array(randomBytes(size));
      const sealed = seal(key, body, 'job|peer.sb.gradients|bank|ecommerce|7');
      expect(sealed.length).toBe(12 + size + 16);
      const opened = open(key, sealed, 'job|peer.sb.gradients|bank|ecommerce|7');
      expect(Buffer.from(opened).equals(Buffer.from(body))).toBe(true);
      if (size >= 70_000) expect(opened.byteOffset === 0 && opened.buffer.byteLength === size).toBe(true);
    }
  });

  it('refuses a flipped bit, another header, another key and a body too short to hold nonce and tag', () => {
    const key = new Uint8Array(randomBytes(32));
    const sealed = seal(key, new Uint8Array(randomBytes(1000)), 'header');
    const flipped = sealed.slice();
    flipped[500] ^= 1;
    expect(() => open(key, flipped, 'header')).toThrow(PeerSealError);
    expect(() => open(key, sealed, 'other header')).toThrow('sealed body does not open');
    expect(() => open(new Uint8Array(32), sealed, 'header')).toThrow(PeerSealError);
    expect(() => open(key, sealed.subarray(0, 27), 'header')).toThrow('sealed body of 27 bytes is too short');
  });
});
