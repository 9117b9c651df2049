/**
 * The coordinator's decryption service: a CKKS decryption oracle constrained so that it is not
 * an oracle at all in the Li–Micciancio (Eurocrypt 2021) sense.
 *
 * - It decrypts only what the running job announced beforehand: one set of gradient ciphertexts
 *   per (party, epoch, batch), in the expected number, level and scale, each at most once.
 * - It releases only the block sums of the batch's layout (BlockPacking), one value per column of
 *   the party, never a slot.
 * - It floods each released value with Gaussian noise (sigma 2^-20 by default, far above the
 *   ~2^-25 CKKS decryption error of a block sum, which carries key information) and rounds to a
 *   2^-20 grid.
 * - What it decrypts is masked: the party added uniform noise in [-2^24, 2^24] to every slot
 *   before sending, so the coordinator sees per-row products d_i·x_ij/|B| + mask, statistically
 *   close to uniform (distance ~ |d_i·x_ij/|B|| / 2^25, about 2^-30, per slot). The bound stays
 *   well below 2^53 so that summing a block of masked slots in doubles keeps ~2^-23 precision.
 */
import { randomBytes } from 'node:crypto';
import { CkksEngine, InlineCkksEngine, CkksKeyHolder } from '@vfl/crypto';
import { unpackCiphertexts } from '../wire/codec';
import { BlockPacking } from './block-packing';

export interface ReleasePolicy {
  /** Released values are rounded to multiples of 2^-releaseBits. */
  readonly releaseBits: number;
  /** Standard deviation of the flooding noise added before rounding. */
  readonly floodSigma: number;
}

export const DEFAULT_RELEASE_POLICY: ReleasePolicy = Object.freeze({ releaseBits: 20, floodSigma: 2 ** -20 });

/** Bound of the uniform masks parties add to every slot before asking for a decryption. */
export const SLOT_MASK_BOUND = 2 ** 24;

export class DecryptionRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionRefusedError';
  }
}

export interface ExpectedDecryption {
  /** Values released to the requester: its column count. */
  readonly width: number;
  /** Rows of the batch, which fix the block layout. */
  readonly batchRows: number;
  /** CKKS level the ciphertext must be at. */
  readonly level: number;
  /** Exact scale it must carry (default: a fresh ciphertext's after one plaintext product per level). */
  readonly scale?: number;
}

/**
 * What a decryption service has been told to expect: each key announced once, served at most once.
 * Both the split-LR and the split-NN services keep their announcements here.
 */
export class DecryptionAnnouncements<T> {
  private readonly expected = new Map<string, T>();
  private readonly served = new Set<string>();

  announce(key: string, spec: T): void {
    if (this.served.has(key) || this.expected.has(key))
      throw new DecryptionRefusedError(`decryption ${key} was already announced`);
    this.expected.set(key, spec);
  }

  /** The announced spec, consumed: a second request for the key is a replay. */
  take(key: string): T {
    if (this.served.has(key)) throw new DecryptionRefusedError(`decryption ${key} was already served (replay)`);
    const spec = this.expected.get(key);
    if (spec === undefined) throw new DecryptionRefusedError(`decryption ${key} is not expected by the running job`);
    this.expected.delete(key);
    this.served.add(key);
    return spec;
  }
}

export class MaskedDecryptionService {
  private readonly announcements = new DecryptionAnnouncements<ExpectedDecryption>();
  private readonly engine: CkksEngine;
  decryptions = 0;

  constructor(
    private readonly keys: CkksKeyHolder,
    private readonly policy: ReleasePolicy = DEFAULT_RELEASE_POLICY,
    private readonly gaussian: () => number = secureGaussian,
    /** Where the decryptions run (default: inline); a worker engine must hold this key holder's key. */
    engine?: CkksEngine,
  ) {
    this.engine = engine ?? new InlineCkksEngine({ ckks: keys.ckks, keys });
  }

  /** Announces one decryption the protocol is about to ask for. */
  expect(key: string, spec: ExpectedDecryption): void {
    this.announcements.announce(key, spec);
  }

  /**
   * Decrypts a party's gradient ciphertexts (packed with `packCiphertexts`) and releases the
   * flooded, rounded block sums.
   * @throws DecryptionRefusedError for an unannounced or repeated request.
   * @throws CkksError for the wrong number of ciphertexts, or one of the wrong parameters, level, scale or size.
   */
  async decrypt(key: string, packed: Uint8Array): Promise<Float64Array> {
    const spec = this.announcements.take(key);
    const ckks = this.keys.ckks;
    const packing = new BlockPacking(ckks.slots, spec.batchRows);
    const count = packing.gradientCiphertexts(spec.width);
    const ciphertexts = unpackCiphertexts(packed, count, 'gradient', ckks.maxCiphertextBytes());
    const expect = { level: spec.level, scale: spec.scale };
    const slots = await this.engine.decrypt(ciphertexts, expect);
    try {
      this.decryptions += slots.length;
      const sums = packing.blockSums(slots, spec.width);
      const grid = 2 ** this.policy.releaseBits;
      for (let j = 0; j < sums.length; j++)
        sums[j] = Math.round((sums[j] + this.policy.floodSigma * this.gaussian()) * grid) / grid;
      return sums;
    } finally {
      for (const s of slots) s.fill(0);
    }
  }
}

/** Standard normal from the OS CSPRNG (Box–Muller on 53-bit uniforms). */
export function secureGaussian(): number {
  const b = randomBytes(16);
  const u1 = (b.readUInt32LE(0) * 2 ** 21 + (b.readUInt32LE(4) >>> 11) + 1) / 2 ** 53;
  const u2 = (b.readUInt32LE(8) * 2 ** 21 + (b.readUInt32LE(12) >>> 11)) / 2 ** 53;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Uniform masks in [-bound, bound] from the OS CSPRNG. */
export function secureUniformMasks(count: number, bound: number): Float64Array {
  const bytes = randomBytes(count * 8);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = (bytes.readUInt32LE(8 * i) * 2 ** 21 + (bytes.readUInt32LE(8 * i + 4) >>> 11)) / 2 ** 53;
    out[i] = (2 * u - 1) * bound;
  }
  return out;
}
