/**
 * Two-party PSI from the KKRT16 batched OPRF (libs/crypto/src/kkrt-oprf.ts), semi-honest.
 *
 * Roles: the receiver R cuckoo-hashes its n_R IDs into m = 1.27·n_R bins (three functions, public
 * seed, rehash on failure) and gets one OPRF output per bin; the sender S evaluates the OPRF on
 * each of its IDs at each of the ID's three bins and sends those 3·n_S tags, shuffled. R finds the
 * tags of its own bins among them: R ∩ S. R sends S the stream positions of the matching tags, in
 * the agreed order (IDs sorted by code units), and S maps them to its IDs.
 *
 * | step | direction | content |
 * |---|---|---|
 * | 1 | R → S `hello` | base-OT point A, cuckoo seed, m, n_R |
 * | 2 | S → R `respond` | 512 base-OT points B_j, code key κ, n_S |
 * | 3 | R → S `matrix` (per chunk of bins) | rows u_i = t0_i ⊕ t1_i ⊕ C(x_i), 64 bytes per bin |
 * | 4 | S → R `tags` (per chunk) | the 3·n_S tags F(h_k(y), y), 12 bytes each, shuffled |
 * | 5 | R → S `positions` | the stream positions of the shared IDs' tags, in the agreed order |
 *
 * What each learns: R learns R ∩ S and n_S; S learns R ∩ S (from the positions) and n_R, m.
 * Everything else is pseudo-random to the other side (docs/protocol.md §1, "KKRT").
 * Memory: the matrix travels in chunks of `chunkBins` bins; each side keeps per own ID its 32-byte
 * digest, R per bin its item index and 12-byte tag, S per (ID, function) its bin and tag.
 */
import { randomBytes } from 'node:crypto';
import {
  buildCuckooTable,
  cuckooBin,
  CUCKOO_HASHES,
  digestIds,
  KKRT_ROW_BYTES,
  KKRT_TAG_BYTES,
  KkrtOprfReceiver,
  KkrtOprfSender,
  kkrtHashKey,
  kkrtTags,
  type CuckooTable,
} from '@vfl/crypto';
import { ChunkStream, type IdSource, PSI_MESSAGE_ELEMENTS, PsiProtocolError, secureShuffle } from './psi-streams';

export const KKRT_PROTOCOL_VERSION = 'vfl-kkrt-psi-v1';
/** Bins per matrix message by default: 2 MiB of rows. */
export const KKRT_CHUNK_BINS = 32_768;
const TAG_WORDS = KKRT_TAG_BYTES / 4;
/** Sender pairs evaluated per AES batch (bounds the scratch memory of a chunk). */
const PAIR_BATCH = 16_384;

export interface KkrtHello {
  readonly basePoint: Uint8Array;
  readonly seed: Uint8Array;
  readonly bins: number;
  readonly items: number;
  /** Bins per matrix message (the receiver's choice; the sender bounds it). */
  readonly chunkBins: number;
}
export interface KkrtResponse {
  readonly points: Uint8Array;
  readonly codeKey: Uint8Array;
  readonly items: number;
}
export interface KkrtChunk {
  readonly chunk: number;
  readonly chunks: number;
  readonly total: number;
  readonly data: Uint8Array;
}
export interface KkrtOptions {
  readonly chunkBins?: number;
}

