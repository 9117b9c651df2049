/**
 * Where SecureBoost's BFV work runs: inline, or on worker threads that each hold their own SEAL
 * context (and the public key, to encrypt). Two tasks: encrypt coefficient vectors (the label
 * party's chunks), and masked sums of ciphertext × one-hot products (a feature party's bin sums),
 * split across the workers by output (each worker transforms the node's chunks once).
 */
import { BfvContext, BfvParameterSet } from './bfv-context';
import { BfvEncryptor, BfvProductSum } from './bfv-keys';
import { BfvSumOutput, nativeProductSums } from './bfv-native';
import { compiledWorkerScript, WorkerPool } from './worker-pool';

export type { BfvSumOutput } from './bfv-native';

export type BfvTask =
  | { readonly op: 'encrypt'; readonly coefficients: readonly BigUint64Array[] }
  | { readonly op: 'productSums'; readonly chunks: readonly Uint8Array[]; readonly outputs: readonly BfvSumOutput[] };

export interface BfvRuntime {
  readonly bfv: BfvContext;
  readonly encryptor?: BfvEncryptor;
  /** Products on SEAL's evaluator even where the C addon is built (the tests' reference). */
  readonly sealOnly?: boolean;
}

export interface BfvEngine {
  encrypt(coefficients: readonly BigUint64Array[]): Promise<Uint8Array[]>;
  /** Σ_c chunk_c · onehot(terms_c) + mask, one ciphertext per output. */
  productSums(chunks: readonly Uint8Array[], outputs: readonly BfvSumOutput[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

export function runBfvTask(rt: BfvRuntime, task: BfvTask): Uint8Array[] {
  const { bfv } = rt;
  if (task.op === 'encrypt') {
    if (!rt.encryptor) throw new Error('this BFV engine holds no public key');
    return task.coefficients.map((c) => rt.encryptor!.encrypt(c));
  }
  if (!rt.sealOnly) {
    const native = nativeProductSums(bfv, task.chunks, task.outputs);
    if (native) return native;
  }
  const prepared = task.chunks.map((c, i) => BfvProductSum.prepare(bfv, c, `chunk ${i}`));
  try {
    return task.outputs.map((output) => {
      if (output.terms.length !== prepared.length) throw new Error('one term list per chunk is expected');
      const sum = new BfvProductSum(bfv);
      try {
        prepared.forEach((cipher, c) => sum.addOneHot(cipher, output.terms[c]));
        return sum.finish(output.mask);
      } finally {
        sum.dispose();
      }
    });
  } finally {
    for (const c of prepared) c.delete();
  }
}

export class InlineBfvEngine implements BfvEngine {
  /** `owned`: an encryptor this engine made, disposed when it closes. */
  constructor(
    private readonly rt: BfvRuntime,
    private readonly owned?: BfvEncryptor,
  ) {}

  async encrypt(coefficients: readonly BigUint64Array[]): Promise<Uint8Array[]> {
    return runBfvTask(this.rt, { op: 'encrypt', coefficients });
  }

  async productSums(chunks: readonly Uint8Array[], outputs: readonly BfvSumOutput[]): Promise<Uint8Array[]> {
    return runBfvTask(this.rt, { op: 'productSums', chunks, outputs });
  }

  close(): Promise<void> {
    this.owned?.dispose();
    return Promise.resolve();
  }
}

export interface BfvWorkerInit {
  readonly params: BfvParameterSet;
  readonly publicKey?: Uint8Array;
}

export class WorkerBfvEngine implements BfvEngine {
  private readonly pool: WorkerPool<Uint8Array[]>;

  constructor(params: BfvParameterSet, threads: number, publicKey?: Uint8Array) {
    this.pool = new WorkerPool(compiledWorkerScript('bfv-worker'), threads, {
      name: 'BFV',
      workerData: () => ({ data: { params, publicKey } satisfies BfvWorkerInit }),
    });
  }

  async encrypt(coefficients: readonly BigUint64Array[]): Promise<Uint8Array[]> {
    const parts = await Promise.all(
      this.shares(coefficients).map((share) => this.pool.run({ task: { op: 'encrypt', coefficients: share } })),
    );
    return parts.flat();
  }

  async productSums(chunks: readonly Uint8Array[], outputs: readonly BfvSumOutput[]): Promise<Uint8Array[]> {
    // Each worker gets its own copy of the chunks, moved rather than cloned (a view into a
    // message would be cloned whole).
    const parts = await Promise.all(
      this.shares(outputs).map((share) => {
        const own = chunks.map((c) => c.slice());
        return this.pool.run(
          { task: { op: 'productSums', chunks: own, outputs: share } },
          own.map((c) => c.buffer),
        );
      }),
    );
    return parts.flat();
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Contiguous shares, one per worker (fewer when there are fewer items). */
  private shares<T>(items: readonly T[]): T[][] {
    const n = Math.min(this.pool.size, items.length);
    const out: T[][] = [];
    for (let w = 0; w < n; w++)
      out.push(items.slice(Math.floor((w * items.length) / n), Math.floor(((w + 1) * items.length) / n)));
    return out;
  }
}

/** Workers with `threads` ≥ 1, else inline; with `publicKey`, an engine that encrypts. */
export function createBfvEngine(bfv: BfvContext, threads: number, publicKey?: Uint8Array): BfvEngine {
  if (threads >= 1) return new WorkerBfvEngine(bfv.params, threads, publicKey);
  const encryptor = publicKey ? BfvEncryptor.fromPublicKey(bfv, publicKey) : undefined;
  return new InlineBfvEngine({ bfv, encryptor }, encryptor);
}
