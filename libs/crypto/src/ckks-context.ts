/**
 * CkksContext: the SEAL context, encoder and evaluator for one parameter set, plus the few
 * operations split learning needs (encode at a level, plaintext multiply with rescale,
 * rotate-and-sum, binary (de)serialization with validation).
 *
 * Keys live elsewhere: the coordinator's CkksKeyHolder owns the secret key; parties hold a
 * CkksEncryptor built from the public bundle. Every SEAL object created here is freed with
 * `.delete()` by its owner: the WASM heap never shrinks on its own.
 */
import { CKKS_N8192_L2, CkksParameterSet, slotCount } from './ckks-parameters';
import { loadSeal, SEALLibrary } from './seal-runtime';
import type { Context } from 'node-seal/implementation/context';
import type { CKKSEncoder } from 'node-seal/implementation/ckks-encoder';
import type { Evaluator } from 'node-seal/implementation/evaluator';
import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { PlainText } from 'node-seal/implementation/plain-text';
import type { ParmsIdType } from 'node-seal/implementation/parms-id-type';
import type { GaloisKeys } from 'node-seal/implementation/galois-keys';
import type { RelinKeys } from 'node-seal/implementation/relin-keys';

export type { CipherText, PlainText, GaloisKeys };

export type CkksErrorCode =
  | 'WRONG_PARAMETERS'
  | 'WRONG_LEVEL'
  | 'WRONG_SCALE'
  | 'WRONG_SIZE'
  | 'MALFORMED_CIPHERTEXT'
  | 'PAYLOAD_TOO_LARGE'
  | 'VALUE_OUT_OF_RANGE';

/** A ciphertext or key that does not belong to this job's parameters, level or shape. */
export class CkksError extends Error {
  constructor(
    readonly code: CkksErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CkksError';
  }
}

/** What a receiver expects of an incoming ciphertext before it touches it. */
export interface CiphertextExpectation {
  /** Chain index: the top data level is `topLevel`, each rescale lowers it by one. */
  readonly level: number;
  /** Upper bound on the serialized size, checked before parsing. */
  readonly maxBytes?: number;
  /** Exact scale expected; by default that of a fresh ciphertext after one plaintext product per level dropped. */
  readonly scale?: number;
}

export class CkksContext {
  readonly slots: number;
  readonly scale: number;
  /** Chain index of freshly encrypted ciphertexts (the first data level). */
  readonly topLevel: number;
  private readonly parmsByLevel: ParmsIdType[] = [];
  private readonly levelByParms = new Map<string, number>();
  private readonly primesByLevel: number[] = [];
  /** Per level below the top, an encoder that encodes there directly (made on first use). */
  private readonly levelEncoders = new Map<number, LevelEncoder>();

  private constructor(
    readonly seal: SEALLibrary,
    readonly params: CkksParameterSet,
    readonly context: Context,
    readonly encoder: CKKSEncoder,
    readonly evaluator: Evaluator,
  ) {
    this.slots = slotCount(params);
    this.scale = 2 ** params.scaleBits;
    let data = context.firstContextData;
    this.topLevel = data.chainIndex;
    for (;;) {
      const level = data.chainIndex;
      const parmsId = data.parmsId;
      this.parmsByLevel[level] = parmsId;
      this.levelByParms.set(parmsKey(parmsId), level);
      const moduli = data.parms.coeffModulus;
      this.primesByLevel[level] = Number(moduli[moduli.length - 1]);
      if (level === 0) break;
      data = data.nextContextData;
    }
  }

  /**
   * @throws RangeError when SEAL refuses the parameter set (for example above the security bound).
   */
  static async create(params: CkksParameterSet = CKKS_N8192_L2): Promise<CkksContext> {
    const seal = await loadSeal();
    const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
    try {
      parms.setPolyModulusDegree(params.polyModulusDegree);
      parms.setCoeffModulus(
        seal.CoeffModulus.Create(params.polyModulusDegree, Int32Array.from(params.coeffModulusBits)),
      );
      const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
      if (!context.parametersSet()) {
        context.delete();
        throw new RangeError(`CKKS parameter set ${params.name} is not valid at 128-bit security`);
      }
      return new CkksContext(seal, params, context, seal.CKKSEncoder(context), seal.Evaluator(context));
    } finally {
      parms.delete();
    }
  }

  /** Scale of a ciphertext at `level` produced by fresh encryption and one plaintext product per level dropped. */
  expectedScale(level: number): number {
    let scale = this.scale;
    for (let l = this.topLevel; l > level; l--) scale = (scale * this.scale) / this.primesByLevel[l];
    return scale;
  }

