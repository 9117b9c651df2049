/**
 * Unbalanced ECDH-PSI: a small side S (say 100k bank customers) and a big side B (10M platform
 * users), where S does O(|S|) group operations and B O(|S| + |B|), instead of each side blinding
 * the other's whole list.
 *
 *   1. S -> B: {s·H(x)} for its IDs, shuffled, in chunks.  B answers {b·s·H(x)} in the same order.
 *   2. S unblinds each answer with the inverse scalar: s⁻¹·(b·s·H(x)) = b·H(x)  (|S| operations).
 *   3. B -> S: tag(b·H(y)) for all its IDs, shuffled, in chunks, where tag is the first
 *      `tagBytes` bytes of SHA-256(dst ‖ "|unbalanced-tag|" ‖ element). S does no group operation
 *      on them: it only looks each tag up among the tags of its own b·H(x).
 *   4. S now knows S ∩ B and, for each shared ID, its position in B's stream. It sorts the shared
 *      IDs by code units and sends B their positions in that order; B maps them through its own
 *      shuffle to its IDs.
 *
 * What each learns: S learns S ∩ B and |B|; B learns S ∩ B (the positions S sends) and |S|.
 * B's tags reveal nothing about IDs outside S without b (DDH: b·H(y) is pseudo-random), and S's
 * queries nothing about S without s. A tag of 12 bytes (96 bits) gives a false match with
 * probability at most |S|·|B|·2^-96 (2^-56 for 10^5 × 10^7); a false match would make the two
 * sides' agreed-order digests differ, and the job fail, never a silently wrong intersection.
 *
 * Memory: S holds |S| tags in a map plus, for B's tags that arrive before its own are ready, a
 * BlindedSetStore (256 buckets, spilled to disk); B holds 4 bytes per own ID for the shuffle.
 */
import { createHash } from 'node:crypto';
import { PSI_ELEMENT_BYTES, PsiGroupError, randomInvertibleScalar, PsiEngine } from '@vfl/crypto';
import { BlindedSetStore, PSI_BUCKETS } from './blinded-set-store';
import {
  checkElementList,
  ChunkStream,
  IdSource,
  PsiChunkHeader,
  PsiProgressCounts,
  PsiProtocolError,
  ShuffledIdList,
} from './psi-streams';

/** Bytes per tag of the big side's stream: 96 bits, see the false-positive bound above. */
export const PSI_TAG_BYTES = 12;
const MIN_TAG_BYTES = 8;

export interface UnbalancedPsiOptions {
  /** Elements per message. */
  readonly messageElements?: number;
  /** Bytes per tag (8..32); both sides must use the same. */
  readonly tagBytes?: number;
  /** Permutation source (position -> ID index), injectable for reproducible tests. */
  readonly shuffle?: (n: number) => Uint32Array;
  /** Small side: buffered bytes of early tags above which they are spilled to disk. */
  readonly spillAboveBytes?: number;
  readonly spillDir?: string;
}

/** What the small side ends with: the shared IDs in the agreed order, and where they sit in B's stream. */
export interface UnbalancedSmallResult {
  readonly sharedIds: string[];
  /** For sharedIds[k], its position in the big side's tag stream. */
  readonly peerPositions: Uint32Array;
}

/** tag(e) = SHA-256(dst ‖ "|unbalanced-tag|" ‖ e)[0..tagBytes), for each 32-byte element of a packed list. */
export function psiTags(dst: Uint8Array, packed: Uint8Array, tagBytes: number): Uint8Array {
  const n = packed.length / PSI_ELEMENT_BYTES;
  const out = new Uint8Array(n * tagBytes);
  const prefix = Buffer.concat([Buffer.from(dst), Buffer.from('|unbalanced-tag|')]);
  const input = Buffer.alloc(prefix.length + PSI_ELEMENT_BYTES);
  prefix.copy(input);
  for (let i = 0; i < n; i++) {
    input.set(packed.subarray(i * PSI_ELEMENT_BYTES, (i + 1) * PSI_ELEMENT_BYTES), prefix.length);
    out.set(createHash('sha256').update(input).digest().subarray(0, tagBytes), i * tagBytes);
  }
  return out;
}

