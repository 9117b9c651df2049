export * from './bin-merging';
export * from './column-statistics';
export * from './woe';
export * from './scorecard';
