/**
 * ECDH private set intersection between two parties (Meadows 1986; Huberman–Franklin–Hogg 1999),
 * semi-honest.
 *
 * Flow (A and B symmetric; each holds a fresh secret scalar for this job only):
 *   1. each party hashes its IDs to the group with a job-bound domain separation tag,
 *      blinds them with its scalar, shuffles, and streams the list in chunks: A -> B: {a·H(x)}
 *   2. the receiver blinds each chunk again and returns it in the same order:  B -> A: {b·a·H(x)}
 *   3. after both directions each party holds its own doubly blinded IDs (in its own order) and
 *      the peer's doubly blinded set (computed in step 2). Matching values are the intersection.
 *   4. both sort the shared IDs (which both now know) by code units: the same order on both
 *      sides, a function of the intersection alone (so it reveals nothing about either file's
 *      order), and stable across jobs, so a seeded split reproduces.
 *
 * Streaming: chunks of PSI_MESSAGE_ELEMENTS travel one message each; doubly blinded values go to
 * a BlindedSetStore (256 buckets by first byte, spilled to disk past a memory limit) and are
 * matched one bucket at a time. Memory is bounded by the chunk and bucket sizes, plus 4 bytes per
 * own ID for the shuffle and whatever the caller's ID source holds.
 *
 * Three or more parties (the label party L with feature parties F1..Fk), the "star" mode below:
 * L runs one session per Fi and learns each L ∩ Fi; every Fi learns only the intersection of all.
 *
 * What each party learns: the intersection and the size of the peer's set. What it never sees:
 * any peer ID outside the intersection (it holds only b·a·H(y), which is pseudo-random without b).
 * The coordinator learns the intersection size and a digest of the ordered doubly blinded list
 * (to check both parties agree), never an ID.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { randomFillSync } from 'node:crypto';
import { PSI_ELEMENT_BYTES, PsiGroupError, PsiEngine } from '@vfl/crypto';
import { BlindedSetStore, PSI_BUCKETS } from './blinded-set-store';

export const PSI_PROTOCOL_VERSION = 'vfl-ecdh-psi-v2';
/** Elements per peer message (2 MiB of elements). */
export const PSI_MESSAGE_ELEMENTS = 65_536;
/** Largest peer set a party accepts (the shuffle index is 32-bit). */
export const PSI_MAX_ELEMENTS = 2 ** 31;
const OWN_ENTRY_BYTES = PSI_ELEMENT_BYTES + 4;

/** The peer sent something the protocol cannot accept. */
export class PsiProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PsiProtocolError';
  }
}

export interface PsiResult {
  /** Shared IDs in the order both parties agree on. */
  readonly sharedIds: string[];
  /** sha256 over the ordered doubly blinded values: equal on both sides iff they agree. */
  readonly orderDigest: string;
}

/** A party's IDs, read by index (an array, or a generator over a larger source). */
export interface IdSource {
  readonly size: number;
  at(index: number): string;
}

/** Where a chunk sits in the sender's stream. */
export interface PsiChunkHeader {
  readonly chunk: number;
  readonly chunks: number;
  /** Elements in the sender's whole list. */
  readonly total: number;
}

export interface PsiProgressCounts {
  readonly ownDone: number;
  readonly ownTotal: number;
  readonly peerDone: number;
  readonly peerTotal: number;
}

export interface PsiSessionOptions {
  /** Elements per message. */
  readonly messageElements?: number;
  /** Buffered bytes per store above which doubly blinded values are spilled to disk. */
  readonly spillAboveBytes?: number;
  readonly spillDir?: string;
  /** Permutation source (position -> ID index), injectable for reproducible tests. */
  readonly shuffle?: (n: number) => Uint32Array;
  /** Star mode, label side: keep each peer element's position in the peer's stream. */
  readonly peerPositions?: boolean;
  /** Star mode, feature side: blind the peer's list for it, but keep none of it (default true). */
  readonly keepPeerSet?: boolean;
}