function tagBytesOf(options: UnbalancedPsiOptions): number {
  const t = options.tagBytes ?? PSI_TAG_BYTES;
  if (!Number.isInteger(t) || t < MIN_TAG_BYTES || t > 32)
    throw new RangeError(`tagBytes must be an integer in ${MIN_TAG_BYTES}..32, got ${t}`);
  return t;
}

/** Own IDs at shuffled positions [start, end). */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The small side S of an unbalanced run. One session per job: the scalar is never reused. */
export class UnbalancedPsiSmall {
  private readonly list: ShuffledIdList;
  private readonly scalar: Uint8Array;
  private readonly inverse: Uint8Array;
  private readonly tagBytes: number;
  /** tag(b·H(x)) (latin1) -> own stream position. */
  private readonly ownTags = new Map<string, number>();
  /** Own stream position -> matched position in B's stream + 1 (0: no match). */
  private readonly matched: Uint32Array;
  private answered = 0;
  private chunksAnswered = 0;
  private hashed = 0;
  private readonly tagStream: ChunkStream;
  /** B's tags that arrived before our own were ready, with their stream positions. */
  private early?: BlindedSetStore;
  private disposed = false;

  /**
   * @param expectedPeerTotal the big side's row count as reported to the coordinator: a tag
   *        stream announcing another size is refused
   */
  constructor(
    private readonly engine: PsiEngine,
    ids: readonly string[] | IdSource,
    private readonly dst: Uint8Array,
    private readonly options: UnbalancedPsiOptions = {},
    private readonly expectedPeerTotal?: number,
  ) {
    this.list = new ShuffledIdList(ids, options);
    this.tagBytes = tagBytesOf(options);
    this.tagStream = new ChunkStream("peer's tag stream", this.tagBytes);
    ({ scalar: this.scalar, inverse: this.inverse } = randomInvertibleScalar(() => engine.randomScalar()));
    this.matched = new Uint32Array(this.list.size);
  }

  get size(): number {
    return this.list.size;
  }

  get chunkCount(): number {
    return this.list.chunkCount;
  }

  header(k: number): PsiChunkHeader {
    return this.list.header(k);
  }

  progress(): PsiProgressCounts {
    return {
      ownDone: Math.floor((this.hashed + this.answered) / 2),
      ownTotal: this.list.size,
      peerDone: this.tagStream.received,
      peerTotal: this.tagStream.total,
    };
  }

  /** Step 1, chunk k: s·H(x) for own IDs at shuffled positions [k·M, (k+1)·M). */
  async blindOwnChunk(k: number): Promise<Uint8Array> {
    this.assertLive();
    let reported = 0;
    return this.engine.hashAndBlind(this.scalar, this.list.idsOfChunk(k), this.dst, (done) => {
      this.hashed += done - reported;
      reported = done;
    });
  }

  /** Step 2, chunk k: B's answer {b·s·H(x)}, unblinded to b·H(x) and kept as tags. */
  async acceptAnswer(k: number, packed: Uint8Array): Promise<void> {
    this.assertLive();
    if (k !== this.chunksAnswered)
      throw new PsiProtocolError(`answer for chunk ${k} arrived, expected chunk ${this.chunksAnswered}`);
    checkElementList(packed, `peer's answer to chunk ${k}`);
    const { start, end } = this.list.chunk(k);
    const expected = end - start;
    const n = packed.length / PSI_ELEMENT_BYTES;
    if (n !== expected)
      throw new PsiProtocolError(`peer's answer to chunk ${k} has ${n} elements, expected ${expected}`);
    this.chunksAnswered++; // before the await: a second answer for k while this one unblinds is refused
    let unblinded: Uint8Array;
    try {
      unblinded = await this.engine.blind(this.inverse, packed, start);
    } catch (e) {
      if (e instanceof PsiGroupError) throw new PsiProtocolError(`peer's answer to chunk ${k}: ${e.message}`);
      throw e;
    }
    this.assertLive();
    const tags = psiTags(this.dst, unblinded, this.tagBytes);
    for (let i = 0; i < n; i++) {
      const key = Buffer.from(tags.buffer, tags.byteOffset + i * this.tagBytes, this.tagBytes).toString('latin1');
      // Distinct IDs give distinct b·H(x); equal tags would be a 2^-96 event or a peer answering twice alike.
      if (this.ownTags.has(key))
        throw new PsiProtocolError(
          `peer's answers for own positions ${this.ownTags.get(key)} and ${start + i} are equal`,
        );
      this.ownTags.set(key, start + i);
    }
    this.answered += n;
    if (this.ready && this.early) this.drainEarly();
  }

