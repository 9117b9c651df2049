/**
 * Picks the TensorFlow.js backend for local model math, once per process:
 *   1. @tensorflow/tfjs-node (native libtensorflow) when that optional dependency is installed;
 *   2. otherwise @tensorflow/tfjs with the WebAssembly backend (SIMD when the runtime has it);
 *   3. the pure-JS CPU backend as a last resort.
 * The result names what ran so job summaries and benchmarks can report it.
 *
 * tfjs-backend-wasm's multi-threaded build needs browser Web Workers (blob: URLs), which Node's
 * worker_threads refuse, so under Node the WASM backend runs single-threaded; parallelism comes
 * from running parties in separate processes.
 */
import * as path from 'node:path';
import type * as Tf from '@tensorflow/tfjs';

export interface TensorflowRuntime {
  readonly tf: typeof Tf;
  /** 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  readonly backend: string;
  readonly simd: boolean;
  readonly threads: boolean;
  /** Human-readable, e.g. "tfjs 4.22.0 wasm (simd, 1 thread)". */
  readonly description: string;
}

let runtime: Promise<TensorflowRuntime> | undefined;

export function initTensorflow(): Promise<TensorflowRuntime> {
  runtime ??= selectBackend();
  return runtime;
}

async function selectBackend(): Promise<TensorflowRuntime> {
  const native = tryRequire<typeof Tf>('@tensorflow/tfjs-node');
  if (native) {
    await native.ready();
    return describe(native, native.getBackend(), false, true);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tfjs-node is not installed
  const tf = require('@tensorflow/tfjs') as typeof Tf;
  const wasm = tryRequire<{ setWasmPaths(prefix: string): void }>('@tensorflow/tfjs-backend-wasm');
  if (wasm) {
    wasm.setWasmPaths(
      path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep,
    );
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (await quietly(() => tf.setBackend('wasm'))) {
      await tf.ready();
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      return describe(tf, 'wasm', simd, false);
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return describe(tf, 'cpu', false, false);
}

function describe(tf: typeof Tf, backend: string, simd: boolean, threads: boolean): TensorflowRuntime {
  const features = backend === 'wasm' ? ` (${simd ? 'simd' : 'no simd'}, ${threads ? 'threads' : '1 thread'})` : '';
  return { tf, backend, simd, threads, description: `tfjs ${tf.version.tfjs} ${backend}${features}` };
}

function tryRequire<T>(name: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional packages: absent is an answer, not an error
    return require(name) as T;
  } catch {
    return undefined;
  }
}

async function quietly(f: () => Promise<boolean>): Promise<boolean> {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    return await f();
  } catch {
    return false;
  } finally {
    console.warn = warn;
  }
}