/**
 * A party's own IDs in a secret shuffled order, cut into messages: what every PSI session
 * (balanced, star, unbalanced) streams, and how stream positions map back to IDs.
 */
export class ShuffledIdList {
  readonly ids: IdSource;
  /** Stream position -> index into `ids`. */
  readonly order: Uint32Array;
  readonly messageElements: number;

  /** @throws PsiProtocolError for an empty list or one too large to index. */
  constructor(ids: readonly string[] | IdSource, options: { messageElements?: number; shuffle?: (n: number) => Uint32Array } = {}) {
    this.ids = Array.isArray(ids) ? { size: ids.length, at: (i) => (ids as readonly string[])[i] } : (ids as IdSource);
    if (this.ids.size === 0) throw new PsiProtocolError('cannot run PSI on an empty ID set');
    if (this.ids.size > PSI_MAX_ELEMENTS) throw new PsiProtocolError(`cannot run PSI on more than ${PSI_MAX_ELEMENTS} IDs`);
    this.messageElements = options.messageElements ?? PSI_MESSAGE_ELEMENTS;
    this.order = (options.shuffle ?? secureShuffle)(this.ids.size);
  }

  get size(): number {
    return this.ids.size;
  }

  get chunkCount(): number {
    return Math.ceil(this.ids.size / this.messageElements);
  }

  /** The header that goes with own chunk k. */
  header(k: number): PsiChunkHeader {
    return { chunk: k, chunks: this.chunkCount, total: this.ids.size };
  }

  /** Stream positions [start, end) of chunk k. */
  chunk(k: number): { start: number; end: number } {
    if (!(Number.isInteger(k) && k >= 0 && k < this.chunkCount)) throw new RangeError(`own chunk ${k} out of range 0..${this.chunkCount - 1}`);
    const start = k * this.messageElements;
    return { start, end: Math.min(this.ids.size, start + this.messageElements) };
  }

  /** The IDs of chunk k, in stream order. */
  idsOfChunk(k: number): string[] {
    const { start, end } = this.chunk(k);
    const out = new Array<string>(end - start);
    for (let p = start; p < end; p++) out[p - start] = this.ids.at(this.order[p]);
    return out;
  }

  idAt(position: number): string {
    return this.ids.at(this.order[position]);
  }

  /**
   * The IDs at a peer's stream positions, in the order given.
   * @throws PsiProtocolError for a position out of range or repeated.
   */
  idsAtPositions(positions: Uint32Array): string[] {
    const seen = new Uint8Array(this.ids.size);
    return Array.from(positions, (p, k) => {
      if (p >= this.ids.size) throw new PsiProtocolError(`position ${k} is ${p}, past our ${this.ids.size} elements`);
      if (seen[p]) throw new PsiProtocolError(`position ${p} appears twice`);
      seen[p] = 1;
      return this.idAt(p);
    });
  }
}

/** Domain separation tag: binds every hash to this protocol version and this job. */
export function psiDomainTag(jobId: string): Uint8Array {
  return utf8ToBytes(`${PSI_PROTOCOL_VERSION}|job=${jobId}`);
}

/** One party's side of one PSI run. Create a new session per job: the scalar is never reused. */
export class EcdhPsiSession {
  private readonly scalar: Uint8Array;
  private readonly list: ShuffledIdList;
  private readonly spillAboveBytes: number;
  private readonly spillDir?: string;
  private readonly own: BlindedSetStore;
  private readonly peer: BlindedSetStore;
  private ownChunksAccepted = 0;
  private ownHashed = 0;
  private ownAnswered = 0;
  /** The peer's list, as it streams in. */
  private readonly peerStream = new ChunkStream('peer');
  private peerDone = 0;
  /** Cardinality mode, counting side: the peer's answers to our list, shuffled. */
  private readonly answerStream = new ChunkStream("peer's answers");
  private answers?: BlindedSetStore;
  private disposed = false;
  private readonly peerPositions: boolean;
  private readonly keepPeerSet: boolean;

