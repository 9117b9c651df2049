/**
 * Loads the node-seal WebAssembly module (Microsoft SEAL 4.x) once per process.
 *
 * node-seal 6.0.x is the last line that runs on Node 20 (7.x needs WASM features Node 22 adds).
 * The module is a process-wide resource, so the promise is memoised here rather than threaded
 * through every constructor; everything else receives the loaded library explicitly.
 */
import SEAL from 'node-seal';
import type { SEALLibrary } from 'node-seal/implementation/seal';

let loading: Promise<SEALLibrary> | undefined;

export function loadSeal(): Promise<SEALLibrary> {
  loading ??= SEAL();
  return loading;
}

export type { SEALLibrary };
