/** Public API of the data library: party tables, validation errors, seeded PRNG, synthetic demo data. */
export { DataValidationError } from './data-validation-error';
export type { DataErrorCode, DataErrorLocation } from './data-validation-error';
export { parsePartyTable, loadPartyTable, selectRows, featureMatrixRow } from './party-table';
export type { PartyTable, LoadTableOptions } from './party-table';
export { SeededRandom } from './seeded-random';
export {
  generateSyntheticVfl,
  writeSyntheticVfl,
  writeWideSynthetic,
  BANK_COLUMNS,
  BANK_LABEL_COLUMN,
  ECOMMERCE_COLUMNS,
} from './synthetic';
export type { SyntheticOptions, SyntheticTables } from './synthetic';
export * from './id-normalisation';
export * from './csv-records';
export { resolveDataPath } from './data-root';
export type { CategoricalColumns, ProblemSink } from './party-table';
export * from './preprocessing/spec';
export * from './preprocessing/fitted';
export * from './table-check';
export { readLabelColumn, OBJECTIVES, MAX_CLASSES } from './label-column';
export type { Objective, LabelColumn } from './label-column';