  constructor(
    private readonly engine: PsiEngine,
    ids: readonly string[] | IdSource,
    private readonly dst: Uint8Array,
    options: PsiSessionOptions = {},
  ) {
    this.list = new ShuffledIdList(ids, options);
    this.scalar = engine.randomScalar();
    this.spillAboveBytes = options.spillAboveBytes ?? 64 * 2 ** 20;
    this.spillDir = options.spillDir;
    this.own = new BlindedSetStore(OWN_ENTRY_BYTES, this.spillAboveBytes, this.spillDir);
    this.peerPositions = options.peerPositions === true;
    this.keepPeerSet = options.keepPeerSet !== false;
    this.peer = new BlindedSetStore(this.peerPositions ? OWN_ENTRY_BYTES : PSI_ELEMENT_BYTES, this.spillAboveBytes, this.spillDir);
  }

  get size(): number {
    return this.list.size;
  }

  get chunkCount(): number {
    return this.list.chunkCount;
  }

  /** The header that goes with own chunk k. */
  header(k: number): PsiChunkHeader {
    return this.list.header(k);
  }

  progress(): PsiProgressCounts {
    // An own ID is half done once hashed and blinded, done once the peer's answer is back.
    return { ownDone: Math.floor((this.ownHashed + this.ownAnswered) / 2), ownTotal: this.list.size, peerDone: this.peerDone, peerTotal: this.peerStream.total };
  }

  /** Step 1, chunk k: own IDs at shuffled positions [k·M, (k+1)·M), hashed and blinded. */
  async blindOwnChunk(k: number): Promise<Uint8Array> {
    this.assertLive();
    const ids = this.list.idsOfChunk(k);
    let reported = 0;
    return this.engine.hashAndBlind(this.scalar, ids, this.dst, (done) => {
      this.ownHashed += done - reported;
      reported = done;
    });
  }

  /** Step 2 (as initiator), chunk k: the peer's answer to our chunk k. */
  acceptOwnChunk(k: number, packed: Uint8Array): void {
    this.assertLive();
    if (k !== this.ownChunksAccepted) throw new PsiProtocolError(`doubly blinded answer for chunk ${k} arrived, expected chunk ${this.ownChunksAccepted}`);
    checkElementList(packed, `doubly blinded answer to chunk ${k}`);
    const { start, end } = this.list.chunk(k);
    const expected = end - start;
    const n = packed.length / PSI_ELEMENT_BYTES;
    if (n !== expected) throw new PsiProtocolError(`doubly blinded answer to chunk ${k} has ${n} elements, expected ${expected}`);
    const entries = Buffer.allocUnsafe(n * OWN_ENTRY_BYTES);
    for (let i = 0; i < n; i++) {
      entries.set(packed.subarray(i * PSI_ELEMENT_BYTES, (i + 1) * PSI_ELEMENT_BYTES), i * OWN_ENTRY_BYTES);
      entries.writeUInt32LE(start + i, i * OWN_ENTRY_BYTES + PSI_ELEMENT_BYTES);
    }
    this.own.add(entries);
    this.ownChunksAccepted++;
    this.ownAnswered += n;
  }

  /** Step 2 (as responder): blind the peer's chunk again, same order; keeps it as part of the peer's set. */
  async blindPeerChunk(header: PsiChunkHeader, peerBlinded: Uint8Array): Promise<Uint8Array> {
    this.assertLive();
    this.peerStream.check(header, peerBlinded);
    const n = peerBlinded.length / PSI_ELEMENT_BYTES;
    let doubled: Uint8Array;
    try {
      doubled = await this.engine.blind(this.scalar, peerBlinded, this.peerDone);
    } catch (e) {
      if (e instanceof PsiGroupError) throw new PsiProtocolError(`peer chunk ${header.chunk}: ${e.message}`);
      throw e;
    }
    this.assertLive(); // closed while the engine worked: keep nothing (and spill nothing)
    if (this.keepPeerSet) this.peer.add(this.peerPositions ? withPositions(doubled, this.peerDone) : doubled);
    this.peerDone += n;
    return doubled;
  }