  levelOf(value: CipherText | PlainText): number {
    const parmsId = value.parmsId;
    try {
      const level = this.levelByParms.get(parmsKey(parmsId));
      if (level === undefined) throw new CkksError('WRONG_PARAMETERS', 'value is not under this CKKS context');
      return level;
    } finally {
      parmsId.delete();
    }
  }

  /**
   * Encodes up to `slots` reals (missing slots are zero) at `level` and `scale`.
   * @throws RangeError when more values than slots are given or a value is not finite.
   */
  encode(values: ArrayLike<number>, level: number = this.topLevel, scale: number = this.scale): PlainText {
    if (values.length > this.slots) {
      throw new RangeError(`"values" expected at most ${this.slots} entries, got ${values.length}`);
    }
    const padded = new Float64Array(this.slots);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) throw new RangeError(`"values" expected finite numbers, got ${v} at index ${i}`);
      padded[i] = v;
    }
    if (level === this.topLevel) return this.encoder.encode(padded, scale) as PlainText;
    if (!Number.isInteger(level) || level < 0 || level > this.topLevel)
      throw new RangeError(`"level" expected an integer in [0, ${this.topLevel}], got ${level}`);
    return this.levelEncoder(level).encoder.encode(padded, scale) as PlainText;
  }

  /** Builds the encoder for `level` now: making its context costs ~0.1 s, better spent in a job's set-up than in its first round. */
  prepareEncoding(level: number): void {
    if (level !== this.topLevel) this.levelEncoder(level);
  }

  /**
   * SEAL encodes only at a context's first data level: encoding below it means encoding at the
   * top and mod-switching down, an NTT for every prime dropped. A second context whose modulus
   * is this chain's first level + 2 primes has `level` as its first data level, with the same
   * parms_id, so its plaintexts are this context's; it encodes there directly, the same bytes
   * for ~40% less (tests compare both ways).
   */
  private levelEncoder(level: number): LevelEncoder {
    let made = this.levelEncoders.get(level);
    if (made) return made;
    const { seal } = this;
    const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
    try {
      parms.loadArray(
        truncatedParmsBytes(this.context.keyContextData.parms.saveArray(seal.ComprModeType.none), level + 2),
      );
      // No modulus chain below: only its first data level is ever used.
      const context = seal.Context(parms, false, seal.SecurityLevel.tc128);
      const first = context.firstParmsId;
      try {
        if (!context.parametersSet() || parmsKey(first) !== parmsKey(this.parmsByLevel[level])) {
          context.delete();
          throw new Error(
            `could not build a level-${level} encoding context for ${this.params.name} (has SEAL's parameter format changed?)`,
          );
        }
      } finally {
        first.delete();
      }
      made = { context, encoder: seal.CKKSEncoder(context) };
    } finally {
      parms.delete();
    }
    this.levelEncoders.set(level, made);
    return made;
  }

  /** ct += plain(values), with the plaintext matched to the ciphertext's level and exact scale. */
  addValues(ct: CipherText, values: ArrayLike<number>): void {
    const plain = this.encode(values, this.levelOf(ct), ct.scale);
    try {
      this.evaluator.addPlain(ct, plain, ct);
    } finally {
      plain.delete();
    }
  }

  /** The scale a product of scale `scale` at `level` has after one rescale. */
  rescaledScale(scale: number, level: number): number {
    return scale / this.primesByLevel[level];
  }

  /**
   * Returns a ⊗ b, relinearised, not rescaled: its scale is the product of theirs. Both must sit
   * at the same level.
   */
  multiplyRelin(a: CipherText, b: CipherText, relinKeys: RelinKeys): CipherText {
    const out = this.evaluator.multiply(a, b) as CipherText;
    try {
      this.evaluator.relinearize(out, relinKeys, out);
      return out;
    } catch (e) {
      out.delete();
      throw e;
    }
  }

  /** Returns ct * plain, not rescaled: its scale is the product of theirs. The plaintext must sit at ct's level. */
  multiplyPlain(ct: CipherText, plain: PlainText): CipherText {
    return this.evaluator.multiplyPlain(ct, plain) as CipherText;
  }

  /** Returns ct * plain, rescaled once (one level consumed). The plaintext must sit at ct's level. */
  multiplyPlainRescale(ct: CipherText, plain: PlainText): CipherText {
    const out = this.evaluator.multiplyPlain(ct, plain) as CipherText;
    this.evaluator.rescaleToNext(out, out);
    return out;
  }

  /**
   * Sums blocks of `stride` slots in place: afterwards slot j (for j < stride) holds
   * sum over k of slot (k * stride + j). Needs Galois keys for steps stride, 2*stride, ..., slots/2.
   */
  rotateSum(ct: CipherText, stride: number, galoisKeys: GaloisKeys): void {
    for (let step = stride; step < this.slots; step *= 2) {
      const rotated = this.evaluator.rotateVector(ct, step, galoisKeys) as CipherText;
      try {
        this.evaluator.add(ct, rotated, ct);
      } finally {
        rotated.delete();
      }
    }
  }

  /** Galois steps `rotateSum` needs for a given stride. */
  rotationSteps(stride: number): number[] {
    assertPowerOfTwo(stride, 'stride');
    const steps: number[] = [];
    for (let step = stride; step < this.slots; step *= 2) steps.push(step);
    return steps;
  }

  /**
   * Uncompressed: zstd saves only ~16% on CKKS ciphertexts (their coefficients are uniform mod q)
   * and costs 8x the time to write and load.
   */
  serialize(ct: CipherText): Uint8Array {
    return ct.saveArray(this.seal.ComprModeType.none);
  }

  /**
   * Parses a ciphertext from a peer and checks it against what the protocol step expects.
   * @throws CkksError naming the mismatch (size, parameters, level, scale).
   */
  deserialize(bytes: Uint8Array, expect: CiphertextExpectation): CipherText {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`"ciphertext" expected Uint8Array, got ${typeof bytes}`);
    const max = expect.maxBytes ?? 2 * this.maxCiphertextBytes();
    if (bytes.length > max) {
      throw new CkksError('PAYLOAD_TOO_LARGE', `ciphertext expected at most ${max} bytes, got ${bytes.length}`);
    }
    const ct = this.seal.CipherText();
    try {
      try {
        ct.loadArray(this.context, bytes);
      } catch (e) {
        throw new CkksError('WRONG_PARAMETERS', `ciphertext does not parse under ${this.params.name}: ${errorText(e)}`);
      }
      if (ct.size !== 2) throw new CkksError('WRONG_SIZE', `ciphertext expected size 2, got ${ct.size}`);
      const level = this.levelOf(ct);
      if (level !== expect.level) {
        throw new CkksError('WRONG_LEVEL', `ciphertext expected at level ${expect.level}, got level ${level}`);
      }
      const scale = expect.scale ?? this.expectedScale(level);
      if (Math.abs(ct.scale / scale - 1) > 1e-9) {
        throw new CkksError('WRONG_SCALE', `ciphertext expected scale ${scale}, got ${ct.scale}`);
      }
      return ct;
    } catch (e) {
      ct.delete();
      throw e;
    }
  }

  /** Serialized size bound of an uncompressed ciphertext at the top level (plus header). */
  maxCiphertextBytes(): number {
    return 2 * this.params.polyModulusDegree * (this.topLevel + 1) * 8 + 1024;
  }

  dispose(): void {
    for (const { context, encoder } of this.levelEncoders.values()) {
      encoder.delete();
      context.delete();
    }
    this.levelEncoders.clear();
    for (const p of this.parmsByLevel) p?.delete();
    this.evaluator.delete();
    this.encoder.delete();
    this.context.delete();
  }
}

