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
 * Parameters: N = 4096, SEAL's 128-bit default coefficient modulus (36 + 36 + 37 bits) and a
 * 40-bit prime t. A product with a one-hot plaintext of ≤ N/2 terms and the sum of a few hundred
 * such products leave > 10 bits of noise budget (measured in the test).
 */
import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { Context } from 'node-seal/implementation/context';
import type { Evaluator } from 'node-seal/implementation/evaluator';
import type { PlainText } from 'node-seal/implementation/plain-text';
import { loadSeal, SEALLibrary } from './seal-runtime';

export interface BfvParameterSet {
  readonly name: string;
  readonly polyModulusDegree: number;
  readonly plainModulusBits: number;
}

export const BFV_N4096_T40: BfvParameterSet = Object.freeze({
  name: 'bfv-n4096-default-t40',
  polyModulusDegree: 4096,
  plainModulusBits: 40,
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
  /** t, the plaintext modulus (a prime below 2^53, so coefficients are exact as numbers). */
  readonly plainModulus: number;
  private readonly t: bigint;

  private constructor(
    readonly seal: SEALLibrary,
    readonly params: BfvParameterSet,
    readonly context: Context,
    readonly evaluator: Evaluator,
    t: bigint,
  ) {
    this.degree = params.polyModulusDegree;
    this.t = t;
    this.plainModulus = Number(t);
  }

  static async create(params: BfvParameterSet = BFV_N4096_T40): Promise<BfvContext> {
    const seal = await loadSeal();
    const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
    try {
      const n = params.polyModulusDegree;
      parms.setPolyModulusDegree(n);
      parms.setCoeffModulus(seal.CoeffModulus.BFVDefault(n, seal.SecurityLevel.tc128));
      const t = seal.PlainModulus.Batching(n, params.plainModulusBits);
      const tValue = BigInt(t.value);
      parms.setPlainModulus(t);
      t.delete();
      const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
      if (!context.parametersSet()) {
        context.delete();
        throw new BfvError(`BFV parameter set ${params.name} is not valid at 128-bit security`);
      }
      return new BfvContext(seal, params, context, seal.Evaluator(context), tValue);
    } finally {
      parms.delete();
    }
  }

  /** Residue of an integer-valued number modulo t, in [0, t). */
  mod(value: number): number {
    const r = value % this.plainModulus;
    return r < 0 ? r + this.plainModulus : r;
  }

  /** A residue in [0, t) as the signed integer it stands for (|v| < t/2). */
  signed(residue: number): number {
    return residue > this.plainModulus / 2 ? residue - this.plainModulus : residue;
  }

  /**
   * A plaintext polynomial from its coefficients (residues in [0, t), at most N of them; index i
   * is the coefficient of X^i). The caller deletes it.
   */
  plaintext(coefficients: ArrayLike<number>): PlainText {
    const n = this.degree;
    if (coefficients.length > n) throw new BfvError(`a plaintext has at most ${n} coefficients`);
    const bytes = new Uint8Array(COEFFS_OFFSET + n * 8);
    const view = new DataView(bytes.buffer);
    writeHeader(view, 0, bytes.length);
    view.setBigUint64(HEADER_BYTES + 32, BigInt(n), true);
    view.setFloat64(HEADER_BYTES + 40, 1, true);
    writeHeader(view, HEADER_BYTES + 48, HEADER_BYTES + 8 + n * 8);
    view.setBigUint64(HEADER_BYTES + 48 + HEADER_BYTES, BigInt(n), true);
    for (let i = 0; i < coefficients.length; i++) {
      const c = coefficients[i];
      if (c === 0) continue;
      if (!(Number.isInteger(c) && c > 0 && c < this.plainModulus))
        throw new BfvError('a plaintext coefficient must be an integer in [0, t)');
      view.setUint32(COEFFS_OFFSET + 8 * i, c % 2 ** 32, true);
      view.setUint32(COEFFS_OFFSET + 8 * i + 4, Math.floor(c / 2 ** 32), true);
    }
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
  coefficients(plain: PlainText): Float64Array {
    const bytes = plain.saveArray(this.seal.ComprModeType.none);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint16(0, true) !== SEAL_MAGIC) throw new BfvError('not a SEAL plaintext');
    const count = Number(view.getBigUint64(HEADER_BYTES + 48 + HEADER_BYTES, true));
    const out = new Float64Array(this.degree);
    for (let i = 0; i < Math.min(count, this.degree); i++) {
      out[i] = view.getUint32(COEFFS_OFFSET + 8 * i, true) + view.getUint32(COEFFS_OFFSET + 8 * i + 4, true) * 2 ** 32;
    }
    return out;
  }

  /** Serialised ciphertext bytes (zstd-compressed). */
  save(cipher: CipherText): Uint8Array {
    return cipher.saveArray(this.seal.ComprModeType.zstd);
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
