/**
 * Loads the node-seal WebAssembly module (Microsoft SEAL 4.x) once per process.
 *
 * node-seal 6.0.x is the last line that runs on Node 20 (7.x needs WASM features Node 22 adds).
 * The module is a process-wide resource, so the promise is memoised here rather than threaded
 * through every constructor; everything else receives the loaded library explicitly.
 */
import SEAL from 'node-seal';
import type { ComprModeType } from 'node-seal/implementation/compr-mode-type';
import type { SchemeType } from 'node-seal/implementation/scheme-type';
import type { SEALLibrary as NodeSealLibrary } from 'node-seal/implementation/seal';
import type { SecurityLevel } from 'node-seal/implementation/security-level';

/** Each member of a node-seal enum object, typed as what the API's parameters accept. */
type SealEnum<E> = { readonly [K in keyof E]: E };

/**
 * node-seal's typings declare every enum member (`ComprModeType.none`, `SchemeType.ckks`, …) as
 * `any` while its methods take the enum object's type: this view types the members as those
 * parameters expect, so no `any` leaks into the calls. Types only; the object is node-seal's own.
 */
export type SEALLibrary = Omit<NodeSealLibrary, 'ComprModeType' | 'SchemeType' | 'SecurityLevel'> & {
  readonly ComprModeType: SealEnum<ComprModeType>;
  readonly SchemeType: SealEnum<SchemeType>;
  readonly SecurityLevel: SealEnum<SecurityLevel>;
};

let loading: Promise<SEALLibrary> | undefined;

export function loadSeal(): Promise<SEALLibrary> {
  loading ??= SEAL();
  return loading;
}