function bytesOf(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
function alignedWords(bytes: Uint8Array): Uint32Array {
  const copy = bytes.byteOffset % 4 === 0 ? bytes : Uint8Array.from(bytes);
  return new Uint32Array(copy.buffer, copy.byteOffset, copy.length / 4);
}
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The receiver R: learns the intersection and tells S where it is. */
export class KkrtPsiReceiver {
  private readonly oprf = new KkrtOprfReceiver();
  private readonly hashKey: Uint8Array;
  private readonly chunkBins: number;
  private digests?: Uint32Array;
  private table?: CuckooTable;
  private ownTags?: Uint32Array;
  private lookup?: Int32Array;
  private nextChunk = 0;
  private started = false;
  private readonly tagStream = new ChunkStream("sender's tag stream", KKRT_TAG_BYTES);
  private readonly matches: { position: number; bin: number }[] = [];
  private peerItems = 0;

  constructor(
    private readonly ids: IdSource,
    private readonly dst: Uint8Array,
    options: KkrtOptions = {},
  ) {
    this.hashKey = kkrtHashKey(dst);
    this.chunkBins = options.chunkBins ?? KKRT_CHUNK_BINS;
    if (this.chunkBins % 32 !== 0 || this.chunkBins < 32) throw new RangeError('chunkBins must be a multiple of 32');
  }

  /** Step 1: digests, cuckoo table, base-OT point. */
  hello(): KkrtHello {
    const digests = digestIds(this.ids.size, (i) => this.ids.at(i), this.dst);
    this.digests = new Uint32Array(digests.buffer, digests.byteOffset, digests.length / 4);
    this.table = buildCuckooTable(digests, this.ids.size, () => new Uint8Array(randomBytes(16)));
    this.ownTags = new Uint32Array(this.table.bins * TAG_WORDS);
    return {
      basePoint: this.oprf.basePoint,
      seed: bytesOf(this.table.seed),
      bins: this.table.bins,
      items: this.ids.size,
      chunkBins: this.chunkBins,
    };
  }

  /** Step 2 (S's answer). */
  start(response: KkrtResponse): void {
    if (!this.table) throw new Error('KKRT receiver: hello() must come first');
    if (!Number.isInteger(response.items) || response.items < 1)
      throw new PsiProtocolError('KKRT response: items must be a positive integer');
    this.peerItems = response.items;
    try {
      this.oprf.start(response.points, response.codeKey);
    } catch (e) {
      throw new PsiProtocolError(`KKRT response: ${(e as Error).message}`);
    }
    this.started = true;
  }

  get chunks(): number {
    return Math.ceil(this.table!.bins / this.chunkBins);
  }

  /** Step 3, chunk k (in order): the rows u for its bins. */
  matrixChunk(k: number): KkrtChunk {
    const table = this.table;
    if (!this.started || !table || !this.digests) throw new Error('KKRT receiver: start() must come first');
    if (k !== this.nextChunk) throw new Error(`KKRT receiver: matrix chunk ${k} requested, expected ${this.nextChunk}`);
    const first = k * this.chunkBins;
    const count = Math.min(this.chunkBins, table.bins - first);
    const items = new Uint32Array(count * 8);
    const dummy = new Uint32Array(randomBytes(count * 16).buffer);
    const bins = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const item = table.binItem[first + i];
      // An empty bin gets a random item: its OPRF output matches nothing.
      const [src, at] = item >= 0 ? [this.digests, item * 8] : [dummy, i * 4];
      items[i * 8] = src[at];
      items[i * 8 + 1] = src[at + 1];
      items[i * 8 + 2] = src[at + 2];
      items[i * 8 + 3] = src[at + 3];
      bins[i] = first + i;
    }
    const { u, t } = this.oprf.chunk(items, count);
    kkrtTags(this.hashKey, t, bins, table.binHash.subarray(first, first + count), count, this.ownTags!, first);
    this.nextChunk++;
    return { chunk: k, chunks: this.chunks, total: table.bins, data: bytesOf(u) };
  }

  /** Step 4, one chunk of S's shuffled tags. */
  acceptTags(header: Omit<KkrtChunk, 'data'>, tags: Uint8Array): void {
    if (this.nextChunk !== this.chunks) throw new Error('KKRT receiver: tags before the matrix was sent');
    if (header.total !== CUCKOO_HASHES * this.peerItems)
      throw new PsiProtocolError(`sender's tag stream announces ${header.total} tags, expected 3 per sender ID`);
    this.tagStream.check(header, tags);
    const lookup = this.lookup ?? (this.lookup = this.buildLookup());
    const own = this.ownTags!;
    const mask = lookup.length - 1;
    const peer = alignedWords(tags);
    const base = this.tagStream.received - tags.length / KKRT_TAG_BYTES;
    for (let e = 0; e < peer.length / TAG_WORDS; e++) {
      const w0 = peer[e * 3];
      const w1 = peer[e * 3 + 1];
      const w2 = peer[e * 3 + 2];
      for (let slot = w0 & mask; lookup[slot] !== -1; slot = (slot + 1) & mask) {
        const b = lookup[slot];
        if (own[b * 3] === w0 && own[b * 3 + 1] === w1 && own[b * 3 + 2] === w2) {
          this.matches.push({ position: base + e, bin: b });
          break;
        }
      }
    }
  }

  /** Step 5: the shared IDs in the agreed order, and the positions to send S. */
  finish(): { sharedIds: string[]; positions: Uint8Array } {
    if (!this.tagStream.complete) throw new PsiProtocolError(this.tagStream.describe());
    const table = this.table!;
    const shared = this.matches.map((m) => ({ id: this.ids.at(table.binItem[m.bin]), position: m.position }));
    shared.sort((a, b) => byCodeUnits(a.id, b.id));
    const positions = new Uint32Array(shared.length);
    shared.forEach((s, i) => (positions[i] = s.position));
    this.close();
    return { sharedIds: shared.map((s) => s.id), positions: bytesOf(positions) };
  }

  close(): void {
    this.ownTags?.fill(0);
    this.ownTags = undefined;
    this.lookup = undefined;
    this.digests = undefined;
  }

  /** Open addressing over the occupied bins, keyed by a tag's first word (tags are pseudo-random). */
  private buildLookup(): Int32Array {
    const table = this.table!;
    let capacity = 1024;
    while (capacity < 2 * this.ids.size) capacity *= 2;
    const lookup = new Int32Array(capacity).fill(-1);
    const mask = capacity - 1;
    for (let b = 0; b < table.bins; b++) {
      if (table.binItem[b] < 0) continue;
      let slot = this.ownTags![b * 3] & mask;
      while (lookup[slot] !== -1) slot = (slot + 1) & mask;
      lookup[slot] = b;
    }
    return lookup;
  }
}

