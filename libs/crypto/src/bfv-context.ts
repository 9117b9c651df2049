/**
 * BFV with coefficient encoding: the scheme SecureBoost's histograms run on (docs/protocol.md §5).
 *
 * Why BFV and not the platform's CKKS: a histogram is a one-hot matrix times an encrypted vector,
 * and coefficient encoding turns one plaintext × ciphertext polynomial product into many inner
 * products at once (Cheetah, USENIX Security 2022), with no rotation keys; BFV keeps the sums
 * exact modulo t, so masks uniform modulo t hide them perfectly and the federated trees equal the
 * plaintext reference's bit for bit. node-seal has no coefficient-encoding API, so plaintexts are
 * built and read through SEAL's own serialisation (the layout is pinned by a known-answer test).
 *
 * Parameters: N = 4096; coefficient modulus 46 + 46 + 17 bits (109, the 128-bit bound for N =
 * 4096), the ciphertexts living on the two 46-bit primes (the 17-bit one is SEAL's special prime,
 * used only by key switching, which this scheme never does); t a 58-bit prime, so one coefficient
 * carries a bin's g sum and h sum together. Fresh noise (~7 bits), a product with a one-hot
 * plaintext of ≤ 124 terms (~7 bits) and a sum of 2,000 such products (~11 bits) leave ~9 bits of
 * the 92 − 58 (the test measures it).
 */
import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { Context } from 'node-seal/implementation/context';
import type { Evaluator } from 'node-seal/implementation/evaluator';
import type { PlainText } from 'node-seal/implementation/plain-text';
import { loadSeal, SEALLibrary } from './seal-runtime';

export interface BfvParameterSet {
  readonly name: string;
  readonly polyModulusDegree: number;
  readonly coeffModulusBits: readonly number[];
  readonly plainModulusBits: number;
}

export const BFV_N4096_T58: BfvParameterSet = Object.freeze({
  name: 'bfv-n4096-46.46.17-t58',
  polyModulusDegree: 4096,
  coeffModulusBits: Object.freeze([46, 46, 17]),
  plainModulusBits: 58,
});

/**
 * WOE binning's set (libs/protocol/src/binning): per-bin event counts are sums of y ∈ {0, 1}, so a
 * 21-bit plaintext modulus holds any count of up to a million rows, and the one-hot plaintexts have
 * only +1 coefficients (woe-counting.ts), so a product grows the noise by the chunk's row count, not
 * by t. One 60-bit prime (N = 4096 allows 109 bits at 128-bit security) then leaves a wide margin
 * and halves the NTTs per product against BFV_N4096_T58's two data primes. No key switching (no
 * rotations, no relinearisation) is needed.
 */
export const BFV_N4096_T21: BfvParameterSet = Object.freeze({
  name: 'bfv-n4096-60-t21',
  polyModulusDegree: 4096,
  coeffModulusBits: Object.freeze([60]),
  plainModulusBits: 21,
});

export class BfvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BfvError';
  }
}

const SEAL_MAGIC = 0xa15e;
const HEADER_BYTES = 16;
// Plaintext members after the header: parms_id (4 × u64), coeff_count (u64), scale (f64), then a
// DynArray with its own header and its length (u64) before the coefficients.
const COEFFS_OFFSET = HEADER_BYTES + 32 + 8 + 8 + HEADER_BYTES + 8;

export class BfvContext {
  readonly degree: number;
  /** t, the plaintext modulus. */
  readonly plainModulus: bigint;

  private constructor(
    readonly seal: SEALLibrary,
    readonly params: BfvParameterSet,
    readonly context: Context,
    readonly evaluator: Evaluator,
    t: bigint,
    /** The primes q_l a fresh ciphertext lives on (SEAL's special prime excluded). */
    readonly dataPrimes: BigUint64Array,
  ) {
    this.degree = params.polyModulusDegree;
    this.plainModulus = t;
  }

  static async create(params: BfvParameterSet = BFV_N4096_T58): Promise<BfvContext> {
    const seal = await loadSeal();
    const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
    try {
      const n = params.polyModulusDegree;
      parms.setPolyModulusDegree(n);
      parms.setCoeffModulus(seal.CoeffModulus.Create(n, Int32Array.from(params.coeffModulusBits)));
      const t = seal.PlainModulus.Batching(n, params.plainModulusBits);
      const tValue = BigInt(t.value);
      parms.setPlainModulus(t);
      t.delete();
      const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
      if (!context.parametersSet()) {
        context.delete();
        throw new BfvError(`BFV parameter set ${params.name} is not valid at 128-bit security`);
      }
      const first = context.firstContextData;
      const firstParms = first.parms;
      const dataPrimes = BigUint64Array.from(firstParms.coeffModulus);
      firstParms.delete();
      first.delete();
      return new BfvContext(seal, params, context, seal.Evaluator(context), tValue, dataPrimes);
    } finally {
      parms.delete();
    }
  }

  /** Residue of an integer modulo t, in [0, t). */
  mod(value: bigint): bigint {
    const r = value % this.plainModulus;
    return r < 0n ? r + this.plainModulus : r;
  }

  /** A residue in [0, t) as the signed integer it stands for (|v| < t/2). */
  signed(residue: bigint): bigint {
    return residue > this.plainModulus / 2n ? residue - this.plainModulus : residue;
  }