  /** Step 3–4: the intersection in the agreed order, matched one bucket at a time. */
  async finish(): Promise<PsiResult> {
    this.assertLive();
    if (this.ownChunksAccepted !== this.chunkCount || !this.peerStream.complete || this.peerDone !== this.peerStream.total) {
      throw new PsiProtocolError('PSI finished before both directions were exchanged');
    }
    try {
      // Matches as (position, element) in flat arrays: 36 bytes each, however large the intersection.
      let positions = new Uint32Array(1024);
      let keys = Buffer.alloc(1024 * PSI_ELEMENT_BYTES);
      let count = 0;
      for (let b = 0; b < PSI_BUCKETS; b++) {
        const set = this.peerBucketSet(b);
        const own = this.own.bucket(b);
        for (let i = 0; i < own.length; i += OWN_ENTRY_BYTES) {
          if (!set.has(own.toString('latin1', i, i + PSI_ELEMENT_BYTES))) continue;
          if (count === positions.length) {
            positions = growU32(positions);
            keys = Buffer.concat([keys, Buffer.alloc(keys.length)]);
          }
          positions[count] = own.readUInt32LE(i + PSI_ELEMENT_BYTES);
          own.copy(keys, count * PSI_ELEMENT_BYTES, i, i + PSI_ELEMENT_BYTES);
          count++;
        }
        if (b % 16 === 15) await new Promise((r) => setImmediate(r)); // stay responsive on large sets
      }
      const ids = Array.from({ length: count }, (_, k) => this.list.idAt(positions[k]));
      const byId = new Uint32Array(count).map((_, k) => k).sort((x, y) => (ids[x] < ids[y] ? -1 : ids[x] > ids[y] ? 1 : 0));
      const digest = sha256.create();
      for (const k of byId) digest.update(utf8ToBytes(keys.toString('hex', k * PSI_ELEMENT_BYTES, (k + 1) * PSI_ELEMENT_BYTES)));
      return { sharedIds: Array.from(byId, (k) => ids[k]), orderDigest: bytesToHex(digest.digest()) };
    } finally {
      this.dispose();
    }
  }

  // --- Cardinality mode: the counting party learns |X ∩ Y|, the helper learns nothing more than |X|.
  //   1. counter -> helper: {a·H(x)} in chunks; the helper keeps {b·a·H(x)} and answers nothing
  //   2. helper -> counter: {b·H(y)} in chunks; the counter keeps {a·b·H(y)} and answers nothing
  //   3. helper -> counter: {b·a·H(x)} bucket by bucket, shuffled within each bucket, so the
  //      counter cannot tell which of its IDs an answer belongs to (the bucket is the first byte
  //      of the answer itself, which the counter sees anyway)
  //   4. the counter counts answers found in {a·b·H(y)}

  /** Cardinality mode: own chunk k reached the peer, which keeps its answer. */
  markOwnChunkDelivered(k: number): void {
    this.assertLive();
    if (k !== this.ownChunksAccepted) throw new PsiProtocolError(`chunk ${k} delivered, expected chunk ${this.ownChunksAccepted}`);
    const { start, end } = this.list.chunk(k);
    this.ownAnswered += end - start;
    this.ownChunksAccepted++;
  }

  /** Cardinality mode, helper: the peer's doubly blinded list, in messages, shuffled within each bucket. */
  async *answerChunks(): AsyncGenerator<{ header: PsiChunkHeader; elements: Uint8Array }> {
    this.assertLive();
    if (!this.peerStream.complete) throw new PsiProtocolError("cannot answer before the peer's whole list has arrived");
    const total = this.peerStream.total;
    const chunks = Math.ceil(total / this.list.messageElements);
    const pending = new Uint8Array(this.list.messageElements * PSI_ELEMENT_BYTES);
    let filled = 0;
    let chunk = 0;
    for (let b = 0; b < PSI_BUCKETS; b++) {
      const bucket = this.peer.bucket(b);
      shuffleEntries(bucket, PSI_ELEMENT_BYTES);
      for (let i = 0; i < bucket.length; ) {
        const take = Math.min(bucket.length - i, pending.length - filled);
        pending.set(bucket.subarray(i, i + take), filled);
        filled += take;
        i += take;
        if (filled === pending.length) {
          yield { header: { chunk: chunk++, chunks, total }, elements: pending.slice(0, filled) };
          filled = 0;
        }
      }
    }
    if (filled > 0) yield { header: { chunk: chunk++, chunks, total }, elements: pending.slice(0, filled) };
  }

