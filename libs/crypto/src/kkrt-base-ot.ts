/**
 * Base oblivious transfers for KKRT: Chou–Orlandi "simplest OT" (Latincrypt 2015), semi-honest,
 * on Curve25519 in its Edwards form (libsodium's edwards25519: the same group as X25519).
 *
 *   OT sender:   a random, A = a·G                                   → A
 *   OT receiver: per OT i with choice c, b random, B = b·G + c·A      → B_i
 *   sender keys:   k0 = H(i, A, B_i, a·B_i),  k1 = H(i, A, B_i, a·(B_i − A))
 *   receiver key:  k_c = H(i, A, B_i, b·A)          (a·B − c·a·A = a·b·G = b·A)
 *
 * The sender learns nothing about c: B is uniform whatever c is. The receiver learns k_{1−c} only
 * by computing a·(B ± A) from A and B, i.e. by solving CDH. H is SHA-256 truncated to 16 bytes.
 * Peer points are decoded by libsodium, which refuses non-canonical, small-order and
 * off-subgroup encodings: a bad one throws naming the OT index.
 */
import { createHash } from 'node:crypto';
import { loadSodium } from './psi-group';

export const BASE_OT_POINT_BYTES = 32;
export const BASE_OT_KEY_BYTES = 16;

function sodiumOrThrow() {
  const sodium = loadSodium();
  if (!sodium) throw new Error('KKRT base OTs need sodium-native, which does not load on this platform');
  return sodium;
}

function otKey(index: number, a: Uint8Array, b: Uint8Array, shared: Uint8Array): Uint8Array {
  const i = Buffer.alloc(4);
  i.writeUInt32LE(index);
  return new Uint8Array(
    createHash('sha256').update('vfl-kkrt-base-ot').update(i).update(a).update(b).update(shared).digest(),
  ).subarray(0, BASE_OT_KEY_BYTES);
}

/** The OT sender's side (in KKRT: the OPRF receiver, who sends the seeds of both matrix halves). */
export class BaseOtSender {
  private readonly sodium = sodiumOrThrow();
  private readonly secret = Buffer.alloc(32);
  /** The first message: A. */
  readonly publicPoint = Buffer.alloc(32);

  constructor() {
    this.sodium.crypto_core_ed25519_scalar_random(this.secret);
    this.sodium.crypto_scalarmult_ed25519_base_noclamp(this.publicPoint, this.secret);
  }

  /** Both keys of each OT from the receiver's packed B_i. Wipes the secret afterwards. */
  keys(packedB: Uint8Array, count: number): { k0: Uint8Array[]; k1: Uint8Array[] } {
    if (packedB.length !== count * BASE_OT_POINT_BYTES)
      throw new RangeError(`base OT reply expected ${count * BASE_OT_POINT_BYTES} bytes, got ${packedB.length}`);
    const k0: Uint8Array[] = [];
    const k1: Uint8Array[] = [];
    const s0 = Buffer.alloc(32);
    const s1 = Buffer.alloc(32);
    const diff = Buffer.alloc(32);
    try {
      for (let i = 0; i < count; i++) {
        const b = Buffer.from(packedB.buffer, packedB.byteOffset + 32 * i, 32);
        try {
          this.sodium.crypto_scalarmult_ed25519_noclamp(s0, this.secret, b);
          this.sodium.crypto_core_ed25519_sub(diff, b, this.publicPoint);
          this.sodium.crypto_scalarmult_ed25519_noclamp(s1, this.secret, diff);
        } catch {
          throw new RangeError(`base OT ${i}: the peer's point is not a valid edwards25519 group element`);
        }
        k0.push(otKey(i, this.publicPoint, b, s0));
        k1.push(otKey(i, this.publicPoint, b, s1));
      }
    } finally {
      this.secret.fill(0);
      s0.fill(0);
      s1.fill(0);
    }
    return { k0, k1 };
  }
}

/** The OT receiver's side (in KKRT: the OPRF sender, whose choice bits are its secret s). */
export class BaseOtReceiver {
  private readonly sodium = sodiumOrThrow();

  /**
   * The reply B_i for each choice bit, and the chosen keys.
   * @throws RangeError when the sender's A is not a valid group element.
   */
  choose(publicPoint: Uint8Array, choices: readonly number[]): { packedB: Uint8Array; keys: Uint8Array[] } {
    if (publicPoint.length !== 32) throw new RangeError(`base OT point expected 32 bytes, got ${publicPoint.length}`);
    const a = Buffer.from(publicPoint);
    if (!this.sodium.crypto_core_ed25519_is_valid_point(a))
      throw new RangeError("base OT: the peer's point is not a valid edwards25519 group element");
    const packedB = new Uint8Array(choices.length * 32);
    const keys: Uint8Array[] = [];
    const b = Buffer.alloc(32);
    const bG = Buffer.alloc(32);
    const shared = Buffer.alloc(32);
    try {
      choices.forEach((c, i) => {
        this.sodium.crypto_core_ed25519_scalar_random(b);
        this.sodium.crypto_scalarmult_ed25519_base_noclamp(bG, b);
        const point = Buffer.from(packedB.buffer, 32 * i, 32);
        if (c) this.sodium.crypto_core_ed25519_add(point, bG, a);
        else bG.copy(point);
        this.sodium.crypto_scalarmult_ed25519_noclamp(shared, b, a);
        keys.push(otKey(i, a, point, shared));
      });
    } finally {
      b.fill(0);
      shared.fill(0);
    }
    return { packedB, keys };
  }
}
