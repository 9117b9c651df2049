/**
 * CKKS key material, split by who may hold it.
 *
 * - CkksKeyHolder (the coordinator): generates the key pair for one job, exports only the public
 *   bundle, and decrypts. The secret key leaves it only for this process's own decryption
 *   worker threads (secretKeyBytes, for WorkerCkksEngine), never over the network.
 * - CkksEncryptor (a party): built from the public bundle; encrypts and rotates, cannot decrypt.
 *
 * Galois keys are generated only for the rotation steps the job's layout uses (they are large:
 * ~0.7 MB each, seeded and zstd-compressed), and not at all for a layout without rotations: the
 * bundle then carries an empty `galoisKeys`.
 */
import { CkksContext, CkksError, CipherText, GaloisKeys } from './ckks-context';
import type { SecretKey } from 'node-seal/implementation/secret-key';
import type { PublicKey } from 'node-seal/implementation/public-key';
import type { Encryptor } from 'node-seal/implementation/encryptor';
import type { Decryptor } from 'node-seal/implementation/decryptor';
import type { RelinKeys } from 'node-seal/implementation/relin-keys';

/** Everything a party needs to encrypt and evaluate: safe to send to anyone. */
export interface CkksPublicBundle {
  readonly parameterSet: string;
  readonly publicKey: Uint8Array;
  readonly galoisKeys: Uint8Array;
  readonly galoisSteps: readonly number[];
  /** Relinearisation keys, for ciphertext-ciphertext products; empty when the job multiplies none. */
  readonly relinKeys?: Uint8Array;
}

export class CkksKeyHolder {
  private constructor(
    readonly ckks: CkksContext,
    private readonly secretKey: SecretKey,
    private readonly decryptor: CkksDecryptor,
    private readonly bundle: CkksPublicBundle,
  ) {}

  /** The secret key, serialized: only for this process's decryption workers, which zero it once loaded. */
  secretKeyBytes(): Uint8Array {
    return this.secretKey.saveArray(this.ckks.seal.ComprModeType.none);
  }

  static generate(
    ckks: CkksContext,
    galoisSteps: readonly number[],
    options: { relinearization?: boolean } = {},
  ): CkksKeyHolder {
    const { seal } = ckks;
    const generator = seal.KeyGenerator(ckks.context);
    try {
      const secretKey = generator.secretKey();
      const publicKey = generator.createPublicKeySerializable();
      // SEAL reads an empty step list as "every power of two": ask for none instead.
      const galois =
        galoisSteps.length > 0 ? generator.createGaloisKeysSerializable(Int32Array.from(galoisSteps)) : null;
      const relin = options.relinearization ? generator.createRelinKeysSerializable() : null;
      try {
        const bundle: CkksPublicBundle = {
          parameterSet: ckks.params.name,
          publicKey: publicKey.saveArray(seal.ComprModeType.zstd),
          galoisKeys: galois ? galois.saveArray(seal.ComprModeType.zstd) : new Uint8Array(0),
          galoisSteps: [...galoisSteps],
          relinKeys: relin ? relin.saveArray(seal.ComprModeType.zstd) : new Uint8Array(0),
        };
        return new CkksKeyHolder(
          ckks,
          secretKey,
          new CkksDecryptor(ckks, seal.Decryptor(ckks.context, secretKey)),
          bundle,
        );
      } finally {
        publicKey.delete();
        galois?.delete();
        relin?.delete();
      }
    } finally {
      generator.delete();
    }
  }

  publicBundle(): CkksPublicBundle {
    return this.bundle;
  }

  /** Decrypts and decodes all slots. Policy (what may be decrypted, what is released) is the caller's. */
  decrypt(ct: CipherText): Float64Array {
    return this.decryptor.decrypt(ct);
  }

  dispose(): void {
    this.decryptor.dispose();
    this.secretKey.delete();
  }
}