  /** Cardinality mode, counter: one message of the peer's answers to our list. */
  acceptAnswerChunk(header: PsiChunkHeader, packed: Uint8Array): void {
    this.assertLive();
    if (header?.total !== this.list.size) throw new PsiProtocolError(`peer answers ${header?.total} elements, but our list has ${this.list.size}`);
    this.answerStream.check(header, packed);
    this.answers ??= new BlindedSetStore(PSI_ELEMENT_BYTES, this.spillAboveBytes, this.spillDir);
    this.answers.add(packed);
  }

  /** Cardinality mode, counter: |X ∩ Y|. */
  async finishCardinality(): Promise<number> {
    this.assertLive();
    if (this.ownChunksAccepted !== this.chunkCount || !this.peerStream.complete || !this.answerStream.complete || !this.answers) {
      throw new PsiProtocolError('PSI cardinality finished before the lists and the answers were exchanged');
    }
    try {
      let count = 0;
      for (let b = 0; b < PSI_BUCKETS; b++) {
        const set = this.peerBucketSet(b);
        const answers = this.answers.bucket(b);
        for (let i = 0; i < answers.length; i += PSI_ELEMENT_BYTES) if (set.has(answers.toString('latin1', i, i + PSI_ELEMENT_BYTES))) count++;
        if (b % 16 === 15) await new Promise((r) => setImmediate(r));
      }
      return count;
    } finally {
      this.dispose();
    }
  }

  // --- Star mode (label party L, feature parties F1..Fk), per pair (L, Fi):
  //   1. L -> Fi: {a·H(x)}; Fi answers {b·a·H(x)} in order (L learns which of its IDs Fi holds)
  //   2. Fi -> L: {b·H(y)}; L keeps {a·b·H(y)} with each element's position in Fi's stream and
  //      answers nothing, so Fi never holds a doubly blinded value of its own to compare with
  //   3. L matches, per Fi, its own IDs to positions in Fi's stream; the intersection of all is
  //      the own IDs matched in every pair
  //   4. L -> Fi: the positions of the intersection in Fi's stream, in the agreed order; Fi maps
  //      them through its own shuffle to its IDs. Fi learns the intersection of all, nothing more.

  /** Star mode, label side: for each own ID matched in this peer's list, the peer's stream position. */
  async matchPeerPositions(): Promise<Map<number, number>> {
    this.assertLive();
    if (!this.peerPositions) throw new PsiProtocolError('this session keeps no peer positions (not a star-mode label session)');
    if (this.ownChunksAccepted !== this.chunkCount || !this.peerStream.complete || this.peerDone !== this.peerStream.total) {
      throw new PsiProtocolError('PSI finished before both directions were exchanged');
    }
    try {
      const matches = new Map<number, number>();
      for (let b = 0; b < PSI_BUCKETS; b++) {
        const peer = this.peer.bucket(b);
        const positions = new Map<string, number>();
        for (let i = 0; i < peer.length; i += OWN_ENTRY_BYTES) positions.set(peer.toString('latin1', i, i + PSI_ELEMENT_BYTES), peer.readUInt32LE(i + PSI_ELEMENT_BYTES));
        const own = this.own.bucket(b);
        for (let i = 0; i < own.length; i += OWN_ENTRY_BYTES) {
          const at = positions.get(own.toString('latin1', i, i + PSI_ELEMENT_BYTES));
          if (at !== undefined) matches.set(this.list.order[own.readUInt32LE(i + PSI_ELEMENT_BYTES)], at);
        }
        if (b % 16 === 15) await new Promise((r) => setImmediate(r));
      }
      return matches;
    } finally {
      this.dispose();
    }
  }

