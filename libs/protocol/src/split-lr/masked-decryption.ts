/**
 * The coordinator's decryption service: a CKKS decryption oracle constrained so that it is not
 * an oracle at all in the Li–Micciancio (Eurocrypt 2021) sense.
 *
 * - It decrypts only what the running job announced beforehand: one ciphertext per
 *   (party, step, epoch, batch), at the expected level and scale, each at most once.
 * - It releases only the first `width` slots (the party's gradient), never the whole vector.
 * - It floods each released value with Gaussian noise (sigma 2^-20 by default, far above the
 *   ~2^-30 CKKS decryption error that carries key information) and rounds to a 2^-20 grid.
 * - What it decrypts is masked: the party added uniform noise in [-2^30, 2^30] to every slot
 *   before sending, so the coordinator sees gradient + mask, statistically close to uniform
 *   (distance ~ |g| / 2^31 per value).
 */
import { randomBytes } from 'node:crypto';
import { CkksKeyHolder } from '../../../crypto/src/ckks-keys';

export interface ReleasePolicy {
  /** Released values are rounded to multiples of 2^-releaseBits. */
  readonly releaseBits: number;
  /** Standard deviation of the flooding noise added before rounding. */
  readonly floodSigma: number;
}

export const DEFAULT_RELEASE_POLICY: ReleasePolicy = Object.freeze({ releaseBits: 20, floodSigma: 2 ** -20 });

/** Bound of the uniform masks parties add before asking for a decryption. */
export const GRADIENT_MASK_BOUND = 2 ** 30;

export class DecryptionRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionRefusedError';
  }
}

export interface ExpectedDecryption {
  /** Slots released to the requester. */
  readonly width: number;
  /** CKKS level the ciphertext must be at. */
  readonly level: number;
}

export class MaskedDecryptionService {
  private readonly expected = new Map<string, ExpectedDecryption>();
  private readonly served = new Set<string>();
  decryptions = 0;

  constructor(
    private readonly keys: CkksKeyHolder,
    private readonly policy: ReleasePolicy = DEFAULT_RELEASE_POLICY,
    private readonly gaussian: () => number = secureGaussian,
  ) {}

  /** Announces one decryption the protocol is about to ask for. */
  expect(key: string, spec: ExpectedDecryption): void {
    if (this.served.has(key) || this.expected.has(key)) throw new DecryptionRefusedError(`decryption ${key} was already announced`);
    this.expected.set(key, spec);
  }

  /**
   * @throws DecryptionRefusedError for an unannounced or repeated request.
   * @throws CkksError for a ciphertext of the wrong parameters, level, scale or size.
   */
  decrypt(key: string, ciphertext: Uint8Array): Float64Array {
    if (this.served.has(key)) throw new DecryptionRefusedError(`decryption ${key} was already served (replay)`);
    const spec = this.expected.get(key);
    if (!spec) throw new DecryptionRefusedError(`decryption ${key} is not expected by the running job`);
    this.expected.delete(key);
    this.served.add(key);
    const ckks = this.keys.ckks;
    const ct = ckks.deserialize(ciphertext, { level: spec.level });
    let slots: Float64Array;
    try {
      slots = this.keys.decrypt(ct);
    } finally {
      ct.delete();
    }
    this.decryptions++;
    const grid = 2 ** this.policy.releaseBits;
    const out = new Float64Array(spec.width);
    for (let j = 0; j < spec.width; j++) {
      out[j] = Math.round((slots[j] + this.policy.floodSigma * this.gaussian()) * grid) / grid;
    }
    slots.fill(0);
    return out;
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