  /** Step 3: one chunk of B's tag stream. Matched at once when our own tags are ready, kept until then. */
  acceptPeerTags(header: PsiChunkHeader, packed: Uint8Array): void {
    this.assertLive();
    if (this.expectedPeerTotal !== undefined && header?.total !== this.expectedPeerTotal) {
      throw new PsiProtocolError(
        `peer's tag stream announces ${header?.total} elements, but the peer reported ${this.expectedPeerTotal} rows`,
      );
    }
    const first = this.tagStream.received;
    this.tagStream.check(header, packed);
    const n = packed.length / this.tagBytes;
    if (this.ready) {
      for (let i = 0; i < n; i++)
        this.match(
          Buffer.from(packed.buffer, packed.byteOffset + i * this.tagBytes, this.tagBytes).toString('latin1'),
          first + i,
        );
      return;
    }
    const entryBytes = this.tagBytes + 4;
    const entries = Buffer.allocUnsafe(n * entryBytes);
    for (let i = 0; i < n; i++) {
      entries.set(packed.subarray(i * this.tagBytes, (i + 1) * this.tagBytes), i * entryBytes);
      entries.writeUInt32LE(first + i, i * entryBytes + this.tagBytes);
    }
    this.early ??= new BlindedSetStore(entryBytes, this.options.spillAboveBytes ?? 64 * 2 ** 20, this.options.spillDir);
    this.early.add(entries);
  }

  /** Step 4: the shared IDs sorted by code units, with their positions in B's stream (to send to B). */
  finish(): UnbalancedSmallResult {
    this.assertLive();
    try {
      if (!this.ready)
        throw new PsiProtocolError(
          `PSI finished before the peer answered all our chunks (${this.answered} of ${this.list.size} elements)`,
        );
      if (!this.tagStream.complete)
        throw new PsiProtocolError(
          `PSI finished before the peer's tag stream was complete (${this.tagStream.describe()})`,
        );
      if (this.early) this.drainEarly();
      const own: number[] = [];
      for (let p = 0; p < this.matched.length; p++) if (this.matched[p] !== 0) own.push(p);
      const ids = own.map((p) => this.list.idAt(p));
      const byId = own.map((_, k) => k).sort((x, y) => byCodeUnits(ids[x], ids[y]));
      return {
        sharedIds: byId.map((k) => ids[k]),
        peerPositions: Uint32Array.from(byId, (k) => this.matched[own[k]] - 1),
      };
    } finally {
      this.dispose();
    }
  }

  /** Wipes both scalars and removes spilled tags; the session is unusable afterwards. Safe to call twice. */
  dispose(): void {
    this.disposed = true;
    this.scalar.fill(0);
    this.inverse.fill(0);
    this.ownTags.clear();
    this.early?.dispose();
  }

  private get ready(): boolean {
    return this.chunksAnswered === this.chunkCount && this.answered === this.list.size;
  }

  private match(key: string, peerPosition: number): void {
    const own = this.ownTags.get(key);
    if (own === undefined) return;
    // B's IDs are distinct, so its tags are too: a repeat is a peer replaying a value.
    if (this.matched[own] !== 0)
      throw new PsiProtocolError(
        `peer's tag stream repeats a value (positions ${this.matched[own] - 1} and ${peerPosition})`,
      );
    this.matched[own] = peerPosition + 1;
  }

