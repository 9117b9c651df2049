/**
 * Where a party's CKKS work runs: on the calling thread (InlineCkksEngine) or spread over worker
 * threads, each with its own SEAL instance and the job's public keys (WorkerCkksEngine).
 *
 * Three kinds of work leave the calling thread:
 * - inner products Σ_c Enc(v_c) ⊗ p_c (+ r), one task per output ciphertext, so that a party's
 *   gradient ciphertexts are computed in parallel (and in parallel with the other parties' in a
 *   process that hosts several);
 * - encryptions of zero, made ahead of need: encrypting then costs an encode and an addition on
 *   the calling thread (Enc(m) = Enc(0) + m, which is how SEAL encrypts) instead of the ~6 ms of
 *   public-key sampling and NTTs. Each Enc(0) is used once;
 * - decryptions, for the key holder (the coordinator), whose workers then hold the secret key.
 * Both engines run the same task code (runCkksTask), so they produce the same ciphertexts up to
 * the encryption randomness.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CiphertextExpectation, CkksContext, CkksError, CipherText } from './ckks-context';
import { CkksEncryptor, CkksPublicBundle } from './ckks-keys';
import type { CkksParameterSet } from './ckks-parameters';

/** Σ_c ciphertexts[c] ⊗ encode(plains[c]) (+ encode(add)), rescaled once or not, serialized. */
export interface ProductSumTask {
  readonly ciphertexts: readonly Uint8Array[];
  readonly expect: CiphertextExpectation;
  readonly plains: readonly Float64Array[];
  readonly plainScale: number;
  readonly rescale: boolean;
  /** Values added to every slot after the products (at the product's level and scale). */
  readonly add?: Float64Array;
}

export type CkksTask =
  | ({ readonly op: 'productSum' } & ProductSumTask)
  | { readonly op: 'encryptZero'; readonly level: number; readonly scale: number }
  | { readonly op: 'decrypt'; readonly ciphertext: Uint8Array; readonly expect: CiphertextExpectation };

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

export function runCkksTask(rt: CkksRuntime, task: CkksTask): Uint8Array | Float64Array {
  const { ckks } = rt;
  if (task.op === 'decrypt') {
    if (!rt.keys) throw new Error('this CKKS engine holds no secret key');
    const ct = ckks.deserialize(task.ciphertext, task.expect);
    try {
      return rt.keys.decrypt(ct);
    } finally {
      ct.delete();
    }
  }
  if (task.op === 'encryptZero') {
    const ct = encryptorOf(rt).encrypt(new Float64Array(0), task.scale, task.level);
    try {
      return ckks.serialize(ct);
    } finally {
      ct.delete();
    }
  }
  if (task.plains.length !== task.ciphertexts.length) throw new RangeError(`productSum: ${task.plains.length} plaintexts for ${task.ciphertexts.length} ciphertexts`);
  let sum: CipherText | undefined;
  try {
    task.ciphertexts.forEach((bytes, c) => {
      const ct = ckks.deserialize(bytes, task.expect);
      try {
        const plain = ckks.encode(task.plains[c], task.expect.level, task.plainScale);
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
      } finally {
        ct.delete();
      }
    });
    if (!sum) throw new RangeError('productSum: no ciphertexts');
    if (task.add) ckks.addValues(sum, task.add);
    return ckks.serialize(sum);
  } finally {
    sum?.delete();
  }
}

export interface CkksEngine {
  /** "inline" or "N worker threads", for reports. */
  readonly description: string;
  /** The task's `plains` and `add` buffers pass to the engine (a worker engine transfers them). */
  productSum(task: ProductSumTask): Promise<Uint8Array>;
  /** All slots of a ciphertext, checked against `expect` first (needs the secret key). */
  decrypt(ciphertext: Uint8Array, expect: CiphertextExpectation): Promise<Float64Array>;
  /** Encrypts at `level` and `scale` on the calling thread's context, from a ready Enc(0) when there is one. */
  encrypt(values: ArrayLike<number>, scale: number, level: number): CipherText;
  /** Makes Enc(0)s at `level` and `scale` ahead of the first encryptions (a no-op inline). */
  prepare(scale: number, level: number): Promise<void>;
  close(): Promise<void>;
}

/** Everything on the calling thread. */
export class InlineCkksEngine implements CkksEngine {
  readonly description = 'inline';

  constructor(private readonly rt: CkksRuntime) {}

  async productSum(task: ProductSumTask): Promise<Uint8Array> {
    return runCkksTask(this.rt, { op: 'productSum', ...task }) as Uint8Array;
  }

  async decrypt(ciphertext: Uint8Array, expect: CiphertextExpectation): Promise<Float64Array> {
    return runCkksTask(this.rt, { op: 'decrypt', ciphertext, expect }) as Float64Array;
  }

  encrypt(values: ArrayLike<number>, scale: number, level: number): CipherText {
    return encryptorOf(this.rt).encrypt(values, scale, level);
  }

