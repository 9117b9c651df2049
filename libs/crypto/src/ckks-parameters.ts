/**
 * The one CKKS parameter set the platform uses, with the reasoning beside the numbers.
 *
 * - N = 8192 gives 4096 complex slots; we use the real parts, so one ciphertext packs 4096 values.
 * - Coefficient modulus 60 + 40 + 40 + 60 = 200 bits, under the 218-bit bound that
 *   HomomorphicEncryption.org's standard sets for N = 8192 at 128-bit classical security
 *   (SEAL's `SecurityLevel.tc128` check refuses anything above it).
 * - The last 60-bit prime is SEAL's "special prime", used only for key switching (rotations).
 * - The first 60-bit prime holds the final result: with scale 2^40 it leaves 20 bits above the
 *   scale, so a decrypted value must stay below 2^19 in magnitude at the lowest level.
 * - The two 40-bit primes match the scale, so each rescale divides the scale back to ~2^40.
 *   Split LR uses one level (plaintext feature matrix times encrypted residual, then rescale);
 *   the second level is headroom for a higher-degree sigmoid approximation.
 * - Scale 2^40: CKKS encoding error is about N/scale ~ 2^-27 relative to 1, far below the
 *   1e-6 rounding the decryption service applies.
 */
export interface CkksParameterSet {
  /** A stable name carried in messages so peers can refuse a foreign parameter set. */
  readonly name: string;
  readonly polyModulusDegree: number;
  readonly coeffModulusBits: readonly number[];
  readonly scaleBits: number;
}

export const CKKS_N8192_L2: CkksParameterSet = Object.freeze({
  name: 'ckks-n8192-60.40.40.60-s40',
  polyModulusDegree: 8192,
  coeffModulusBits: Object.freeze([60, 40, 40, 60]),
  scaleBits: 40,
});

/** Number of real values one ciphertext carries. */
export function slotCount(params: CkksParameterSet): number {
  return params.polyModulusDegree / 2;
}