/** The sender S: evaluates the OPRF on its IDs, learns the intersection from R's positions. */
export class KkrtPsiSender {
  private readonly oprf = new KkrtOprfSender();
  private readonly hashKey: Uint8Array;
  private digests?: Uint32Array;
  /** Per pair p = 3·item + k: its bin; after the matrix, reused for the shuffle. */
  private pairBin?: Uint32Array;
  private pairOrder?: Uint32Array;
  private chunkStart?: Uint32Array;
  private tagStore?: Uint32Array;
  private shuffle?: Uint32Array;
  private readonly matrix = new ChunkStream("receiver's matrix", KKRT_ROW_BYTES);
  private chunkBins = 0;
  private bins = 0;

  constructor(
    private readonly ids: IdSource,
    private readonly dst: Uint8Array,
  ) {
    this.hashKey = kkrtHashKey(dst);
  }

  /** Step 2: from R's hello, bins for every own ID, and the base-OT reply. */
  respond(hello: KkrtHello): KkrtResponse {
    const n = this.ids.size;
    if (!Number.isInteger(hello.bins) || hello.bins < 32 || hello.bins % 32 !== 0 || hello.bins > 2 ** 32 / 2)
      throw new PsiProtocolError('KKRT hello: bins must be a positive multiple of 32');
    if (!Number.isInteger(hello.items) || hello.items < 1 || hello.bins < hello.items)
      throw new PsiProtocolError('KKRT hello: items must be a positive integer no larger than bins');
    if (hello.seed.length !== 12) throw new PsiProtocolError('KKRT hello: seed must be 12 bytes');
    if (!Number.isInteger(hello.chunkBins) || hello.chunkBins < 32 || hello.chunkBins % 32 || hello.chunkBins > 2 ** 20)
      throw new PsiProtocolError('KKRT hello: chunkBins must be a multiple of 32 from 32 to 2^20');
    this.bins = hello.bins;
    this.chunkBins = hello.chunkBins;
    const digests = digestIds(n, (i) => this.ids.at(i), this.dst);
    this.digests = new Uint32Array(digests.buffer, digests.byteOffset, digests.length / 4);
    const seed = alignedWords(hello.seed);
    const chunks = Math.ceil(this.bins / this.chunkBins);
    // Counting sort of the 3n (ID, function) pairs by the matrix chunk their bin falls in.
    const pairBin = new Uint32Array(CUCKOO_HASHES * n);
    const chunkStart = new Uint32Array(chunks + 1);
    for (let item = 0; item < n; item++)
      for (let k = 0; k < CUCKOO_HASHES; k++) {
        const b = cuckooBin(this.digests, item, k, seed, this.bins);
        pairBin[item * 3 + k] = b;
        chunkStart[Math.floor(b / this.chunkBins) + 1]++;
      }
    for (let c = 0; c < chunks; c++) chunkStart[c + 1] += chunkStart[c];
    const fill = chunkStart.slice(0, chunks);
    const pairOrder = new Uint32Array(pairBin.length);
    for (let p = 0; p < pairBin.length; p++) pairOrder[fill[Math.floor(pairBin[p] / this.chunkBins)]++] = p;
    Object.assign(this, { pairBin, pairOrder, chunkStart, tagStore: new Uint32Array(pairBin.length * TAG_WORDS) });
    let points: Uint8Array;
    try {
      points = this.oprf.respond(hello.basePoint);
    } catch (e) {
      throw new PsiProtocolError(`KKRT hello: ${(e as Error).message}`);
    }
    return { points, codeKey: this.oprf.codeKey, items: n };
  }