interface LevelEncoder {
  readonly context: Context;
  readonly encoder: CKKSEncoder;
}

/**
 * SEAL's serialized EncryptionParameters (4.x: a 16-byte header with the total size at byte 8,
 * the scheme byte, poly_modulus_degree and the modulus count as uint64, then each modulus as a
 * 24-byte record, then the plain modulus) with only the first `keep` moduli.
 */
export function truncatedParmsBytes(bytes: Uint8Array, keep: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const HEADER = 16;
  const MODULUS_RECORD = 24;
  const count = Number(view.getBigUint64(HEADER + 9, true));
  if (
    view.getUint16(0, true) !== 0xa15e ||
    Number(view.getBigUint64(8, true)) !== bytes.length ||
    HEADER + 17 + (count + 1) * MODULUS_RECORD !== bytes.length
  ) {
    throw new Error('unexpected SEAL EncryptionParameters serialization');
  }
  if (!(Number.isInteger(keep) && keep >= 1 && keep <= count))
    throw new RangeError(`"keep" expected in [1, ${count}], got ${keep}`);
  const start = HEADER + 17;
  const out = new Uint8Array(bytes.length - (count - keep) * MODULUS_RECORD);
  out.set(bytes.subarray(0, start + keep * MODULUS_RECORD));
  out.set(bytes.subarray(start + count * MODULUS_RECORD), start + keep * MODULUS_RECORD);
  const outView = new DataView(out.buffer);
  outView.setBigUint64(8, BigInt(out.length), true);
  outView.setBigUint64(HEADER + 9, BigInt(keep), true);
  return out;
}

function parmsKey(parmsId: ParmsIdType): string {
  return Array.from(parmsId.values, (v) => v.toString(16)).join(':');
}

function assertPowerOfTwo(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) {
    throw new RangeError(`"${name}" expected a power of two, got ${n}`);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