  async prepare(): Promise<void> {}

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
export type CkksWorkerReply =
  | { readonly id: number; readonly result: Uint8Array | Float64Array }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

function workerScript(): string {
  // Under ts-jest this module is TypeScript source; the worker then comes from the build output.
  const sibling = path.join(__dirname, 'ckks-worker.js');
  if (existsSync(sibling)) return sibling;
  const built = path.resolve(__dirname, '../../../dist/libs/crypto/src/ckks-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`CKKS worker script not found (looked for ${sibling} and ${built}); run "npm run build"`);
}

interface Pending {
  readonly message: CkksWorkerMessage;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (result: Uint8Array | Float64Array) => void;
  readonly reject: (error: Error) => void;
}

/** Encryptions of zero kept ready for one (level, scale). */
interface ZeroReserve {
  readonly ready: Uint8Array[];
  readonly inFlight: Set<Promise<void>>;
  /** How many to keep: the largest burst asked for so far. */
  target: number;
}

export class WorkerCkksEngine implements CkksEngine {
  readonly description: string;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<Worker, Pending>();
  private readonly zeros = new Map<string, ZeroReserve>();
  private readonly sharedCopies = new WeakMap<Uint8Array, Uint8Array>();
  /** Encryptions served from a ready Enc(0), and those that found none and ran inline. */
  readonly encryptions = { fromReserve: 0, inline: 0 };
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly rt: CkksRuntime,
    threads: number,
  ) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`CKKS worker threads must be a positive integer, got ${threads}`);
    this.description = `${threads} worker thread${threads === 1 ? '' : 's'}`;
    const script = workerScript();
    for (let i = 0; i < threads; i++) {
      const secretKey = rt.keys?.secretKeyBytes?.();
      const init: CkksWorkerInit = { params: rt.ckks.params, bundle: rt.encryptor?.bundle, secretKey };
      const worker = new Worker(script, { workerData: init, transferList: secretKey ? [secretKey.buffer as ArrayBuffer] : [] });
      worker.unref();
      worker.on('message', (reply: CkksWorkerReply) => this.settle(worker, reply));
      worker.on('error', (error) => this.fail(worker, error));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  async productSum(task: ProductSumTask): Promise<Uint8Array> {
    const transfer = [...task.plains.map((p) => p.buffer as ArrayBuffer), ...(task.add ? [task.add.buffer as ArrayBuffer] : [])];
    return (await this.run({ op: 'productSum', ...task, ciphertexts: task.ciphertexts.map((c) => this.shared(c)) }, transfer)) as Uint8Array;
  }

  async decrypt(ciphertext: Uint8Array, expect: CiphertextExpectation): Promise<Float64Array> {
    return (await this.run({ op: 'decrypt', ciphertext: this.shared(ciphertext), expect })) as Float64Array;
  }

  /**
   * Ciphertexts go to the workers in shared memory: postMessage would copy a view's whole buffer
   * (a ciphertext decoded from a message is a view into all of it), once per task that reads it.
   */
  private shared(bytes: Uint8Array): Uint8Array {
    if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
    let copy = this.sharedCopies.get(bytes);
    if (!copy) {
      copy = new Uint8Array(new SharedArrayBuffer(bytes.length));
      copy.set(bytes);
      this.sharedCopies.set(bytes, copy);
    }
    return copy;
  }

  /** Fills the reserve of Enc(0) at `level` and `scale`, so that the first encryptions find them ready. */
  async prepare(scale: number, level: number): Promise<void> {
    const reserve = this.reserve(level, scale);
    this.refill(reserve, level, scale);
    await Promise.all(reserve.inFlight);
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
    for (const p of this.queue.splice(0)) p.reject(new Error('CKKS engine closed'));
    this.zeros.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private refill(reserve: ZeroReserve, level: number, scale: number): void {
    while (!this.closed && reserve.ready.length + reserve.inFlight.size < reserve.target) {
      const made: Promise<void> = this.run({ op: 'encryptZero', level, scale }).then(
        (bytes) => {
          reserve.inFlight.delete(made);
          reserve.ready.push(bytes as Uint8Array);
        },
        () => {
          // A lost Enc(0) only means the next encryption runs inline.
          reserve.inFlight.delete(made);
        },
      );
      reserve.inFlight.add(made);
    }
  }

  private run(task: CkksTask, transfer: ArrayBuffer[] = []): Promise<Uint8Array | Float64Array> {
    if (this.closed) return Promise.reject(new Error('CKKS engine closed'));
    if (this.workers.length === 0) return Promise.reject(new Error('all CKKS workers crashed'));
    return new Promise((resolve, reject) => {
      // Work for the protocol goes ahead of zeros made for later.
      const pending: Pending = { message: { id: this.nextId++, task }, transfer, resolve, reject };
      if (task.op === 'encryptZero') this.queue.push(pending);
      else {
        const firstZero = this.queue.findIndex((p) => p.message.task.op === 'encryptZero');
        this.queue.splice(firstZero === -1 ? this.queue.length : firstZero, 0, pending);
      }
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.inflight.set(worker, pending);
      worker.ref(); // a busy worker keeps the process alive; an idle one does not
      worker.postMessage(pending.message, pending.transfer);
    }
  }

  private settle(worker: Worker, reply: CkksWorkerReply): void {
    const pending = this.inflight.get(worker);
    this.inflight.delete(worker);
    this.idle.push(worker);
    worker.unref();
    if (pending) {
      if ('result' in reply) pending.resolve(reply.result);
      else pending.reject(reply.error.code ? new CkksError(reply.error.code as CkksError['code'], reply.error.message) : new Error(reply.error.message));
    }
    this.dispatch();
  }

  private fail(worker: Worker, error: Error): void {
    const pending = this.inflight.get(worker);
    this.inflight.delete(worker);
    pending?.reject(new Error(`CKKS worker crashed: ${error.message}`));
    // A crashed worker is not reused; the rest carry on.
    this.workers.splice(this.workers.indexOf(worker), 1);
    const idle = this.idle.indexOf(worker);
    if (idle !== -1) this.idle.splice(idle, 1);
    if (this.workers.length === 0) for (const p of this.queue.splice(0)) p.reject(new Error('all CKKS workers crashed'));
  }
}

/** `threads` worker threads (default: one per core), or inline for 0 or on a single core. */
export function createCkksEngine(rt: CkksRuntime, threads: number = availableParallelism()): CkksEngine {
  return threads >= 1 && availableParallelism() > 1 ? new WorkerCkksEngine(rt, threads) : new InlineCkksEngine(rt);
}