  /** Step 3: one chunk of R's rows; tags every own pair whose bin lies in it. */
  acceptMatrixChunk(header: Omit<KkrtChunk, 'data'>, rows: Uint8Array): void {
    if (!this.pairOrder) throw new Error('KKRT sender: respond() must come first');
    this.matrix.check(header, rows);
    if (header.total !== this.bins) throw new PsiProtocolError(`receiver's matrix announces ${header.total} bins`);
    const k = header.chunk;
    const first = k * this.chunkBins;
    const count = rows.length / KKRT_ROW_BYTES;
    if (count !== Math.min(this.chunkBins, this.bins - first))
      throw new PsiProtocolError(`receiver's matrix, chunk ${k}: ${count} rows, expected ${this.chunkBins}`);
    const q = this.oprf.chunk(alignedWords(rows), count);
    const from = this.chunkStart![k];
    const to = this.chunkStart![k + 1];
    const scratchTags = new Uint32Array(PAIR_BATCH * TAG_WORDS);
    const pairOrder: Uint32Array = this.pairOrder;
    for (let start = from; start < to; start += PAIR_BATCH) {
      const pairs = pairOrder.subarray(start, Math.min(to, start + PAIR_BATCH));
      const n = pairs.length;
      const rowOfPair = new Uint32Array(n);
      const itemOfPair = new Uint32Array(n);
      const bins = new Uint32Array(n);
      const hashes = new Uint8Array(n);
      const pairBin = this.pairBin!;
      for (let e = 0; e < n; e++) {
        const p = pairs[e];
        bins[e] = pairBin[p];
        rowOfPair[e] = bins[e] - first;
        itemOfPair[e] = (p / 3) | 0;
        hashes[e] = p % 3;
      }
      const evaluated = this.oprf.evaluate(q, rowOfPair, this.digests!, itemOfPair, n);
      kkrtTags(this.hashKey, evaluated, bins, hashes, n, scratchTags);
      const store = this.tagStore!;
      for (let e = 0; e < n; e++) {
        const p = pairs[e] * 3;
        store[p] = scratchTags[e * 3];
        store[p + 1] = scratchTags[e * 3 + 1];
        store[p + 2] = scratchTags[e * 3 + 2];
      }
    }
    if (this.matrix.complete) {
      this.oprf.close();
      this.pairOrder = undefined;
      this.chunkStart = undefined;
      this.pairBin = undefined;
      this.shuffle = secureShuffle(this.ids.size * CUCKOO_HASHES);
    }
  }

