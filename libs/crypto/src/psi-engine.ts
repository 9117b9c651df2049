/**
 * Bulk group operations for ECDH-PSI: hash-and-blind a list of IDs, blind a packed list of a
 * peer's elements. `InlinePsiEngine` runs them on the calling thread in chunks (yielding between
 * chunks so the service stays responsive); `WorkerPsiEngine` spreads the chunks over worker
 * threads, one per core, with libsodium in each. Both produce byte-identical results.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { utf8ToBytes } from '@noble/hashes/utils';
import {
  PSI_ELEMENT_BYTES,
  PsiGroup,
  PsiGroupError,
  SodiumX25519Group,
  defaultPsiGroup,
  loadSodium,
} from './psi-group';
import { compiledWorkerScript, WorkerPool } from './worker-pool';
import { loadNativeHashToGroup } from './psi-native';
import { blindInChunks, hashAndBlindInChunks } from './psi-chunks';

/** Elements per chunk: large enough to amortise a message to a worker, small enough to interleave. */
export const PSI_CHUNK_ELEMENTS = 4096;

export type PsiProgress = (elementsDone: number) => void;

export interface PsiEngine {
  /** Group implementation and thread count, for logs and reports. */
  readonly name: string;
  readonly threads: number;
  randomScalar(): Uint8Array;
  /** scalar · H(id) for every id, packed 32 bytes each, in input order. */
  hashAndBlind(
    scalar: Uint8Array,
    ids: readonly string[],
    dst: Uint8Array,
    onProgress?: PsiProgress,
  ): Promise<Uint8Array>;
  /**
   * scalar · e for every element of a peer's packed list, in order.
   * @param firstIndex the first element's index in the peer's whole list, for error messages
   * @throws PsiGroupError naming the first element index that is invalid or of low order.
   */
  blind(scalar: Uint8Array, packed: Uint8Array, firstIndex?: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** One chunk's work; the same code runs inline and inside a worker. */
export function hashAndBlindChunk(
  group: PsiGroup,
  scalar: Uint8Array,
  ids: readonly string[],
  dst: Uint8Array,
): Uint8Array {
  const messages = ids.map((id) => utf8ToBytes(id));
  if (group instanceof SodiumX25519Group) return group.multiplyPacked(scalar, group.hashToGroupPacked(messages, dst));
  const out = new Uint8Array(ids.length * PSI_ELEMENT_BYTES);
  messages.forEach((m, i) => out.set(group.multiply(scalar, group.hashToGroup(m, dst)), i * PSI_ELEMENT_BYTES));
  return out;
}

/** One chunk of a peer's elements; `offset` (in elements) makes error messages name the element. */
export function blindChunk(group: PsiGroup, scalar: Uint8Array, packed: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(packed.length);
  for (let i = 0; i < packed.length; i += PSI_ELEMENT_BYTES) {
    try {
      out.set(group.multiply(scalar, packed.subarray(i, i + PSI_ELEMENT_BYTES)), i);
    } catch (e) {
      if (e instanceof PsiGroupError)
        throw new PsiGroupError(e.code, `peer element ${offset + i / PSI_ELEMENT_BYTES}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

function checkPacked(packed: Uint8Array): void {
  if (!(packed instanceof Uint8Array)) throw new PsiGroupError('INVALID_ELEMENT', 'expected a binary element list');
  if (packed.length % PSI_ELEMENT_BYTES !== 0) {
    throw new PsiGroupError(
      'INVALID_ELEMENT',
      `element list length ${packed.length} is not a multiple of ${PSI_ELEMENT_BYTES}`,
    );
  }
}

/** Runs on the calling thread, one chunk at a time. */
export class InlinePsiEngine implements PsiEngine {
  readonly threads = 1;
  readonly name: string;

  constructor(private readonly group: PsiGroup = defaultPsiGroup()) {
    this.name = `${group.name} (inline)`;
  }

  randomScalar(): Uint8Array {
    return this.group.randomScalar();
  }

  async hashAndBlind(
    scalar: Uint8Array,
    ids: readonly string[],
    dst: Uint8Array,
    onProgress?: PsiProgress,
  ): Promise<Uint8Array> {
    const out = new Uint8Array(ids.length * PSI_ELEMENT_BYTES);
    for (let start = 0; start < ids.length; start += PSI_CHUNK_ELEMENTS) {
      const chunk = ids.slice(start, start + PSI_CHUNK_ELEMENTS);
      out.set(hashAndBlindChunk(this.group, scalar, chunk, dst), start * PSI_ELEMENT_BYTES);
      onProgress?.(start + chunk.length);
      await yieldToEventLoop();
    }
    return out;
  }

  async blind(scalar: Uint8Array, packed: Uint8Array, firstIndex = 0): Promise<Uint8Array> {
    checkPacked(packed);
    const out = new Uint8Array(packed.length);
    const step = PSI_CHUNK_ELEMENTS * PSI_ELEMENT_BYTES;
    for (let start = 0; start < packed.length; start += step) {
      out.set(
        blindChunk(this.group, scalar, packed.subarray(start, start + step), firstIndex + start / PSI_ELEMENT_BYTES),
        start,
      );
      await yieldToEventLoop();
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** A task sent to a PSI worker (see psi-worker.ts). */
export type PsiWorkerTask =
  | {
      readonly id: number;
      readonly op: 'hashAndBlind';
      readonly scalar: Uint8Array;
      readonly dst: Uint8Array;
      readonly ids: string[];
    }
  | {
      readonly id: number;
      readonly op: 'blind';
      readonly scalar: Uint8Array;
      readonly packed: Uint8Array;
      readonly offset: number;
    };

export type PsiWorkerReply =
  | { readonly id: number; readonly result: Uint8Array }
  | {
      readonly id: number;
      readonly error: { readonly message: string; readonly code?: 'INVALID_ELEMENT' | 'IDENTITY' };
    };

type TaskBody =
  { op: 'hashAndBlind'; dst: Uint8Array; ids: string[] } | { op: 'blind'; packed: Uint8Array; offset: number };

/** Spreads chunks over worker threads, each with its own libsodium (so it needs sodium-native). */
export class WorkerPsiEngine implements PsiEngine {
  readonly name: string;
  readonly threads: number;
  private readonly pool: WorkerPool<Uint8Array>;

  constructor(threads: number = availableParallelism()) {
    if (!loadSodium()) throw new Error('WorkerPsiEngine needs sodium-native, which does not load on this platform');
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`PSI threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    // Which hash to the group the threads run (same bytes either way): the C addon's or libsodium's.
    const hash = loadNativeHashToGroup() ? 'C hash to the group' : 'libsodium hash to the group';
    this.name = `x25519-ell2s-sodium, ${hash} (${threads} worker thread${threads === 1 ? '' : 's'})`;
    this.pool = new WorkerPool(compiledWorkerScript('psi-worker'), threads, {
      name: 'PSI',
      error: (e) => (e.code ? new PsiGroupError(e.code as PsiGroupError['code'], e.message) : new Error(e.message)),
    });
  }

  randomScalar(): Uint8Array {
    return new Uint8Array(randomBytes(32));
  }

  async hashAndBlind(
    scalar: Uint8Array,
    ids: readonly string[],
    dst: Uint8Array,
    onProgress?: PsiProgress,
  ): Promise<Uint8Array> {
    return hashAndBlindInChunks(
      ids,
      PSI_CHUNK_ELEMENTS,
      (slice) => this.run(scalar, { op: 'hashAndBlind', dst, ids: [...slice] }),
      onProgress,
    );
  }

  async blind(scalar: Uint8Array, packed: Uint8Array, firstIndex = 0): Promise<Uint8Array> {
    checkPacked(packed);
    // Each chunk a copy of its own to hand over (a Node Buffer's slice would be a view of the whole list).
    return blindInChunks(packed, PSI_CHUNK_ELEMENTS, firstIndex, (slice, offset) =>
      this.run(scalar, { op: 'blind', packed: new Uint8Array(slice), offset }),
    );
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private run(scalar: Uint8Array, body: TaskBody): Promise<Uint8Array> {
    return this.pool.run({ scalar, ...body }, body.op === 'blind' ? [body.packed.buffer] : []);
  }
}

/** Worker threads when libsodium loads and more than one core is available, inline otherwise. */
export function createPsiEngine(threads: number = availableParallelism()): PsiEngine {
  if (threads > 1 && loadSodium()) return new WorkerPsiEngine(threads);
  return new InlinePsiEngine();
}

/**
 * Wraps an engine and counts the group operations it is asked for (a hash-to-group and a scalar
 * multiplication per ID in hashAndBlind, one multiplication per element in blind), with the wall
 * time during which at least one call was running. For tests and benches that check who pays what.
 */
export class CountingPsiEngine implements PsiEngine {
  hashes = 0;
  multiplications = 0;
  private busyNs = 0n;
  private inflight = 0;
  private since = 0n;

  constructor(private readonly inner: PsiEngine) {}

  get name(): string {
    return this.inner.name;
  }

  get threads(): number {
    return this.inner.threads;
  }

  /** Hash-to-group plus scalar multiplications. */
  get groupOps(): number {
    return this.hashes + this.multiplications;
  }

  /** Wall seconds with a call in flight (overlapping calls count once). */
  get busySeconds(): number {
    return Number(this.busyNs) / 1e9;
  }

  randomScalar(): Uint8Array {
    return this.inner.randomScalar();
  }

  hashAndBlind(
    scalar: Uint8Array,
    ids: readonly string[],
    dst: Uint8Array,
    onProgress?: PsiProgress,
  ): Promise<Uint8Array> {
    this.hashes += ids.length;
    this.multiplications += ids.length;
    return this.timed(this.inner.hashAndBlind(scalar, ids, dst, onProgress));
  }

  blind(scalar: Uint8Array, packed: Uint8Array, firstIndex?: number): Promise<Uint8Array> {
    this.multiplications += Math.floor(packed.length / PSI_ELEMENT_BYTES);
    return this.timed(this.inner.blind(scalar, packed, firstIndex));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async timed<T>(work: Promise<T>): Promise<T> {
    if (this.inflight++ === 0) this.since = process.hrtime.bigint();
    try {
      return await work;
    } finally {
      if (--this.inflight === 0) this.busyNs += process.hrtime.bigint() - this.since;
    }
  }
}
