/**
 * BFV keys and the three operations SecureBoost needs: encrypt a coefficient vector (label
 * party), sum of plaintext × ciphertext products plus a mask (feature party), decrypt to
 * coefficients (coordinator). Every SEAL object is deleted as soon as it is no longer needed.
 */
import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { PlainText } from 'node-seal/implementation/plain-text';
import { BfvContext, BfvError } from './bfv-context';

/** The coordinator's side: the secret key; hands out the public key, decrypts to coefficients. */
export class BfvKeyHolder {
  private constructor(
    readonly bfv: BfvContext,
    private readonly secretKey: ReturnType<BfvContext['seal']['SecretKey']>,
    private readonly publicKeyBytes: Uint8Array,
  ) {}

  static generate(bfv: BfvContext): BfvKeyHolder {
    const generator = bfv.seal.KeyGenerator(bfv.context);
    try {
      const publicKey = generator.createPublicKey();
      const bytes = publicKey.saveArray(bfv.seal.ComprModeType.zstd);
      publicKey.delete();
      return new BfvKeyHolder(bfv, generator.secretKey(), bytes);
    } finally {
      generator.delete();
    }
  }

  publicKey(): Uint8Array {
    return this.publicKeyBytes;
  }

  /**
   * Decrypts a serialised ciphertext to its N coefficients (residues in [0, t)). The noise budget
   * costs about half a decryption: `checkNoise: false` skips it for a ciphertext whose noise a
   * checked sibling bounds (same chunks, same number of terms); its budget is then NaN.
   */
  decrypt(
    bytes: Uint8Array,
    what: string,
    { checkNoise = true }: { checkNoise?: boolean } = {},
  ): { coefficients: BigUint64Array; noiseBudget: number } {
    const cipher = this.bfv.load(bytes, what);
    const decryptor = this.bfv.seal.Decryptor(this.bfv.context, this.secretKey);
    let plain: PlainText | undefined;
    try {
      const noiseBudget = checkNoise ? decryptor.invariantNoiseBudget(cipher) : NaN;
      if (noiseBudget <= 0) throw new BfvError(`${what}: no noise budget left, the sums cannot be decrypted`);
      plain = decryptor.decrypt(cipher)!;
      return { coefficients: this.bfv.coefficients(plain), noiseBudget };
    } finally {
      plain?.delete();
      decryptor.delete();
      cipher.delete();
    }
  }

  dispose(): void {
    this.secretKey.delete();
  }
}

/** A party's side: the public key; encrypts coefficient vectors. */
export class BfvEncryptor {
  private constructor(
    readonly bfv: BfvContext,
    private readonly encryptor: ReturnType<BfvContext['seal']['Encryptor']>,
  ) {}

  static fromPublicKey(bfv: BfvContext, bytes: Uint8Array): BfvEncryptor {
    const publicKey = bfv.seal.PublicKey();
    try {
      publicKey.loadArray(bfv.context, bytes);
    } catch {
      publicKey.delete();
      throw new BfvError('the BFV public key is not one for the job parameters');
    }
    try {
      return new BfvEncryptor(bfv, bfv.seal.Encryptor(bfv.context, publicKey));
    } finally {
      publicKey.delete();
    }
  }

  /** Encrypts the polynomial with these coefficients (residues in [0, t)); returns the serialised ciphertext. */
  encrypt(coefficients: BigUint64Array): Uint8Array {
    const plain = this.bfv.plaintext(coefficients);
    const cipher = this.bfv.seal.CipherText();
    try {
      this.encryptor.encrypt(plain, cipher);
      return this.bfv.save(cipher);
    } finally {
      cipher.delete();
      plain.delete();
    }
  }

  dispose(): void {
    this.encryptor.delete();
  }
}

/**
 * Σ_k c_k · p_k over ciphertexts c_k and sparse plaintext polynomials p_k, computed in the NTT
 * domain (each ciphertext is transformed once however many products it enters), then a mask
 * polynomial added before it is serialised.
 */
export class BfvProductSum {
  private sum: CipherText | undefined;
  private readonly product: CipherText;
  private disposed = false;

  constructor(private readonly bfv: BfvContext) {
    this.product = bfv.seal.CipherText();
  }

  /** A ciphertext in the NTT form `add` takes; the caller deletes it. */
  static prepare(bfv: BfvContext, bytes: Uint8Array, what: string): CipherText {
    const cipher = bfv.load(bytes, what);
    bfv.evaluator.cipherTransformToNtt(cipher, cipher);
    return cipher;
  }

  /** Adds cipher · plaintext(coefficients); `cipher` comes from `prepare`. */
  add(cipher: CipherText, coefficients: BigUint64Array): void {
    this.addPlain(cipher, this.bfv.plaintext(coefficients));
  }

  /** Adds cipher · Σ ±X^e over the one-hot exponents (BfvContext.oneHotPlaintext). */
  addOneHot(cipher: CipherText, exponents: Int32Array): void {
    this.addPlain(cipher, this.bfv.oneHotPlaintext(exponents));
  }

  /** Adds cipher · plain, and deletes plain. */
  private addPlain(cipher: CipherText, plain: PlainText): void {
    const { evaluator } = this.bfv;
    try {
      const parmsId = cipher.parmsId;
      evaluator.plainTransformToNtt(plain, parmsId, plain);
      parmsId.delete();
      if (!this.sum) {
        this.sum = this.bfv.seal.CipherText();
        evaluator.multiplyPlain(cipher, plain, this.sum);
      } else {
        evaluator.multiplyPlain(cipher, plain, this.product);
        evaluator.add(this.sum, this.product, this.sum);
      }
    } finally {
      plain.delete();
    }
  }

  /** The sum plus the mask polynomial (residues in [0, t)), serialised; the accumulator is spent. */
  finish(mask: BigUint64Array): Uint8Array {
    if (!this.sum) throw new BfvError('an empty product sum has nothing to send');
    const { evaluator } = this.bfv;
    evaluator.cipherTransformFromNtt(this.sum, this.sum);
    const plain = this.bfv.plaintext(mask);
    try {
      evaluator.addPlain(this.sum, plain, this.sum);
      return this.bfv.save(this.sum);
    } finally {
      plain.delete();
      this.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sum?.delete();
    this.sum = undefined;
    this.product.delete();
  }
}