  /**
   * Star mode, feature side: the IDs at the label party's positions (of our own stream), in the
   * order given.
   * @throws PsiProtocolError for a position out of range or repeated.
   */
  idsAtPositions(positions: Uint32Array): string[] {
    this.assertLive();
    if (this.ownChunksAccepted !== this.chunkCount || !this.peerStream.complete) {
      throw new PsiProtocolError('PSI finished before both directions were exchanged');
    }
    try {
      return this.list.idsAtPositions(positions);
    } finally {
      this.dispose();
    }
  }

  /** Wipes the secret scalar and removes spilled values; the session is unusable afterwards. Safe to call twice. */
  dispose(): void {
    this.disposed = true;
    this.scalar.fill(0);
    this.own.dispose();
    this.peer.dispose();
    this.answers?.dispose();
  }

  /** The peer's doubly blinded values in bucket b, as a set of 32-character latin1 keys. */
  private peerBucketSet(b: number): Set<string> {
    const peer = this.peer.bucket(b);
    const set = new Set<string>();
    for (let i = 0; i < peer.length; i += PSI_ELEMENT_BYTES) set.add(peer.toString('latin1', i, i + PSI_ELEMENT_BYTES));
    return set;
  }

  private assertLive(): void {
    if (this.disposed) throw new PsiProtocolError('PSI session already finished or closed');
  }
}

/**
 * Runs one direction of the exchange in one process: `sender`'s chunks, blinded by `receiver`.
 * The next chunk is hashed while the current one is with the receiver. For tests and benches;
 * the services do the same over signed peer messages (PartyNode).
 */
export async function streamOneDirection(sender: EcdhPsiSession, receiver: EcdhPsiSession): Promise<void> {
  await pipelineChunks(sender, async (k, blinded) => receiver.blindPeerChunk(sender.header(k), blinded));
}

/** The sender's loop: hash chunk k+1 while chunk k travels, accept each answer in order. */
export async function pipelineChunks(
  sender: EcdhPsiSession,
  deliver: (k: number, blinded: Uint8Array) => Promise<Uint8Array>,
  accept: (k: number, answer: Uint8Array) => void = (k, answer) => sender.acceptOwnChunk(k, answer),
): Promise<void> {
  let next: Promise<Uint8Array> | undefined = sender.blindOwnChunk(0);
  try {
    for (let k = 0; k < sender.chunkCount; k++) {
      const blinded: Uint8Array = await next!;
      next = k + 1 < sender.chunkCount ? sender.blindOwnChunk(k + 1) : undefined;
      next?.catch(() => undefined); // awaited on the next turn; not unhandled if this one fails
      accept(k, await deliver(k, blinded));
    }
  } finally {
    await next?.catch(() => undefined);
  }
}

/** Both directions in one process, one after the other. */
export async function exchangeLocally(a: EcdhPsiSession, b: EcdhPsiSession): Promise<void> {
  await streamOneDirection(a, b);
  await streamOneDirection(b, a);
}

/** Elements followed by their 4-byte stream positions, from `first` on. */
function withPositions(elements: Uint8Array, first: number): Buffer {
  const n = elements.length / PSI_ELEMENT_BYTES;
  const entries = Buffer.allocUnsafe(n * OWN_ENTRY_BYTES);
  for (let i = 0; i < n; i++) {
    entries.set(elements.subarray(i * PSI_ELEMENT_BYTES, (i + 1) * PSI_ELEMENT_BYTES), i * OWN_ENTRY_BYTES);
    entries.writeUInt32LE(first + i, i * OWN_ENTRY_BYTES + PSI_ELEMENT_BYTES);
  }
  return entries;
}

function growU32(a: Uint32Array): Uint32Array {
  const grown = new Uint32Array(a.length * 2);
  grown.set(a);
  return grown;
}

export function checkElementList(packed: Uint8Array, what: string, elementBytes: number = PSI_ELEMENT_BYTES): void {
  if (!(packed instanceof Uint8Array)) throw new PsiProtocolError(`${what}: expected binary element list`);
  if (packed.length % elementBytes !== 0) {
    throw new PsiProtocolError(`${what}: length ${packed.length} is not a multiple of ${elementBytes}`);
  }
}

