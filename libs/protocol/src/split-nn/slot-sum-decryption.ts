/**
 * The coordinator's decryption service for split NN: a sibling of the split-LR
 * MaskedDecryptionService with the same rules, releasing sums of slots instead of a prefix.
 *
 * - It decrypts only what the job announced for the key (a SlotSumPlan the coordinator derived
 *   from the job layout itself): that many ciphertexts per part, each at the expected level and
 *   scale, each key at most once.
 * - Every decrypted slot carries a fresh uniform mask in [-2^30, 2^30] added by the party that
 *   built the ciphertext; plaintext shares arrive masked the same way. The service sees only
 *   masked values.
 * - It releases only the sums the plan names (for example Σ_k α_ik·V_kj over a row's slots),
 *   never a slot, flooded with Gaussian noise (σ = 2^-20) and rounded to a 2^-20 grid, as in
 *   split LR (Li–Micciancio: a decryptor that releases exact decryptions of chosen ciphertexts
 *   leaks its key).
 */
import { CkksKeyHolder } from '@vfl/crypto';
import {
  DecryptionAnnouncements,
  DecryptionRefusedError,
  DEFAULT_RELEASE_POLICY,
  ReleasePolicy,
  secureGaussian,
} from '../split-lr/masked-decryption';
import { addSlotSums, SlotSumPlan } from './layout';

/** Bound of the uniform mask on every slot and plaintext share of the interactive layer. */
export const SLOT_MASK_BOUND_NN = 2 ** 30;

export class SlotSumDecryptionService {
  private readonly announcements = new DecryptionAnnouncements<SlotSumPlan>();
  decryptions = 0;

  constructor(
    private readonly keys: CkksKeyHolder,
    private readonly policy: ReleasePolicy = DEFAULT_RELEASE_POLICY,
    private readonly gaussian: () => number = secureGaussian,
  ) {}

  expect(key: string, plan: SlotSumPlan): void {
    this.announcements.announce(key, plan);
  }

  /**
   * @param encrypted one list of serialized ciphertexts per plan part.
   * @param shares one masked plaintext vector per plan share.
   * @throws DecryptionRefusedError for an unannounced or repeated key, or parts that do not fit the plan.
   * @throws CkksError for a ciphertext of the wrong parameters, level, scale or size.
   */
  release(key: string, encrypted: readonly (readonly Uint8Array[])[], shares: readonly Float64Array[]): Float64Array {
    const plan = this.announcements.take(key);
    if (encrypted.length !== plan.parts.length) {
      throw new DecryptionRefusedError(
        `decryption ${key}: expected ${plan.parts.length} groups of ciphertexts, got ${encrypted.length}`,
      );
    }
    if (shares.length !== plan.shares.length) {
      throw new DecryptionRefusedError(
        `decryption ${key}: expected ${plan.shares.length} plaintext shares, got ${shares.length}`,
      );
    }
    plan.parts.forEach((part, p) => {
      if (encrypted[p].length !== part.ciphertexts) {
        throw new DecryptionRefusedError(
          `decryption ${key}: part ${p} expected ${part.ciphertexts} ciphertexts, got ${encrypted[p].length}`,
        );
      }
    });
    plan.shares.forEach((s, i) => {
      if (!(shares[i] instanceof Float64Array) || shares[i].length !== s.length) {
        throw new DecryptionRefusedError(
          `decryption ${key}: share ${i} expected ${s.length} values, got ${shares[i]?.length}`,
        );
      }
      const bad = shares[i].findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new DecryptionRefusedError(`decryption ${key}: share ${i} has a non-finite value at ${bad}`);
    });
    const ckks = this.keys.ckks;
    const out = new Float64Array(plan.width);
    const compensation = new Float64Array(plan.width);
    plan.parts.forEach((part, p) => {
      const slots = encrypted[p].map((bytes) => {
        const ct = ckks.deserialize(bytes, { level: part.level });
        try {
          return this.keys.decrypt(ct);
        } finally {
          ct.delete();
        }
      });
      this.decryptions += slots.length;
      addSlotSums(part, slots, out, compensation);
      slots.forEach((s) => s.fill(0));
    });
    plan.shares.forEach((s, i) => {
      for (let t = 0; t < s.length; t++) out[s.offset + t] += shares[i][t];
    });
    const grid = 2 ** this.policy.releaseBits;
    for (let t = 0; t < out.length; t++) {
      out[t] = Math.round((out[t] + compensation[t] + this.policy.floodSigma * this.gaussian()) * grid) / grid;
    }
    return out;
  }
}