  /**
   * A plaintext polynomial from its coefficients (residues in [0, t), at most N of them; index i
   * is the coefficient of X^i). The caller deletes it.
   */
  plaintext(coefficients: BigUint64Array): PlainText {
    const n = this.degree;
    if (coefficients.length > n) throw new BfvError(`a plaintext has at most ${n} coefficients`);
    const { bytes, coefficients: slots } = this.scratch();
    slots.fill(0n);
    slots.set(coefficients);
    return this.loadPlaintext(bytes);
  }

  /**
   * The one-hot plaintext Σ X^e (e ≥ 0) − X^(N+e) (e < 0) from its exponents, built in place: the
   * feature party makes one per product, so no polynomial array is allocated for it.
   */
  oneHotPlaintext(exponents: Int32Array): PlainText {
    const { bytes, coefficients } = this.scratch();
    coefficients.fill(0n);
    const minusOne = this.plainModulus - 1n;
    for (const e of exponents) {
      if (e >= this.degree || e < -this.degree) throw new BfvError('a one-hot exponent is outside the ring');
      if (e >= 0) coefficients[e] = 1n;
      else coefficients[this.degree + e] = minusOne;
    }
    return this.loadPlaintext(bytes);
  }

  private scratchBuffer?: { bytes: Uint8Array; coefficients: BigUint64Array };

  /** One serialised-plaintext buffer, headers written once, reused for every plaintext (SEAL copies on load). */
  private scratch(): { bytes: Uint8Array; coefficients: BigUint64Array } {
    if (this.scratchBuffer) return this.scratchBuffer;
    const n = this.degree;
    const bytes = new Uint8Array(COEFFS_OFFSET + n * 8);
    const view = new DataView(bytes.buffer);
    writeHeader(view, 0, bytes.length);
    view.setBigUint64(HEADER_BYTES + 32, BigInt(n), true);
    view.setFloat64(HEADER_BYTES + 40, 1, true);
    writeHeader(view, HEADER_BYTES + 48, HEADER_BYTES + 8 + n * 8);
    view.setBigUint64(HEADER_BYTES + 48 + HEADER_BYTES, BigInt(n), true);
    this.scratchBuffer = { bytes, coefficients: new BigUint64Array(bytes.buffer, COEFFS_OFFSET, n) };
    return this.scratchBuffer;
  }

  private loadPlaintext(bytes: Uint8Array): PlainText {
    // SEAL checks every coefficient against t as it loads.
    const plain = this.seal.PlainText();
    try {
      plain.loadArray(this.context, bytes);
    } catch (e) {
      plain.delete();
      throw new BfvError(`SEAL refused a plaintext: ${sealMessage(this.seal, e)}`);
    }
    return plain;
  }

  /** The coefficients of a plaintext (residues in [0, t)), N of them. */
  coefficients(plain: PlainText): BigUint64Array {
    const bytes = plain.saveArray(this.seal.ComprModeType.none);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint16(0, true) !== SEAL_MAGIC) throw new BfvError('not a SEAL plaintext');
    const count = Math.min(Number(view.getBigUint64(HEADER_BYTES + 48 + HEADER_BYTES, true)), this.degree);
    const out = new BigUint64Array(this.degree);
    out.set(new BigUint64Array(bytes.slice(COEFFS_OFFSET, COEFFS_OFFSET + 8 * count).buffer));
    return out;
  }

  /**
   * Serialised ciphertext bytes, uncompressed: zstd saves 15% of the bytes (131 → 111 kB) but
   * costs 1.3 ms to save and 0.4 ms more to load per ciphertext, a third of the label party's
   * work per chunk; on a LAN the bytes are cheaper than the time.
   */
  save(cipher: CipherText): Uint8Array {
    return cipher.saveArray(this.seal.ComprModeType.none);
  }

  /**
   * A ciphertext from a peer: it must be a SEAL ciphertext under this context, at most
   * `maxBytes` long, of size 2 (fresh or after plaintext products). The caller deletes it.
   */
  load(bytes: Uint8Array, what: string): CipherText {
    if (bytes.length > this.maxCiphertextBytes()) throw new BfvError(`${what}: ciphertext larger than allowed`);
    const cipher = this.seal.CipherText();
    try {
      cipher.loadArray(this.context, bytes);
    } catch (e) {
      cipher.delete();
      throw new BfvError(`${what}: not a ciphertext under the job's parameters (${sealMessage(this.seal, e)})`);
    }
    if (cipher.size !== 2 || cipher.isNttForm) {
      cipher.delete();
      throw new BfvError(`${what}: unexpected ciphertext shape`);
    }
    return cipher;
  }

  /** Upper bound of a serialised ciphertext of this parameter set (two polynomials, every prime, a margin). */
  maxCiphertextBytes(): number {
    return 2 * this.degree * 3 * 8 + 4096;
  }

  dispose(): void {
    this.evaluator.delete();
    this.context.delete();
  }
}

function writeHeader(view: DataView, offset: number, size: number): void {
  view.setUint16(offset, SEAL_MAGIC, true);
  view.setUint8(offset + 2, HEADER_BYTES);
  view.setUint8(offset + 3, 4); // SEAL 4.x serialisation
  view.setUint8(offset + 4, 1);
  view.setUint8(offset + 5, 0); // no compression
  view.setBigUint64(offset + 8, BigInt(size), true);
}

function sealMessage(seal: SEALLibrary, e: unknown): string {
  if (typeof e === 'number') return seal.Exception.safe(e).message;
  return e instanceof Error ? e.message : String(e);
}
