/**
 * SecureBoost's masked product sums through the optional C addon (libs/crypto/native/bfv_products.c,
 * built by `npm run build`): the same bytes as SEAL's evaluator, masks added as SEAL's addPlain
 * adds them (a test compares them), about five times faster, because WebAssembly has no
 * 64 × 64 → 128-bit product and the NTT is made of them. Every ciphertext that enters is checked:
 * the first chunk is loaded by SEAL, the others must carry its exact header, and the addon checks
 * that every residue is reduced. Without the addon, or with VFL_BFV_NATIVE=0, callers use SEAL.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { BfvContext, BfvError } from './bfv-context';

interface NativeBfvProducts {
  /** Σ_c chunk_c · onehot_c + mask per output, coefficient form; a string names bad input. */
  productSums(
    primes: BigUint64Array,
    chunks: BigUint64Array,
    terms: Int32Array,
    termEnds: Uint32Array,
    masks: BigUint64Array,
    scaling: BigUint64Array,
    outputs: number,
  ): BigUint64Array | string;
}

/** Where the build puts the addon, relative to this file in libs/crypto/src or dist/libs/crypto/src. */
export const BFV_ADDON_PATH = path.join(__dirname, '..', 'native', 'build', 'bfv_products.node');

let nativeModule: NativeBfvProducts | null | undefined;

/** The addon, or null when it is not built here or VFL_BFV_NATIVE=0 turns it off. */
export function loadNativeBfvProducts(): NativeBfvProducts | null {
  if (nativeModule === undefined) {
    nativeModule = null;
    if (process.env.VFL_BFV_NATIVE !== '0' && existsSync(BFV_ADDON_PATH)) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        nativeModule = require(BFV_ADDON_PATH) as NativeBfvProducts;
      } catch {
        nativeModule = null; // built for another Node ABI or platform: SEAL serves
      }
    }
  }
  return nativeModule;
}

/** One masked output: per chunk, the exponents of its one-hot plaintext (X^e, or −X^(N+e) for e < 0). */
export interface BfvSumOutput {
  readonly terms: readonly Int32Array[];
  readonly mask: BigUint64Array;
}

/** The addon's transforms stay unreduced, which holds for primes below 2^46 (SecureBoost's set, not binning's). */
const NATIVE_PRIME_LIMIT = 1n << 46n;

/**
 * Σ_c chunk_c · onehot(terms_c) + mask for each output, serialised as SEAL would; null when the
 * addon is not there or the parameter set's primes are too wide for it.
 */
export function nativeProductSums(
  bfv: BfvContext,
  chunks: readonly Uint8Array[],
  outputs: readonly BfvSumOutput[],
): Uint8Array[] | null {
  const native = loadNativeBfvProducts();
  if (!native || chunks.length === 0 || bfv.dataPrimes.some((q) => q >= NATIVE_PRIME_LIMIT)) return null;
  const { header, data } = chunkData(bfv, chunks);
  const { terms, ends } = flattenTerms(outputs, chunks.length);
  const masks = new BigUint64Array(outputs.length * bfv.degree);
  outputs.forEach((output, o) => {
    if (output.mask.length > bfv.degree) throw new BfvError(`output ${o}: a mask has at most N residues`);
    masks.set(output.mask, o * bfv.degree);
  });
  const sums = native.productSums(bfv.dataPrimes, data, terms, ends, masks, plainScaling(bfv), outputs.length);
  if (typeof sums === 'string') throw new BfvError(`the product sums refused their input: ${sums}`);
  const words = sums.length / outputs.length;
  return outputs.map((_, o) => {
    const bytes = new Uint8Array(header.length + words * 8);
    bytes.set(header);
    bytes.set(new Uint8Array(sums.buffer, o * words * 8, words * 8), header.length);
    return bytes;
  });
}

/** t, Q mod t and floor(Q/t) mod each q_l (Q the product of the data primes): what SEAL's addPlain scales by. */
function plainScaling(bfv: BfvContext): BigUint64Array {
  const t = bfv.plainModulus;
  const Q = bfv.dataPrimes.reduce((a, q) => a * q, 1n);
  return BigUint64Array.from([t, Q % t, ...Array.from(bfv.dataPrimes, (q) => (Q / t) % q)]);
}

/**
 * The chunks' residues, concatenated: the first chunk is checked by SEAL, and every chunk must be
 * uncompressed and carry the first one's header byte for byte.
 */
function chunkData(bfv: BfvContext, chunks: readonly Uint8Array[]): { header: Uint8Array; data: BigUint64Array } {
  const words = 2 * bfv.dataPrimes.length * bfv.degree;
  const headerBytes = chunks[0].length - words * 8;
  bfv.load(chunks[0], 'chunk 0').delete();
  const header = chunks[0].slice(0, headerBytes);
  // Byte 5 of SEAL's header is the compression mode: the residues are read raw.
  if (headerBytes < 16 || header[5] !== 0) throw new BfvError('chunk 0: a compressed or unexpected ciphertext');
  const data = new BigUint64Array(words * chunks.length);
  const view = new Uint8Array(data.buffer);
  chunks.forEach((chunk, c) => {
    if (chunk.length !== chunks[0].length || !sameBytes(chunk, header))
      throw new BfvError(`chunk ${c}: not a ciphertext of the first chunk's shape`);
    view.set(chunk.subarray(headerBytes), c * words * 8);
  });
  return { header, data };
}

function sameBytes(chunk: Uint8Array, header: Uint8Array): boolean {
  for (let i = 0; i < header.length; i++) if (chunk[i] !== header[i]) return false;
  return true;
}

function flattenTerms(outputs: readonly BfvSumOutput[], chunkCount: number): { terms: Int32Array; ends: Uint32Array } {
  const ends = new Uint32Array(outputs.length * chunkCount);
  let total = 0;
  outputs.forEach((output, o) => {
    if (output.terms.length !== chunkCount) throw new BfvError('one term list per chunk is expected');
    output.terms.forEach((t, c) => (ends[o * chunkCount + c] = total += t.length));
  });
  const terms = new Int32Array(total);
  outputs.forEach((output, o) => output.terms.forEach((t, c) => terms.set(t, ends[o * chunkCount + c] - t.length)));
  return { terms, ends };
}