/** Uniform integers below a bound, from 53-bit draws of the OS CSPRNG (bias below 2^-20 for any list we accept). */
function uniformDraw(): (bound: number) => number {
  const pool = new Uint32Array(8192);
  let at = pool.length;
  return (bound) => {
    if (at + 2 > pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    return Math.floor(((pool[at++] * 2 ** 21 + (pool[at++] >>> 11)) / 2 ** 53) * bound);
  };
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
function secureShuffle(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const draw = uniformDraw();
  for (let i = n - 1; i > 0; i--) {
    const j = draw(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Order and size checks for a stream of chunks from a peer. */
export class ChunkStream {
  private header?: PsiChunkHeader;
  private seen = 0;
  private elements = 0;

  /** @param elementBytes bytes per element: 32 for group elements, fewer for truncated tags */
  constructor(
    private readonly what: string,
    private readonly elementBytes: number = PSI_ELEMENT_BYTES,
  ) {}

  /** Elements received so far. */
  get received(): number {
    return this.elements;
  }

  /** Where the stream stands, for an error about a peer that stopped. */
  describe(): string {
    if (!this.header) return `${this.what}: nothing arrived`;
    return `${this.what}: ${this.seen} of ${this.header.chunks} chunks (${this.elements} of ${this.header.total} elements) arrived`;
  }

  get total(): number {
    return this.header?.total ?? 0;
  }

  get complete(): boolean {
    return this.header !== undefined && this.elements === this.header.total;
  }

  /** Throws unless `packed` is the next chunk of a well-formed stream; counts it. */
  check(h: PsiChunkHeader, packed: Uint8Array): void {
    const ok = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
    if (!h || !ok(h.total, 1, PSI_MAX_ELEMENTS) || !ok(h.chunks, 1, h.total) || !ok(h.chunk, 0, h.chunks - 1)) {
      throw new PsiProtocolError(`${this.what}: chunk header is malformed (chunk, chunks, total)`);
    }
    if (!this.header) {
      if (h.chunk !== 0) throw new PsiProtocolError(`${this.what}: stream starts at chunk ${h.chunk}, expected 0`);
      this.header = { chunk: 0, chunks: h.chunks, total: h.total };
    } else {
      if (h.total !== this.header.total || h.chunks !== this.header.chunks) throw new PsiProtocolError(`${this.what}: announced list size changed mid-stream`);
      if (h.chunk !== this.seen) throw new PsiProtocolError(`${this.what}: chunk ${h.chunk} arrived, expected chunk ${this.seen} (replayed or out of order)`);
    }
    checkElementList(packed, `${this.what}, chunk ${h.chunk}`, this.elementBytes);
    const n = packed.length / this.elementBytes;
    if (n === 0) throw new PsiProtocolError(`${this.what}: chunk ${h.chunk} is empty`);
    if (this.elements + n > h.total) throw new PsiProtocolError(`${this.what}: chunks hold more than the ${h.total} elements announced`);
    if (h.chunk === h.chunks - 1 && this.elements + n !== h.total) {
      throw new PsiProtocolError(`${this.what}: last chunk leaves the list at ${this.elements + n} elements, ${h.total} announced`);
    }
    this.seen++;
    this.elements += n;
  }
}

/** Fisher–Yates over fixed-size entries of a buffer, in place. */
function shuffleEntries(buffer: Buffer, entryBytes: number): void {
  const tmp = Buffer.allocUnsafe(entryBytes);
  const draw = uniformDraw();
  for (let i = buffer.length / entryBytes - 1; i > 0; i--) {
    const j = draw(i + 1);
    buffer.copy(tmp, 0, i * entryBytes, (i + 1) * entryBytes);
    buffer.copy(buffer, i * entryBytes, j * entryBytes, (j + 1) * entryBytes);
    tmp.copy(buffer, j * entryBytes);
  }
}
