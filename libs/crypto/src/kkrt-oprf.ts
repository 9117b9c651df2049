/**
 * KKRT16 batched OPRF (Kolesnikov, Kumaresan, Rosulek, Trieu, CCS 2016), semi-honest: IKNP OT
 * extension with a 512-bit pseudo-random code, one OPRF instance per cuckoo bin.
 *
 *   roles     OPRF receiver R (holds one 128-bit item x_i per bin), OPRF sender S (holds s)
 *   base OTs  512 Chou–Orlandi OTs, S choosing with the bits of s, R sending seed pairs (k0_j, k1_j)
 *   matrix    t0_j = PRG(k0_j), t1_j = PRG(k1_j) (columns of m bits); per bin i R sends
 *             u_i = t0_i ⊕ t1_i ⊕ C(x_i) (rows); S computes q_i = G_i ⊕ (u_i ∧ s),
 *             G_j = PRG(k_{s_j}), so that q_i = t0_i ⊕ (C(x_i) ∧ s)
 *   outputs   R: F(i, x_i) = H(i, t0_i);  S, for any y: F(i, y) = H(i, q_i ⊕ (C(y) ∧ s))
 *
 * C(x) = AES_κ(x ⊕ 0) ‖ … ‖ AES_κ(x ⊕ 3) (4 blocks, key κ drawn by S after R's items are
 * fixed); H(i, h, row) = the first 12 bytes of ⊕_l [π(row_l ⊕ τ) ⊕ row_l ⊕ τ], τ = (i, 4h + l,
 * "kkrt", 0), π fixed-key AES under a key derived from the job's DST. H is treated as a random
 * oracle (the usual instantiation of KKRT's correlation-robust hash by fixed-key AES, with a
 * distinct tweak per bin, hash function and block). Matrices travel in chunks of bins, so memory
 * for the extension is bounded by the chunk, not the set.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AesPrg, aesEcb, words } from './kkrt-aes';
import { BaseOtReceiver, BaseOtSender } from './kkrt-base-ot';
import { columnsToRows } from './kkrt-bits';

/** Code width in bits (base OTs), and in 32-bit words per row. */
export const KKRT_WIDTH = 512;
export const KKRT_ROW_WORDS = KKRT_WIDTH / 32;
export const KKRT_ROW_BYTES = KKRT_WIDTH / 8;
export const KKRT_TAG_BYTES = 12;
const TAG_WORDS = KKRT_TAG_BYTES / 4;
const KKRT_MAGIC = 0x7472_6b6b; // "kkrt"

/** The fixed AES key of H for one job. */
export function kkrtHashKey(dst: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('vfl-kkrt-tag|').update(dst).digest()).subarray(0, 16);
}

/** C(x) for `count` 16-byte items (words 0..3 of each 8-word entry at itemWords[stride·e]) into rows. */
export function pseudoRandomCode(codeKey: Uint8Array, items: Uint32Array, count: number, stride: number): Uint32Array {
  const input = new Uint32Array(count * KKRT_ROW_WORDS);
  for (let e = 0; e < count; e++) {
    const src = e * stride;
    const dst = e * KKRT_ROW_WORDS;
    for (let l = 0; l < 4; l++) {
      input[dst + 4 * l] = items[src] ^ l;
      input[dst + 4 * l + 1] = items[src + 1];
      input[dst + 4 * l + 2] = items[src + 2];
      input[dst + 4 * l + 3] = items[src + 3];
    }
  }
  return words(aesEcb(codeKey, new Uint8Array(input.buffer)));
}

/**
 * Tags H(bin_e, hash_e, row_e) of `count` rows (16 words each), into tags[e·3 .. e·3+3).
 * @param bins bin index of each row, hashes: the cuckoo function (0..2) of each row
 */
export function kkrtTags(
  hashKey: Uint8Array,
  rows: Uint32Array,
  bins: ArrayLike<number>,
  hashes: ArrayLike<number>,
  count: number,
  tags: Uint32Array,
  tagOffset = 0,
): void {
  const input = new Uint32Array(count * KKRT_ROW_WORDS);
  for (let e = 0; e < count; e++) {
    const o = e * KKRT_ROW_WORDS;
    const h4 = hashes[e] << 2;
    for (let l = 0; l < 4; l++) {
      input[o + 4 * l] = rows[o + 4 * l] ^ bins[e];
      input[o + 4 * l + 1] = rows[o + 4 * l + 1] ^ (h4 | l);
      input[o + 4 * l + 2] = rows[o + 4 * l + 2] ^ KKRT_MAGIC;
      input[o + 4 * l + 3] = rows[o + 4 * l + 3];
    }
  }
  const out = words(aesEcb(hashKey, new Uint8Array(input.buffer)));
  for (let e = 0; e < count; e++) {
    const o = e * KKRT_ROW_WORDS;
    const t = (tagOffset + e) * TAG_WORDS;
    for (let w = 0; w < TAG_WORDS; w++) {
      tags[t + w] =
        out[o + w] ^
        input[o + w] ^
        out[o + 4 + w] ^
        input[o + 4 + w] ^
        out[o + 8 + w] ^
        input[o + 8 + w] ^
        out[o + 12 + w] ^
        input[o + 12 + w];
    }
  }
}

