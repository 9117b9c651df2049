/**
 * ID digests and cuckoo hashing for KKRT.
 *
 * digest(id) = SHA-256(len(dst) ‖ dst ‖ id) (32 bytes; in the C addon when built): words 0..3
 * are the item the OPRF is evaluated on, words 4..6 feed the three bin functions
 *   bin_k(id) = ⌊fmix32(w_{4+k} ⊕ seed_k) · m / 2^32⌋,  k = 0, 1, 2
 * with the receiver's public `seed` (drawn again if insertion fails: the rehash policy, so no
 * stash). m = 1.27·n bins, rounded up to a multiple of 32: with three functions, insertion of n
 * random items fails with probability well under 2^-40 at the sizes PSI runs (and a failure only
 * costs another seed). The job's DST enters every digest, so bins differ from job to job.
 */
import { createHash } from 'node:crypto';
import { loadNativeHashToGroup } from './psi-native';

export const KKRT_DIGEST_BYTES = 32;
export const CUCKOO_HASHES = 3;
/** Bins per item. */
export const CUCKOO_EXPANSION = 1.27;
const MAX_KICKS = 2000;
const MAX_SEEDS = 16;

/** SHA-256(len(dst) ‖ dst ‖ id) for ids[0..n), packed 32 bytes each, in batches of 4,096. */
export function digestIds(size: number, at: (index: number) => string, dst: Uint8Array): Uint8Array {
  if (dst.length > 255) throw new RangeError('DST longer than 255 bytes');
  const out = new Uint8Array(size * KKRT_DIGEST_BYTES);
  const native = loadNativeHashToGroup();
  // An addon built before this function existed lacks it: hash in JS then.
  const nativeDigest = typeof native?.sha256IdsPacked === 'function' ? native : null;
  const prefix = Buffer.concat([Buffer.from([dst.length]), dst]);
  // One UTF-8 buffer per batch (grown when a batch needs more), not one allocation per ID.
  let bytes = Buffer.allocUnsafe(4096 * 32);
  const ends = new Uint32Array(4096);
  for (let start = 0; start < size; start += 4096) {
    const end = Math.min(size, start + 4096);
    let used = 0;
    for (let i = start; i < end; i++) {
      const id = at(i);
      if (bytes.length - used < id.length * 3) {
        const grown = Buffer.allocUnsafe(Math.max(2 * bytes.length, used + id.length * 3));
        bytes.copy(grown, 0, 0, used);
        bytes = grown;
      }
      used += bytes.write(id, used, 'utf8');
      ends[i - start] = used;
    }
    const batchEnds = ends.subarray(0, end - start);
    if (nativeDigest) {
      out.set(nativeDigest.sha256IdsPacked(bytes.subarray(0, used), batchEnds, dst), start * KKRT_DIGEST_BYTES);
    } else {
      let from = 0;
      batchEnds.forEach((to, k) => {
        out.set(createHash('sha256').update(prefix).update(bytes.subarray(from, to)).digest(), (start + k) * 32);
        from = to;
      });
    }
  }
  return out;
}

/** MurmurHash3's 32-bit finaliser: a bijection that spreads every input bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The bin of item `item` under hash function k (digests as words, 8 per item). */
export function cuckooBin(digestWords: Uint32Array, item: number, k: number, seed: Uint32Array, bins: number): number {
  return Math.floor((fmix32(digestWords[item * 8 + 4 + k] ^ seed[k]) * bins) / 4294967296);
}

export function cuckooBinCount(items: number): number {
  return Math.max(32, Math.ceil((Math.ceil(items * CUCKOO_EXPANSION) + 1) / 32) * 32);
}

export interface CuckooTable {
  readonly seed: Uint32Array;
  readonly bins: number;
  /** The item in each bin, or −1 for an empty bin. */
  readonly binItem: Int32Array;
  /** Which of the three functions put it there (0..2). */
  readonly binHash: Uint8Array;
}

/**
 * Places every item in one of its three bins (random-walk insertion), drawing a new seed when
 * an insertion runs past MAX_KICKS evictions.
 * @param random 16 fresh random bytes per call (a seed is 3 words of it)
 */
export function buildCuckooTable(digests: Uint8Array, items: number, random: () => Uint8Array): CuckooTable {
  const digestWords = new Uint32Array(digests.buffer, digests.byteOffset, items * 8);
  const bins = cuckooBinCount(items);
  for (let attempt = 0; attempt < MAX_SEEDS; attempt++) {
    const seed = new Uint32Array(new Uint8Array(random()).buffer.slice(0, 12));
    const table = tryInsert(digestWords, items, bins, seed);
    if (table) return table;
  }
  // Each attempt fails with tiny probability for distinct items: many failures mean repeated IDs.
  throw new Error(`cuckoo hashing failed with ${MAX_SEEDS} seeds: the ID list holds repeated IDs`);
}

function tryInsert(digestWords: Uint32Array, items: number, bins: number, seed: Uint32Array): CuckooTable | null {
  const binsOf = new Uint32Array(items * CUCKOO_HASHES);
  for (let item = 0; item < items; item++)
    for (let k = 0; k < CUCKOO_HASHES; k++) binsOf[item * 3 + k] = cuckooBin(digestWords, item, k, seed, bins);
  const binItem = new Int32Array(bins).fill(-1);
  const binHash = new Uint8Array(bins);
  let rng = seed[0] ^ 0x9e3779b9; // evictions only need to be irregular, not secret
  for (let item = 0; item < items; item++) {
    let current = item;
    let from = -1;
    let placed = false;
    for (let kick = 0; kick < MAX_KICKS && !placed; kick++) {
      for (let k = 0; k < CUCKOO_HASHES; k++) {
        const b = binsOf[current * 3 + k];
        if (binItem[b] === -1) {
          binItem[b] = current;
          binHash[b] = k;
          placed = true;
          break;
        }
      }
      if (placed) break;
      // Evict the occupant of one of current's bins (not the one it was just pushed out of).
      rng = fmix32(rng + kick + 1);
      let k = rng % CUCKOO_HASHES;
      let b = binsOf[current * 3 + k];
      if (b === from) {
        k = (k + 1) % CUCKOO_HASHES;
        b = binsOf[current * 3 + k];
      }
      const evicted = binItem[b];
      binItem[b] = current;
      binHash[b] = k;
      current = evicted;
      from = b;
    }
    if (!placed) return null;
  }
  return { seed, bins, binItem, binHash };
}
