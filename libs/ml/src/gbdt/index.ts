/** Plaintext primitives of gradient-boosted trees, shared by the federated run and its plaintext reference. */
export * from './binning';
export * from './histogram';
export * from './objective';
export * from './split';
export * from './tree-grower';
export * from './booster';
export * from './reference';
