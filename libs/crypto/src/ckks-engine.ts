/**
 * Where a party's CKKS work runs: on the calling thread (InlineCkksEngine) or spread over worker
 * threads, each with its own SEAL instance and the job's public keys (WorkerCkksEngine).
 *
 * Three kinds of work leave the calling thread:
 * - inner products Σ_c Enc(v_c) ⊗ p_c (+ r), the outputs in one share per worker, so that a
 *   party's gradient ciphertexts are computed in parallel (and in parallel with the other
 *   parties' in a process that hosts several);
 * - encryptions of zero, made ahead of need: encrypting then costs an encode and an addition on
 *   the calling thread (Enc(m) = Enc(0) + m, which is how SEAL encrypts) instead of the ~6 ms of
 *   public-key sampling and NTTs. Each Enc(0) is used once;
 * - decryptions, for the key holder (the coordinator), whose workers then hold the secret key.
 * Both engines run the same task code (runCkksTask), so they produce the same ciphertexts up to
 * the encryption randomness.
 */
import { availableParallelism } from 'node:os';
import { CiphertextExpectation, CkksContext, CkksError, CipherText } from './ckks-context';
import { CkksEncryptor, CkksPublicBundle } from './ckks-keys';
import type { CkksParameterSet } from './ckks-parameters';
import { compiledWorkerScript, WorkerPool, WorkerReply } from './worker-pool';

/**
 * Inner products against one list of ciphertexts: output k is Σ_c ciphertexts[c] ⊗ encode(
 * outputs[k].plains[c]) (+ encode(outputs[k].add)), rescaled once or not, serialized. The
 * ciphertexts are parsed once per worker, however many outputs it computes.
 */
export interface ProductSumsTask {
  readonly ciphertexts: readonly Uint8Array[];
  readonly expect: CiphertextExpectation;
  readonly plainScale: number;
  readonly rescale: boolean;
  readonly outputs: readonly ProductSumOutput[];
}

export interface ProductSumOutput {
  readonly plains: readonly Float64Array[];
  /** Values added to every slot after the products (at the product's level and scale). */
  readonly add?: Float64Array;
}

export type CkksTask =
  | ({ readonly op: 'productSums' } & ProductSumsTask)
  | { readonly op: 'encryptZero'; readonly level: number; readonly scale: number }
  | { readonly op: 'decrypt'; readonly ciphertexts: readonly Uint8Array[]; readonly expect: CiphertextExpectation }
  | { readonly op: 'ready' };

/** What a task runs against: this thread's context and the job's public keys, or its secret key. */
export interface CkksRuntime {
  readonly ckks: CkksContext;
  readonly encryptor?: CkksEncryptor;
  readonly keys?: { decrypt(ct: CipherText): Float64Array; secretKeyBytes?(): Uint8Array };
}

function encryptorOf(rt: CkksRuntime): CkksEncryptor {
  if (!rt.encryptor) throw new Error('this CKKS engine has no public key to encrypt with');
  return rt.encryptor;
}

export function runCkksTask(rt: CkksRuntime, task: CkksTask): (Uint8Array | Float64Array)[] {
  const { ckks } = rt;
  if (task.op === 'ready') return [];
  if (task.op === 'decrypt') {
    const keys = rt.keys;
    if (!keys) throw new Error('this CKKS engine holds no secret key');
    return task.ciphertexts.map((bytes) => {
      const ct = ckks.deserialize(bytes, task.expect);
      try {
        return keys.decrypt(ct);
      } finally {
        ct.delete();
      }
    });
  }
  if (task.op === 'encryptZero') {
    const ct = encryptorOf(rt).encrypt(new Float64Array(0), task.scale, task.level);
    try {
      return [ckks.serialize(ct)];
    } finally {
      ct.delete();
    }
  }
  const inputs: CipherText[] = [];
  try {
    for (const bytes of task.ciphertexts) inputs.push(ckks.deserialize(bytes, task.expect));
    return task.outputs.map((out) => productSum(ckks, inputs, out, task));
  } finally {
    for (const ct of inputs) ct.delete();
  }
}

