/**
 * A fixed set of worker threads, one message at a time each, behind the PSI and CKKS engines:
 * a queue in front (background work behind everything else), busy workers keeping the process
 * alive and idle ones not, and a crashed worker dropped while the rest carry on.
 *
 * A worker gets `{ id, ...message }` and answers `{ id, result }` or `{ id, error: { message, code? } }`.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export type WorkerReply<R> =
  | { readonly id: number; readonly result: R }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

export interface WorkerPoolOptions {
  /** "PSI", "CKKS": how errors name the pool. */
  readonly name: string;
  /** Each worker's workerData and the buffers handed over with it. */
  readonly workerData?: () => { data: unknown; transfer?: ArrayBuffer[] };
  /** The error a worker's `{ message, code }` becomes. */
  readonly error?: (e: { message: string; code?: string }) => Error;
}

interface Pending<R> {
  readonly message: object;
  readonly transfer: ArrayBuffer[];
  readonly background: boolean;
  readonly resolve: (result: R) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The compiled worker script `<file>.js` beside this module, or, under ts-jest (where this
 * module is TypeScript source), in the build output (`npm test` builds first).
 */
export function compiledWorkerScript(file: string): string {
  const sibling = path.join(__dirname, `${file}.js`);
  if (existsSync(sibling)) return sibling;
  const built = path.resolve(__dirname, `../../../dist/libs/crypto/src/${file}.js`);
  if (existsSync(built)) return built;
  throw new Error(`worker script ${file} not found (looked for ${sibling} and ${built}); run "npm run build"`);
}

export class WorkerPool<R> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending<R>[] = [];
  private readonly inflight = new Map<Worker, Pending<R>>();
  private nextId = 1;
  private closed = false;

  constructor(
    script: string,
    threads: number,
    private readonly o: WorkerPoolOptions,
  ) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`${o.name} worker threads must be a positive integer, got ${threads}`);
    for (let i = 0; i < threads; i++) {
      const init = o.workerData?.();
      const worker = new Worker(script, init ? { workerData: init.data, transferList: init.transfer ?? [] } : {});
      worker.unref();
      worker.on('message', (reply: WorkerReply<R>) => this.settle(worker, reply));
      worker.on('error', (error) => this.fail(worker, error));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Live workers. */
  get size(): number {
    return this.workers.length;
  }

  /** Runs one message on the next free worker; `background` work waits behind all the rest. */
  run(message: object, transfer: ArrayBuffer[] = [], background = false): Promise<R> {
    if (this.closed) return Promise.reject(new Error(`${this.o.name} engine closed`));
    if (this.workers.length === 0) return Promise.reject(new Error(`all ${this.o.name} workers crashed`));
    return new Promise((resolve, reject) => {
      const pending: Pending<R> = { message, transfer, background, resolve, reject };
      const firstBackground = background ? -1 : this.queue.findIndex((p) => p.background);
      this.queue.splice(firstBackground === -1 ? this.queue.length : firstBackground, 0, pending);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error(`${this.o.name} engine closed`));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.inflight.set(worker, pending);
      worker.ref(); // a busy worker keeps the process alive; an idle one does not
      worker.postMessage({ id: this.nextId++, ...pending.message }, pending.transfer);
    }
  }

  private settle(worker: Worker, reply: WorkerReply<R>): void {
    const pending = this.inflight.get(worker);
    this.inflight.delete(worker);
    this.idle.push(worker);
    worker.unref();
    if (pending) {
      if ('result' in reply) pending.resolve(reply.result);
      else pending.reject(this.o.error ? this.o.error(reply.error) : new Error(reply.error.message));
    }
    this.dispatch();
  }

  private fail(worker: Worker, error: Error): void {
    const pending = this.inflight.get(worker);
    this.inflight.delete(worker);
    pending?.reject(new Error(`${this.o.name} worker crashed: ${error.message}`));
    // A crashed worker is not reused; the rest carry on.
    this.workers.splice(this.workers.indexOf(worker), 1);
    const idle = this.idle.indexOf(worker);
    if (idle !== -1) this.idle.splice(idle, 1);
    if (this.workers.length === 0)
      for (const p of this.queue.splice(0)) p.reject(new Error(`all ${this.o.name} workers crashed`));
  }
}