  private drainEarly(): void {
    const early = this.early!;
    this.early = undefined;
    try {
      const entryBytes = this.tagBytes + 4;
      for (let b = 0; b < PSI_BUCKETS; b++) {
        const bucket = early.bucket(b);
        for (let i = 0; i < bucket.length; i += entryBytes)
          this.match(bucket.toString('latin1', i, i + this.tagBytes), bucket.readUInt32LE(i + this.tagBytes));
      }
    } finally {
      early.dispose();
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new PsiProtocolError('PSI session already finished or closed');
  }
}

/** The big side B of an unbalanced run. One session per job: the scalar is never reused. */
export class UnbalancedPsiBig {
  private readonly list: ShuffledIdList;
  private readonly scalar: Uint8Array;
  private readonly tagBytes: number;
  private readonly queryStream = new ChunkStream("peer's query stream");
  private queriesAnswered = 0;
  private tagsHashed = 0;
  private chunksSent = 0;
  private disposed = false;

  /** @param expectedPeerTotal the small side's row count as reported to the coordinator */
  constructor(
    private readonly engine: PsiEngine,
    ids: readonly string[] | IdSource,
    private readonly dst: Uint8Array,
    options: UnbalancedPsiOptions = {},
    private readonly expectedPeerTotal?: number,
  ) {
    this.list = new ShuffledIdList(ids, options);
    this.tagBytes = tagBytesOf(options);
    this.scalar = engine.randomScalar();
  }

  get size(): number {
    return this.list.size;
  }

  get chunkCount(): number {
    return this.list.chunkCount;
  }

  header(k: number): PsiChunkHeader {
    return this.list.header(k);
  }

  progress(): PsiProgressCounts {
    return {
      ownDone: this.tagsHashed,
      ownTotal: this.list.size,
      peerDone: this.queriesAnswered,
      peerTotal: this.queryStream.total,
    };
  }

  /** Step 1: blind one chunk of S's queries, same order. */
  async answerQuery(header: PsiChunkHeader, packed: Uint8Array): Promise<Uint8Array> {
    this.assertLive();
    if (this.expectedPeerTotal !== undefined && header?.total !== this.expectedPeerTotal) {
      throw new PsiProtocolError(
        `peer's query stream announces ${header?.total} elements, but the peer reported ${this.expectedPeerTotal} rows`,
      );
    }
    const first = this.queryStream.received;
    this.queryStream.check(header, packed);
    try {
      const answer = await this.engine.blind(this.scalar, packed, first);
      this.queriesAnswered += packed.length / PSI_ELEMENT_BYTES;
      return answer;
    } catch (e) {
      if (e instanceof PsiGroupError) throw new PsiProtocolError(`peer query chunk ${header.chunk}: ${e.message}`);
      throw e;
    }
  }

  /** Step 3, chunk k: tag(b·H(y)) for own IDs at shuffled positions [k·M, (k+1)·M). */
  async tagChunk(k: number): Promise<Uint8Array> {
    this.assertLive();
    const blinded = await this.engine.hashAndBlind(this.scalar, this.list.idsOfChunk(k), this.dst);
    this.assertLive();
    const tags = psiTags(this.dst, blinded, this.tagBytes);
    this.tagsHashed += blinded.length / PSI_ELEMENT_BYTES;
    return tags;
  }

  /** Own chunk k reached the small side. */
  markChunkSent(k: number): void {
    if (k !== this.chunksSent) throw new PsiProtocolError(`chunk ${k} sent, expected chunk ${this.chunksSent}`);
    this.chunksSent++;
  }

