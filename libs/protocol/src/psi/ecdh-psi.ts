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
import { PSI_ELEMENT_BYTES, PsiGroupError, PsiEngine } from '@vfl/crypto';
import { BlindedSetStore, PSI_BUCKETS } from './blinded-set-store';
import {
  checkElementList,
  ChunkStream,
  IdSource,
  PsiChunkHeader,
  PsiProgressCounts,
  PsiProtocolError,
  PSI_MAX_ELEMENTS,
  PSI_MESSAGE_ELEMENTS,
  ShuffledIdList,
  shuffleEntries,
} from './psi-streams';

export { checkElementList, ChunkStream, PsiProtocolError, PSI_MAX_ELEMENTS, PSI_MESSAGE_ELEMENTS, ShuffledIdList };
export type { IdSource, PsiChunkHeader, PsiProgressCounts };

export const PSI_PROTOCOL_VERSION = 'vfl-ecdh-psi-v2';
/** Elements per peer message (2 MiB of elements). */
const OWN_ENTRY_BYTES = PSI_ELEMENT_BYTES + 4;

export interface PsiResult {
  /** Shared IDs in the order both parties agree on. */
  readonly sharedIds: string[];
  /** sha256 over the ordered doubly blinded values: equal on both sides iff they agree. */
  readonly orderDigest: string;
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
    this.peer = new BlindedSetStore(
      this.peerPositions ? OWN_ENTRY_BYTES : PSI_ELEMENT_BYTES,
      this.spillAboveBytes,
      this.spillDir,
    );
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
    return {
      ownDone: Math.floor((this.ownHashed + this.ownAnswered) / 2),
      ownTotal: this.list.size,
      peerDone: this.peerDone,
      peerTotal: this.peerStream.total,
    };
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
    if (k !== this.ownChunksAccepted)
      throw new PsiProtocolError(
        `doubly blinded answer for chunk ${k} arrived, expected chunk ${this.ownChunksAccepted}`,
      );
    checkElementList(packed, `doubly blinded answer to chunk ${k}`);
    const { start, end } = this.list.chunk(k);
    const expected = end - start;
    const n = packed.length / PSI_ELEMENT_BYTES;
    if (n !== expected)
      throw new PsiProtocolError(`doubly blinded answer to chunk ${k} has ${n} elements, expected ${expected}`);
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
    if (
      this.ownChunksAccepted !== this.chunkCount ||
      !this.peerStream.complete ||
      this.peerDone !== this.peerStream.total
    ) {
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
      const byId = new Uint32Array(count)
        .map((_, k) => k)
        .sort((x, y) => (ids[x] < ids[y] ? -1 : ids[x] > ids[y] ? 1 : 0));
      const digest = sha256.create();
      for (const k of byId)
        digest.update(utf8ToBytes(keys.toString('hex', k * PSI_ELEMENT_BYTES, (k + 1) * PSI_ELEMENT_BYTES)));
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
    if (k !== this.ownChunksAccepted)
      throw new PsiProtocolError(`chunk ${k} delivered, expected chunk ${this.ownChunksAccepted}`);
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
      for (let i = 0; i < bucket.length;) {
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
    if (filled > 0) yield { header: { chunk, chunks, total }, elements: pending.slice(0, filled) };
  }

  /** Cardinality mode, counter: one message of the peer's answers to our list. */
  acceptAnswerChunk(header: PsiChunkHeader, packed: Uint8Array): void {
    this.assertLive();
    if (header?.total !== this.list.size)
      throw new PsiProtocolError(`peer answers ${header?.total} elements, but our list has ${this.list.size}`);
    this.answerStream.check(header, packed);
    this.answers ??= new BlindedSetStore(PSI_ELEMENT_BYTES, this.spillAboveBytes, this.spillDir);
    this.answers.add(packed);
  }

  /** Cardinality mode, counter: |X ∩ Y|. */
  async finishCardinality(): Promise<number> {
    this.assertLive();
    if (
      this.ownChunksAccepted !== this.chunkCount ||
      !this.peerStream.complete ||
      !this.answerStream.complete ||
      !this.answers
    ) {
      throw new PsiProtocolError('PSI cardinality finished before the lists and the answers were exchanged');
    }
    try {
      let count = 0;
      for (let b = 0; b < PSI_BUCKETS; b++) {
        const set = this.peerBucketSet(b);
        const answers = this.answers.bucket(b);
        for (let i = 0; i < answers.length; i += PSI_ELEMENT_BYTES)
          if (set.has(answers.toString('latin1', i, i + PSI_ELEMENT_BYTES))) count++;
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
    if (!this.peerPositions)
      throw new PsiProtocolError('this session keeps no peer positions (not a star-mode label session)');
    if (
      this.ownChunksAccepted !== this.chunkCount ||
      !this.peerStream.complete ||
      this.peerDone !== this.peerStream.total
    ) {
      throw new PsiProtocolError('PSI finished before both directions were exchanged');
    }
    try {
      const matches = new Map<number, number>();
      for (let b = 0; b < PSI_BUCKETS; b++) {
        const peer = this.peer.bucket(b);
        const positions = new Map<string, number>();
        for (let i = 0; i < peer.length; i += OWN_ENTRY_BYTES)
          positions.set(peer.toString('latin1', i, i + PSI_ELEMENT_BYTES), peer.readUInt32LE(i + PSI_ELEMENT_BYTES));
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