/** `count` bits (a multiple of 32) of each PRG in turn, as one column-layout matrix. */
function prgColumns(prgs: readonly AesPrg[], count: number): Uint32Array {
  const colWords = count / 32;
  const columns = new Uint32Array(prgs.length * colWords);
  const zeros = Buffer.alloc(count / 8);
  prgs.forEach((prg, j) => columns.set(words(prg.next(zeros)), j * colWords));
  return columns;
}

/** The OPRF receiver R (holds the items). */
export class KkrtOprfReceiver {
  private readonly baseOt = new BaseOtSender();
  private prg0: AesPrg[] = [];
  private prg1: AesPrg[] = [];
  private codeKey?: Uint8Array;

  /** First message: the base-OT sender's point. */
  get basePoint(): Uint8Array {
    return this.baseOt.publicPoint;
  }

  /** S's base-OT replies and code key. */
  start(packedB: Uint8Array, codeKey: Uint8Array): void {
    if (codeKey.length !== 16) throw new RangeError(`code key expected 16 bytes, got ${codeKey.length}`);
    const { k0, k1 } = this.baseOt.keys(packedB, KKRT_WIDTH);
    this.prg0 = k0.map((k) => new AesPrg(k));
    this.prg1 = k1.map((k) => new AesPrg(k));
    k0.forEach((k) => k.fill(0));
    k1.forEach((k) => k.fill(0));
    this.codeKey = Uint8Array.from(codeKey);
  }

  /**
   * The next `count` bins (a multiple of 32), in order: returns the rows u to send and R's own
   * rows t0 (for its outputs). `items` holds each bin's 128-bit item in words 0..3 of 8.
   */
  chunk(items: Uint32Array, count: number): { u: Uint32Array; t: Uint32Array } {
    if (!this.codeKey) throw new Error('KKRT receiver: start() must come first');
    if (count % 32 !== 0) throw new RangeError(`chunk bins must be a multiple of 32, got ${count}`);
    const n = count * KKRT_ROW_WORDS;
    const t = columnsToRows(prgColumns(this.prg0, count), count, KKRT_WIDTH, new Uint32Array(n));
    const u = columnsToRows(prgColumns(this.prg1, count), count, KKRT_WIDTH, new Uint32Array(n));
    const code = pseudoRandomCode(this.codeKey, items, count, 8);
    for (let i = 0; i < n; i++) u[i] ^= t[i] ^ code[i];
    return { u, t };
  }
}

/** The OPRF sender S (holds the key s). */
export class KkrtOprfSender {
  private readonly s = new Uint32Array(KKRT_ROW_WORDS);
  private prgs: AesPrg[] = [];
  readonly codeKey: Uint8Array;

  constructor(random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n))) {
    this.s.set(words(random(KKRT_ROW_BYTES)));
    this.codeKey = random(16);
  }

  /** Base OTs with the bits of s as choices: the reply to R's point. */
  respond(basePoint: Uint8Array): Uint8Array {
    const choices = Array.from({ length: KKRT_WIDTH }, (_, j) => (this.s[j >>> 5] >>> (j & 31)) & 1);
    const { packedB, keys } = new BaseOtReceiver().choose(basePoint, choices);
    this.prgs = keys.map((k) => new AesPrg(k));
    keys.forEach((k) => k.fill(0));
    return packedB;
  }

  /** q rows for the next `count` bins from R's rows u. */
  chunk(u: Uint32Array, count: number): Uint32Array {
    if (this.prgs.length !== KKRT_WIDTH) throw new Error('KKRT sender: respond() must come first');
    if (u.length !== count * KKRT_ROW_WORDS) throw new RangeError(`matrix chunk expected ${count} rows`);
    const q = columnsToRows(prgColumns(this.prgs, count), count, KKRT_WIDTH, new Uint32Array(u.length));
    const s = this.s;
    for (let i = 0; i < u.length; i += KKRT_ROW_WORDS)
      for (let w = 0; w < KKRT_ROW_WORDS; w++) q[i + w] ^= u[i + w] & s[w];
    return q;
  }

  /**
   * Rows q_b ⊕ (C(y) ∧ s) for pairs (bin b at `rowOfPair[e]` in q, item y at items[itemOfPair[e]·8]).
   */
  evaluate(
    q: Uint32Array,
    rowOfPair: ArrayLike<number>,
    items: Uint32Array,
    itemOfPair: ArrayLike<number>,
    count: number,
  ): Uint32Array {
    const gathered = new Uint32Array(count * 4);
    for (let e = 0; e < count; e++) {
      const at = itemOfPair[e] * 8;
      gathered[e * 4] = items[at];
      gathered[e * 4 + 1] = items[at + 1];
      gathered[e * 4 + 2] = items[at + 2];
      gathered[e * 4 + 3] = items[at + 3];
    }
    const code = pseudoRandomCode(this.codeKey, gathered, count, 4);
    const s = this.s;
    for (let e = 0; e < count; e++) {
      const o = e * KKRT_ROW_WORDS;
      const r = rowOfPair[e] * KKRT_ROW_WORDS;
      for (let w = 0; w < KKRT_ROW_WORDS; w++) code[o + w] = q[r + w] ^ (code[o + w] & s[w]);
    }
    return code;
  }

  /** Wipes s and the PRGs. */
  close(): void {
    this.s.fill(0);
    this.prgs = [];
  }
}