  /**
   * Step 4: own IDs at the positions S sent (of our tag stream), in the order given, which must be
   * the agreed one (IDs sorted by code units).
   * @throws PsiProtocolError for a position out of range or repeated, IDs out of order, or a run
   *         that did not finish both streams.
   */
  idsAtPositions(positions: Uint32Array): string[] {
    this.assertLive();
    try {
      if (!this.queryStream.complete || this.queriesAnswered !== this.queryStream.total) {
        throw new PsiProtocolError(
          `PSI finished before the peer's queries were answered (${this.queryStream.describe()})`,
        );
      }
      if (this.chunksSent !== this.chunkCount)
        throw new PsiProtocolError(
          `PSI finished before our tag stream was sent (${this.chunksSent} of ${this.chunkCount} chunks)`,
        );
      if (!(positions instanceof Uint32Array)) throw new PsiProtocolError('positions: expected 4-byte positions');
      if (positions.length > this.queryStream.total)
        throw new PsiProtocolError(
          `${positions.length} positions, but the peer queried only ${this.queryStream.total} IDs`,
        );
      const ids = this.list.idsAtPositions(positions);
      for (let k = 1; k < ids.length; k++)
        if (byCodeUnits(ids[k - 1], ids[k]) >= 0)
          throw new PsiProtocolError(`positions ${k - 1} and ${k} are not in the agreed order`);
      return ids;
    } finally {
      this.dispose();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.scalar.fill(0);
  }

  private assertLive(): void {
    if (this.disposed) throw new PsiProtocolError('PSI session already finished or closed');
  }
}

/**
 * Runs an unbalanced exchange in one process: S's queries answered by B, and B's tag stream, at
 * once (each pipelined: the next chunk is computed while one travels). For tests and benches; the
 * services do the same over signed peer messages (PartyNode). Returns the bytes that crossed.
 */
export async function exchangeUnbalancedLocally(
  small: UnbalancedPsiSmall,
  big: UnbalancedPsiBig,
): Promise<{ bytes: number }> {
  let bytes = 0;
  await Promise.all([
    pipelineSmallQueries(small, async (k, blinded) => {
      bytes += blinded.length;
      const answer = await big.answerQuery(small.header(k), blinded);
      bytes += answer.length;
      return answer;
    }),
    pipelineBigTags(big, async (k, tags) => {
      bytes += tags.length;
      small.acceptPeerTags(big.header(k), tags);
    }),
  ]);
  return { bytes };
}

/** S's loop: blind chunk k+1 while chunk k is with B, unblind each answer in order. */
export async function pipelineSmallQueries(
  small: UnbalancedPsiSmall,
  deliver: (k: number, blinded: Uint8Array) => Promise<Uint8Array>,
): Promise<void> {
  let next: Promise<Uint8Array> | undefined = small.blindOwnChunk(0);
  try {
    for (let k = 0; k < small.chunkCount; k++) {
      const blinded: Uint8Array = await next!;
      next = k + 1 < small.chunkCount ? small.blindOwnChunk(k + 1) : undefined;
      next?.catch(() => undefined);
      await small.acceptAnswer(k, await deliver(k, blinded));
    }
  } finally {
    await next?.catch(() => undefined);
  }
}

/**
 * B's loop: the next two chunks are hashed and blinded while chunk k's tags travel, so the
 * engine's workers never wait for the main thread (tagging, sending) between chunks.
 */
export async function pipelineBigTags(
  big: UnbalancedPsiBig,
  deliver: (k: number, tags: Uint8Array) => Promise<void>,
  depth = 2,
): Promise<void> {
  const ahead: Promise<Uint8Array>[] = [];
  let started = 0;
  const fill = () => {
    while (ahead.length < depth && started < big.chunkCount) {
      const chunk = big.tagChunk(started++);
      chunk.catch(() => undefined); // awaited in turn; not unhandled if an earlier one fails
      ahead.push(chunk);
    }
  };
  try {
    for (let k = 0; k < big.chunkCount; k++) {
      fill();
      const tags = await ahead.shift()!;
      fill();
      await deliver(k, tags);
      big.markChunkSent(k);
    }
  } finally {
    await Promise.allSettled(ahead);
  }
}
