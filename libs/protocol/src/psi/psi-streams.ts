/**
 * What every PSI session streams and checks: a party's IDs in a secret shuffled order cut into
 * messages, the chunk headers and counts, the element-list checks, and the ordered reassembly of
 * the peer's chunks (used by balanced, star and unbalanced PSI alike).
 */
import { randomFillSync } from 'node:crypto';
import { PSI_ELEMENT_BYTES } from '@vfl/crypto';

export const PSI_MESSAGE_ELEMENTS = 65_536;
/** Largest peer set a party accepts (the shuffle index is 32-bit). */
export const PSI_MAX_ELEMENTS = 2 ** 31;
/** The peer sent something the protocol cannot accept. */
export class PsiProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PsiProtocolError';
  }
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
  constructor(
    ids: readonly string[] | IdSource,
    options: { messageElements?: number; shuffle?: (n: number) => Uint32Array } = {},
  ) {
    this.ids = Array.isArray(ids) ? { size: ids.length, at: (i) => (ids as readonly string[])[i] } : (ids as IdSource);
    if (this.ids.size === 0) throw new PsiProtocolError('cannot run PSI on an empty ID set');
    if (this.ids.size > PSI_MAX_ELEMENTS)
      throw new PsiProtocolError(`cannot run PSI on more than ${PSI_MAX_ELEMENTS} IDs`);
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
    if (!(Number.isInteger(k) && k >= 0 && k < this.chunkCount))
      throw new RangeError(`own chunk ${k} out of range 0..${this.chunkCount - 1}`);
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
export function secureShuffle(n: number): Uint32Array {
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
    const ok = (v: unknown, min: number, max: number) =>
      Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
    if (!h || !ok(h.total, 1, PSI_MAX_ELEMENTS) || !ok(h.chunks, 1, h.total) || !ok(h.chunk, 0, h.chunks - 1)) {
      throw new PsiProtocolError(`${this.what}: chunk header is malformed (chunk, chunks, total)`);
    }
    if (!this.header) {
      if (h.chunk !== 0) throw new PsiProtocolError(`${this.what}: stream starts at chunk ${h.chunk}, expected 0`);
      this.header = { chunk: 0, chunks: h.chunks, total: h.total };
    } else {
      if (h.total !== this.header.total || h.chunks !== this.header.chunks)
        throw new PsiProtocolError(`${this.what}: announced list size changed mid-stream`);
      if (h.chunk !== this.seen)
        throw new PsiProtocolError(
          `${this.what}: chunk ${h.chunk} arrived, expected chunk ${this.seen} (replayed or out of order)`,
        );
    }
    checkElementList(packed, `${this.what}, chunk ${h.chunk}`, this.elementBytes);
    const n = packed.length / this.elementBytes;
    if (n === 0) throw new PsiProtocolError(`${this.what}: chunk ${h.chunk} is empty`);
    if (this.elements + n > h.total)
      throw new PsiProtocolError(`${this.what}: chunks hold more than the ${h.total} elements announced`);
    if (h.chunk === h.chunks - 1 && this.elements + n !== h.total) {
      throw new PsiProtocolError(
        `${this.what}: last chunk leaves the list at ${this.elements + n} elements, ${h.total} announced`,
      );
    }
    this.seen++;
    this.elements += n;
  }
}

/** Fisher–Yates over fixed-size entries of a buffer, in place. */
export function shuffleEntries(buffer: Buffer, entryBytes: number): void {
  const tmp = Buffer.allocUnsafe(entryBytes);
  const draw = uniformDraw();
  for (let i = buffer.length / entryBytes - 1; i > 0; i--) {
    const j = draw(i + 1);
    buffer.copy(tmp, 0, i * entryBytes, (i + 1) * entryBytes);
    buffer.copy(buffer, i * entryBytes, j * entryBytes, (j + 1) * entryBytes);
    tmp.copy(buffer, j * entryBytes);
  }
}