function productSum(
  ckks: CkksContext,
  inputs: readonly CipherText[],
  out: ProductSumOutput,
  task: ProductSumsTask,
): Uint8Array {
  if (out.plains.length !== inputs.length)
    throw new RangeError(`productSums: ${out.plains.length} plaintexts for ${inputs.length} ciphertexts`);
  if (inputs.length === 0) throw new RangeError('productSums: no ciphertexts');
  let sum: CipherText | undefined;
  try {
    inputs.forEach((ct, c) => {
      const plain = ckks.encode(out.plains[c], task.expect.level, task.plainScale);
      try {
        const product = task.rescale ? ckks.multiplyPlainRescale(ct, plain) : ckks.multiplyPlain(ct, plain);
        if (!sum) sum = product;
        else {
          try {
            ckks.evaluator.add(sum, product, sum);
          } finally {
            product.delete();
          }
        }
      } finally {
        plain.delete();
      }
    });
    if (out.add) ckks.addValues(sum!, out.add);
    return ckks.serialize(sum!);
  } finally {
    sum?.delete();
  }
}

export interface CkksEngine {
  /** One serialized ciphertext per output. The outputs' `plains` and `add` buffers pass to the engine (a worker engine transfers them). */
  productSums(task: ProductSumsTask): Promise<Uint8Array[]>;
  /** All slots of each ciphertext, checked against `expect` first (needs the secret key). */
  decrypt(ciphertexts: readonly Uint8Array[], expect: CiphertextExpectation): Promise<Float64Array[]>;
  /** Encrypts at `level` and `scale` on the calling thread's context, from a ready Enc(0) when there is one. */
  encrypt(values: ArrayLike<number>, scale: number, level: number): CipherText;
  /** Makes Enc(0)s at `level` and `scale` ahead of the first encryptions (a no-op inline). */
  prepare(scale: number, level: number): Promise<void>;
  /** Resolves once every worker has its SEAL instance and keys loaded (at once inline): start-up, kept out of the first round. */
  warm(): Promise<void>;
  close(): Promise<void>;
}

/** Everything on the calling thread. */
export class InlineCkksEngine implements CkksEngine {
  constructor(private readonly rt: CkksRuntime) {}

  async productSums(task: ProductSumsTask): Promise<Uint8Array[]> {
    return runCkksTask(this.rt, { op: 'productSums', ...task }) as Uint8Array[];
  }

  async decrypt(ciphertexts: readonly Uint8Array[], expect: CiphertextExpectation): Promise<Float64Array[]> {
    return runCkksTask(this.rt, { op: 'decrypt', ciphertexts, expect }) as Float64Array[];
  }

  encrypt(values: ArrayLike<number>, scale: number, level: number): CipherText {
    return encryptorOf(this.rt).encrypt(values, scale, level);
  }

  async prepare(): Promise<void> {}