  get tagChunks(): number {
    return Math.ceil((this.ids.size * CUCKOO_HASHES) / PSI_MESSAGE_ELEMENTS);
  }

  /** Step 4, chunk k: tags in the shuffled order. */
  tagChunk(k: number): KkrtChunk {
    if (!this.shuffle || !this.tagStore) throw new Error('KKRT sender: the matrix is not complete');
    const total = this.ids.size * CUCKOO_HASHES;
    const first = k * PSI_MESSAGE_ELEMENTS;
    const count = Math.min(PSI_MESSAGE_ELEMENTS, total - first);
    const out = new Uint32Array(count * TAG_WORDS);
    for (let e = 0; e < count; e++) {
      const p = this.shuffle[first + e] * 3;
      out[e * 3] = this.tagStore[p];
      out[e * 3 + 1] = this.tagStore[p + 1];
      out[e * 3 + 2] = this.tagStore[p + 2];
    }
    return { chunk: k, chunks: this.tagChunks, total, data: bytesOf(out) };
  }

  /** Step 5: R's positions → the shared IDs, checked to be distinct and in the agreed order. */
  acceptPositions(packed: Uint8Array): { sharedIds: string[] } {
    if (!this.shuffle) throw new Error('KKRT sender: the matrix is not complete');
    if (packed.length % 4 !== 0) throw new PsiProtocolError('positions: length is not a multiple of 4 bytes');
    const positions = alignedWords(packed);
    const total = this.ids.size * CUCKOO_HASHES;
    const seen = new Set<number>();
    const sharedIds: string[] = [];
    positions.forEach((pos, i) => {
      if (pos >= total) throw new PsiProtocolError(`positions: entry ${i} is out of range`);
      const item = (this.shuffle![pos] / 3) | 0;
      if (seen.has(item)) throw new PsiProtocolError(`positions: entry ${i} repeats an ID`);
      seen.add(item);
      const id = this.ids.at(item);
      if (sharedIds.length > 0 && byCodeUnits(sharedIds[sharedIds.length - 1], id) >= 0)
        throw new PsiProtocolError(`positions: entry ${i} is not in the agreed order`);
      sharedIds.push(id);
    });
    this.close();
    return { sharedIds };
  }

  close(): void {
    this.oprf.close();
    this.tagStore?.fill(0);
    this.tagStore = undefined;
    this.shuffle = undefined;
    this.digests = undefined;
  }
}

/** One message crossing between R and S, for tests that record the traffic. */
export type KkrtMessage = { readonly step: string; readonly bytes: readonly Uint8Array[] };

/**
 * Runs the whole protocol between two in-process sessions (tests, the bench), calling `onMessage`
 * with every payload that would cross the boundary.
 */
export async function runKkrtLocally(
  receiver: KkrtPsiReceiver,
  sender: KkrtPsiSender,
  onMessage: (m: KkrtMessage) => void = () => {},
): Promise<{ receiver: string[]; sender: string[] }> {
  const hello = receiver.hello();
  onMessage({ step: 'hello', bytes: [hello.basePoint, hello.seed] });
  const response = sender.respond(hello);
  onMessage({ step: 'respond', bytes: [response.points, response.codeKey] });
  receiver.start(response);
  for (let k = 0; k < receiver.chunks; k++) {
    const chunk = receiver.matrixChunk(k);
    onMessage({ step: 'matrix', bytes: [chunk.data] });
    sender.acceptMatrixChunk(chunk, chunk.data);
    await new Promise((r) => setImmediate(r)); // let the event loop breathe between chunks
  }
  for (let k = 0; k < sender.tagChunks; k++) {
    const chunk = sender.tagChunk(k);
    onMessage({ step: 'tags', bytes: [chunk.data] });
    receiver.acceptTags(chunk, chunk.data);
  }
  const { sharedIds, positions } = receiver.finish();
  onMessage({ step: 'positions', bytes: [positions] });
  const fromSender = sender.acceptPositions(positions);
  return { receiver: sharedIds, sender: fromSender.sharedIds };
}
