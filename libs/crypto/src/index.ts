/** The crypto library's public surface (what other libs, apps, scripts and tests import as @vfl/crypto). */
export * from './bfv-context';
export * from './bfv-engine';
export * from './bfv-keys';
export * from './ckks-context';
export * from './ckks-engine';
export * from './ckks-keys';
export * from './ckks-parameters';
export * from './peer-seal';
export * from './psi-engine';
export * from './psi-group';
export { loadNativeHashToGroup, NATIVE_ADDON_PATH } from './psi-native';
export * from './kkrt-oprf';
export { buildCuckooTable, cuckooBin, cuckooBinCount, digestIds, CUCKOO_HASHES, type CuckooTable } from './kkrt-cuckoo';
export { columnsToRows, transpose32 } from './kkrt-bits';
export * from './seal-runtime';
export * from './signing-identity';
export * from './signing-key-file';
export * from './worker-pool';