  async warm(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Sent to a worker first: what it builds its runtime from. */
export interface CkksWorkerInit {
  readonly params: CkksParameterSet;
  readonly bundle?: CkksPublicBundle;
  /** The key holder's secret key, for decryption workers (zeroed once loaded). */
  readonly secretKey?: Uint8Array;
}

export type CkksWorkerMessage = { readonly id: number; readonly task: CkksTask };
export type CkksWorkerReply = WorkerReply<(Uint8Array | Float64Array)[]>;

/** Encryptions of zero kept ready for one (level, scale). */
interface ZeroReserve {
  readonly ready: Uint8Array[];
  readonly inFlight: Set<Promise<void>>;
  /** How many to keep: the largest burst asked for so far. */
  target: number;
}

export class WorkerCkksEngine implements CkksEngine {
  private readonly pool: WorkerPool<(Uint8Array | Float64Array)[]>;
  private readonly zeros = new Map<string, ZeroReserve>();
  /** Encryptions served from a ready Enc(0), and those that found none and ran inline. */
  readonly encryptions = { fromReserve: 0, inline: 0 };
  private closed = false;
  private warming?: Promise<void>;

  constructor(
    private readonly rt: CkksRuntime,
    threads: number,
  ) {
    this.pool = new WorkerPool(compiledWorkerScript('ckks-worker'), threads, {
      name: 'CKKS',
      workerData: () => {
        const secretKey = rt.keys?.secretKeyBytes?.();
        const data: CkksWorkerInit = { params: rt.ckks.params, bundle: rt.encryptor?.bundle, secretKey };
        return { data, transfer: secretKey ? [secretKey.buffer] : [] };
      },
      error: (e) => (e.code ? new CkksError(e.code as CkksError['code'], e.message) : new Error(e.message)),
    });
  }

  /** The outputs in one contiguous share per worker, so each parses the ciphertexts once. */
  async productSums(task: ProductSumsTask): Promise<Uint8Array[]> {
    const parts = await Promise.all(
      this.shares(task.outputs).map((outputs) => {
        // A ciphertext decoded from a message is a view into all of it, which postMessage would
        // copy whole: each task gets its own copy of the bytes, handed over, not cloned.
        const ciphertexts = task.ciphertexts.map(ownCopy);
        const transfer = [...ciphertexts, ...outputs.flatMap((o) => [...o.plains, ...(o.add ? [o.add] : [])])].map(
          (a) => a.buffer,
        );
        return this.run({ op: 'productSums', ...task, ciphertexts, outputs }, transfer);
      }),
    );
    return parts.flat() as Uint8Array[];
  }

  async decrypt(ciphertexts: readonly Uint8Array[], expect: CiphertextExpectation): Promise<Float64Array[]> {
    const parts = await Promise.all(
      this.shares(ciphertexts).map((share) => {
        const own = share.map(ownCopy);
        return this.run(
          { op: 'decrypt', ciphertexts: own, expect },
          own.map((c) => c.buffer),
        );
      }),
    );
    return parts.flat() as Float64Array[];
  }

  /** Up to one contiguous share of `items` per live worker, in order. */
  private shares<T>(items: readonly T[]): T[][] {
    const count = Math.max(1, Math.min(this.pool.size, items.length));
    const size = Math.ceil(items.length / count);
    return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
  }

  /** Fills the reserve of Enc(0) at `level` and `scale`, so that the first encryptions find them ready. */
  async prepare(scale: number, level: number): Promise<void> {
    const warm = this.warm(); // first, while every worker is idle
    const reserve = this.reserve(level, scale);
    this.refill(reserve, level, scale);
    await Promise.all([...reserve.inFlight, warm]);
  }

  /** One no-op per worker, sent while all are idle, so each worker takes one and loads SEAL first. */
  warm(): Promise<void> {
    this.warming ??= Promise.all(Array.from({ length: this.pool.size }, () => this.run({ op: 'ready' }))).then(
      () => undefined,
    );
    return this.warming;
  }

  private reserve(level: number, scale: number): ZeroReserve {
    const key = `${level}:${scale}`;
    let reserve = this.zeros.get(key);
    if (!reserve) this.zeros.set(key, (reserve = { ready: [], inFlight: new Set(), target: 2 }));
    return reserve;
  }

  encrypt(values: ArrayLike<number>, scale: number, level: number): CipherText {
    const reserve = this.reserve(level, scale);
    const zero = reserve.ready.shift();
    let ct: CipherText;
    if (zero) {
      this.encryptions.fromReserve++;
      ct = this.rt.ckks.deserialize(zero, { level, scale });
      try {
        this.rt.ckks.addValues(ct, values);
      } catch (e) {
        ct.delete();
        throw e;
      }
    } else {
      // None ready (the first of a burst): keep more next time.
      this.encryptions.inline++;
      ct = encryptorOf(this.rt).encrypt(values, scale, level);
      reserve.target = Math.min(64, reserve.target + 1);
    }
    this.refill(reserve, level, scale);
    return ct;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.zeros.clear();
    await this.pool.close();
  }

  private refill(reserve: ZeroReserve, level: number, scale: number): void {
    while (!this.closed && reserve.ready.length + reserve.inFlight.size < reserve.target) {
      const made: Promise<void> = this.run({ op: 'encryptZero', level, scale }, [], true).then(
        (bytes) => {
          reserve.inFlight.delete(made);
          reserve.ready.push(bytes[0] as Uint8Array);
        },
        () => {
          // A lost Enc(0) only means the next encryption runs inline.
          reserve.inFlight.delete(made);
        },
      );
      reserve.inFlight.add(made);
    }
  }

  /** Enc(0)s for later go in the background, behind the protocol's work. */
  private run(
    task: CkksTask,
    transfer: ArrayBuffer[] = [],
    background = false,
  ): Promise<(Uint8Array | Float64Array)[]> {
    return this.pool.run({ task }, transfer, background);
  }
}

/**
 * A copy with a buffer of its own, safe to hand to a worker. Not `.slice()`: on a Node Buffer (what
 * a transport decodes into) that is a view, and handing its buffer over would detach the message.
 */
function ownCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** `threads` worker threads (default: one per core), or inline for 0 or on a single core. */
export function createCkksEngine(rt: CkksRuntime, threads: number = availableParallelism()): CkksEngine {
  const used = ckksWorkerThreads(threads);
  return used > 0 ? new WorkerCkksEngine(rt, used) : new InlineCkksEngine(rt);
}

/** The worker threads createCkksEngine starts for `threads` on this machine: none on a single core. */
export function ckksWorkerThreads(
  threads: number = availableParallelism(),
  cores: number = availableParallelism(),
): number {
  return threads >= 1 && cores > 1 ? threads : 0;
}
