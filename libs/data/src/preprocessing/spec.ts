/**
 * What a party declares about its own columns in a job: which columns are features, how empty
 * cells are filled, and which text columns are categories and how they are encoded. Everything
 * here is applied by the party to its own data; nothing it fits (means, medians, category levels)
 * leaves the party, except as the number and generic names of its model's input columns.
 */
import { z } from 'zod';

/**
 * How an empty numeric cell is filled: `error` refuses the file (the default), `mean` / `median` /
 * `most-frequent` use the training rows' statistic, `zero` and `constant` (with `fillValue`) a
 * fixed number.
 */
export const MISSING_STRATEGIES = ['error', 'mean', 'median', 'zero', 'constant', 'most-frequent'] as const;
export type MissingStrategy = (typeof MISSING_STRATEGIES)[number];
export const missingStrategy = z.enum(MISSING_STRATEGIES);

/** How a text column becomes numbers: one column per frequent level plus "other", or one integer code. */
export const CATEGORY_ENCODINGS = ['one-hot', 'ordinal'] as const;
export type CategoryEncoding = (typeof CATEGORY_ENCODINGS)[number];

/** One-hot columns per categorical column unless `maxLevels` says otherwise (the last is "other"). */
export const DEFAULT_MAX_LEVELS = 10;
export const MAX_LEVELS_LIMIT = 256;

const columnName = z.string().min(1).max(256);

export const columnRule = z
  .object({
    missing: missingStrategy.optional(),
    fillValue: z.number().finite().optional(),
    /** Adds a 0/1 column `<name>[missing]` that is 1 where the cell was empty. */
    missingIndicator: z.boolean().optional(),
    encoding: z.enum(CATEGORY_ENCODINGS).optional(),
    /** One-hot: at most this many columns, the last one "other" (rare and unseen levels, empty cells). */
    maxLevels: z.number().int().min(2).max(MAX_LEVELS_LIMIT).optional(),
    /** Ordinal: the levels in order (code 0 first); by default the training levels sorted as strings. */
    levels: z.array(z.string().min(1).max(256)).min(1).max(MAX_LEVELS_LIMIT).optional(),
  })
  .strict();
export type ColumnRule = z.output<typeof columnRule>;

/** The preprocessing part of a party's data reference (all optional: none of it changes today's behaviour). */
export const preprocessingFields = {
  /** Exactly these columns are features, in this order. */
  featureColumns: z.array(columnName).min(1).max(4096).optional(),
  /** Columns that are not features (with every other column being one). */
  excludeColumns: z.array(columnName).max(4096).optional(),
  /** The strategy for every numeric column without its own rule. */
  missing: missingStrategy.optional(),
  fillValue: z.number().finite().optional(),
  missingIndicator: z.boolean().optional(),
  /** Text columns (a non-empty cell that is not a number) are encoded as categories (one-hot unless a rule says). */
  detectCategorical: z.boolean().optional(),
  /** Per-column rules, by column name. */
  columns: z.record(columnName, columnRule).optional(),
};
export const preprocessingSpec = z.object(preprocessingFields).strict();
export type PreprocessingSpec = z.output<typeof preprocessingSpec>;

/** True when a data reference asks for anything beyond today's plain numeric reading. */
export function hasPreprocessing(spec: PreprocessingSpec): boolean {
  return (
    spec.featureColumns !== undefined ||
    spec.excludeColumns !== undefined ||
    (spec.missing !== undefined && spec.missing !== 'error') ||
    spec.missingIndicator === true ||
    spec.detectCategorical === true ||
    (spec.columns !== undefined && Object.keys(spec.columns).length > 0)
  );
}

/** Problems of a spec that the schema cannot see (a constant without its value, both column lists). */
export function preprocessingProblems(spec: PreprocessingSpec): string[] {
  const problems: string[] = [];
  if (spec.featureColumns && spec.excludeColumns)
    problems.push('featureColumns and excludeColumns: give one of them, not both');
  if (spec.missing === 'constant' && spec.fillValue === undefined)
    problems.push('missing: "constant" needs a fillValue');
  for (const [name, rule] of Object.entries(spec.columns ?? {})) {
    if (rule.missing === 'constant' && rule.fillValue === undefined)
      problems.push(`columns.${name}.missing: "constant" needs a fillValue`);
    if (rule.maxLevels !== undefined && rule.encoding === 'ordinal')
      problems.push(`columns.${name}.maxLevels: only for the one-hot encoding`);
    if (rule.levels !== undefined && rule.encoding !== 'ordinal')
      problems.push(`columns.${name}.levels: only for the ordinal encoding`);
  }
  return problems;
}

/** The rule that applies to a numeric column: its own fields over the reference-wide defaults. */
export function numericRule(
  spec: PreprocessingSpec,
  name: string,
): {
  missing: MissingStrategy;
  fillValue?: number;
  missingIndicator: boolean;
} {
  const own = spec.columns?.[name] ?? {};
  const missing = own.missing ?? spec.missing ?? 'error';
  const fillValue = own.fillValue ?? spec.fillValue;
  return {
    missing,
    ...(fillValue !== undefined ? { fillValue } : {}),
    missingIndicator: own.missingIndicator ?? spec.missingIndicator ?? false,
  };
}