/** Decryption alone: inside the key holder, and in its worker threads from secretKeyBytes. */
export class CkksDecryptor {
  constructor(
    private readonly ckks: CkksContext,
    private readonly decryptor: Decryptor,
    private readonly secretKey?: SecretKey,
  ) {}

  /** @throws CkksError WRONG_PARAMETERS when the bytes are not a secret key of this context. */
  static fromSecretKey(ckks: CkksContext, bytes: Uint8Array): CkksDecryptor {
    const secretKey = ckks.seal.SecretKey();
    try {
      secretKey.loadArray(ckks.context, bytes);
    } catch (e) {
      secretKey.delete();
      throw new CkksError(
        'WRONG_PARAMETERS',
        `secret key does not load: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return new CkksDecryptor(ckks, ckks.seal.Decryptor(ckks.context, secretKey), secretKey);
  }

  decrypt(ct: CipherText): Float64Array {
    const plain = this.decryptor.decrypt(ct);
    if (!plain) throw new CkksError('MALFORMED_CIPHERTEXT', 'decryption produced no plaintext');
    try {
      return this.ckks.encoder.decode(plain);
    } finally {
      plain.delete();
    }
  }

  dispose(): void {
    this.decryptor.delete();
    this.secretKey?.delete();
  }
}

export class CkksEncryptor {
  private constructor(
    readonly ckks: CkksContext,
    /** The public bundle this encryptor was built from (for worker threads). */
    readonly bundle: CkksPublicBundle,
    private readonly publicKey: PublicKey,
    private readonly encryptor: Encryptor,
    /** Null when the bundle carries none (a layout without rotations). */
    readonly galoisKeys: GaloisKeys | null,
    readonly galoisSteps: readonly number[],
    /** Null when the bundle carries none (no ciphertext-ciphertext products). */
    readonly relinKeys: RelinKeys | null = null,
  ) {}

  /**
   * @throws CkksError WRONG_PARAMETERS when the bundle was made for another parameter set.
   */
  static fromBundle(ckks: CkksContext, bundle: CkksPublicBundle): CkksEncryptor {
    if (bundle.parameterSet !== ckks.params.name) {
      throw new CkksError(
        'WRONG_PARAMETERS',
        `public keys are for ${bundle.parameterSet}, this party runs ${ckks.params.name}`,
      );
    }
    const { seal } = ckks;
    const publicKey = seal.PublicKey();
    const galoisKeys = bundle.galoisKeys.length > 0 ? seal.GaloisKeys() : null;
    const relinKeys = (bundle.relinKeys?.length ?? 0) > 0 ? seal.RelinKeys() : null;
    try {
      publicKey.loadArray(ckks.context, bundle.publicKey);
      galoisKeys?.loadArray(ckks.context, bundle.galoisKeys);
      relinKeys?.loadArray(ckks.context, bundle.relinKeys!);
    } catch (e) {
      publicKey.delete();
      galoisKeys?.delete();
      relinKeys?.delete();
      throw new CkksError(
        'WRONG_PARAMETERS',
        `public key bundle does not load: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return new CkksEncryptor(
      ckks,
      bundle,
      publicKey,
      seal.Encryptor(ckks.context, publicKey),
      galoisKeys,
      bundle.galoisSteps,
      relinKeys,
    );
  }

  /**
   * Encrypts up to `slots` reals at the context's scale or the one given, at the top level or the
   * one given (below the top is cheaper: SEAL encrypts one level up and divides down).
   */
  encrypt(values: ArrayLike<number>, scale: number = this.ckks.scale, level: number = this.ckks.topLevel): CipherText {
    const plain = this.ckks.encode(values, level, scale);
    try {
      return this.encryptor.encrypt(plain) as CipherText;
    } finally {
      plain.delete();
    }
  }

  dispose(): void {
    this.encryptor.delete();
    this.publicKey.delete();
    this.galoisKeys?.delete();
    this.relinKeys?.delete();
  }
}
