/** The body of POST /jobs, validated at the edge: every rejection names the field. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ID_RULE_NAMES,
  ID_RULE_PATTERN,
  MAX_ID_RULES,
  MISSING_STRATEGIES,
  OBJECTIVES,
  type ColumnRule,
  type MissingStrategy,
  type Objective,
} from '@vfl/data';
import { MAX_PREDICTION_IDS } from '@vfl/protocol';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  ValidateIf,
} from 'class-validator';

export class DataReferenceDto {
  @ApiProperty({ example: 'bank.csv', description: "Path on the party's own file system, inside its data root" })
  @IsString()
  @MaxLength(1024)
  path!: string;

  @ApiPropertyOptional({ default: 'id' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  idColumn?: string;

  @ApiPropertyOptional({ example: 'y', description: 'Label column (label party only)' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  labelColumn?: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'Exactly these columns are features, in this order (not with excludeColumns)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4096)
  @IsString({ each: true })
  @MaxLength(256, { each: true })
  featureColumns?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Columns that are not features (every other one is)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(4096)
  @IsString({ each: true })
  @MaxLength(256, { each: true })
  excludeColumns?: string[];

  @ApiPropertyOptional({
    enum: MISSING_STRATEGIES,
    default: 'error',
    description:
      'How this party fills empty numeric cells, fitted on its training rows only (constant: with fillValue); error refuses the file. Per column in `columns`',
  })
  @IsOptional()
  @IsIn(MISSING_STRATEGIES)
  missing?: MissingStrategy;

  @ApiPropertyOptional({ description: 'The number of the "constant" strategy' })
  @IsOptional()
  @IsNumber()
  fillValue?: number;

  @ApiPropertyOptional({ default: false, description: 'Adds a 0/1 column "<name>[missing]" beside each filled column' })
  @IsOptional()
  @IsBoolean()
  missingIndicator?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: 'Text columns are encoded as categories (one-hot unless `columns` says otherwise)',
  })
  @IsOptional()
  @IsBoolean()
  detectCategorical?: boolean;

  @ApiPropertyOptional({
    description:
      'Per column: { missing, fillValue, missingIndicator, encoding: "one-hot" | "ordinal", maxLevels (one-hot, default 10, the last "other"), levels (ordinal order) }',
    example: { city: { encoding: 'one-hot', maxLevels: 8 }, income: { missing: 'median', missingIndicator: true } },
  })
  @IsOptional()
  @IsObject()
  columns?: Record<string, ColumnRule>;
}

export class JobPartyDto {
  @ApiProperty({ example: 'bank' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'partyId must be 1-64 letters, digits, _ or -' })
  partyId!: string;

  @ApiProperty({ enum: ['label', 'feature'] })
  @IsIn(['label', 'feature'])
  role!: 'label' | 'feature';

  @ApiProperty({ type: DataReferenceDto })
  @IsObject({ message: '$property must be an object: {"path": …}' })
  @ValidateNested()
  @Type(() => DataReferenceDto)
  data!: DataReferenceDto;
}

export class EarlyStoppingDto {
  @ApiProperty({ enum: ['auc', 'loss'] })
  @IsIn(['auc', 'loss'])
  metric!: 'auc' | 'loss';

  @ApiProperty({ minimum: 1, maximum: 100, description: 'Epochs without improvement before stopping' })
  @IsInt()
  @Min(1)
  @Max(100)
  patience!: number;

  @ApiPropertyOptional({
    default: 0,
    minimum: 0,
    maximum: 1,
    description: 'Smallest change that counts as an improvement',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  minDelta?: number;
}

export class HyperparametersDto {
  @ApiPropertyOptional({ default: 10, minimum: 1, maximum: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  epochs?: number;

  @ApiPropertyOptional({
    default: 1024,
    minimum: 32,
    maximum: 65536,
    description: "At least 32 and twice the widest party's column count",
  })
  @IsOptional()
  @IsInt()
  @Min(32)
  @Max(65536)
  batchSize?: number;

  @ApiPropertyOptional({ default: 0.02 })
  @IsOptional()
  @IsNumber()
  @Min(1e-6)
  @Max(10)
  learningRate?: number;

  @ApiPropertyOptional({ default: 0.001 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10)
  l2?: number;

  @ApiPropertyOptional({ enum: ['sgd', 'adam'], default: 'adam' })
  @IsOptional()
  @IsIn(['sgd', 'adam'])
  optimizer?: 'sgd' | 'adam';

  @ApiPropertyOptional({ default: 42 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed?: number;

  @ApiPropertyOptional({ default: 0.2, minimum: 0, maximum: 0.9 })
  @IsOptional()
  @IsNumber()
  @Min(0.01)
  @Max(0.9)
  validationFraction?: number;

  @ApiPropertyOptional({
    default: 3,
    minimum: 0,
    maximum: 100,
    description:
      'Each party clips its standardised values to [-clipSigma, clipSigma] (winsorising heavy tails); 0 turns clipping off',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(100)
  clipSigma?: number;

  @ApiPropertyOptional({
    enum: ['taylor', 'cubic'],
    default: 'taylor',
    description:
      'The sigmoid under encryption: first-order Taylor (1/2 + u/4), or the least-squares cubic on [-8, 8] (closer, ~40% slower per epoch)',
  })
  @IsOptional()
  @IsIn(['taylor', 'cubic'])
  sigmoid?: 'taylor' | 'cubic';

  @ApiPropertyOptional({
    default: 0,
    minimum: 0,
    maximum: 10,
    description: 'L1 penalty on all weights but the intercept',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10)
  l1?: number;

  @ApiPropertyOptional({
    enum: ['constant', 'cosine', 'exponential'],
    default: 'constant',
    description: 'Learning rate per epoch: constant, cosine to zero over the epochs, or times decayRate each epoch',
  })
  @IsOptional()
  @IsIn(['constant', 'cosine', 'exponential'])
  schedule?: 'constant' | 'cosine' | 'exponential';

  @ApiPropertyOptional({
    default: 0.9,
    minimum: 0.01,
    maximum: 1,
    description: 'Per-epoch factor of the exponential schedule',
  })
  @IsOptional()
  @IsNumber()
  @Min(0.01)
  @Max(1)
  decayRate?: number;

  @ApiPropertyOptional({
    default: 1,
    oneOf: [
      { type: 'number', minimum: 0.01, maximum: 100 },
      { type: 'string', enum: ['balanced'] },
    ],
    description:
      'Weight of a positive (label 1) row in the loss; negatives weigh 1. "balanced": negatives / positives among the training rows, worked out by the label party. Taylor sigmoid only',
  })
  @IsOptional()
  @ValidateIf((o: { positiveWeight?: unknown }) => o.positiveWeight !== 'balanced')
  @IsNumber({}, { message: 'positiveWeight must be a number in [0.01, 100] or "balanced"' })
  @Min(0.01)
  @Max(100)
  positiveWeight?: number | 'balanced';

  @ApiPropertyOptional({
    type: () => EarlyStoppingDto,
    description: "Stop when the validation metric stops improving, and keep the best epoch's model",
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => EarlyStoppingDto)
  earlyStopping?: EarlyStoppingDto;
}

export class AlignmentDto {
  @ApiPropertyOptional({
    type: [String],
    example: ['trim', 'strip-separators', 'phone:86'],
    description:
      'ID normalisation rules, applied in order by every party before PSI: trim, nfkc, lowercase, uppercase, strip-separators, phone:<country code>, sha256',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ID_RULES)
  @Matches(ID_RULE_PATTERN, { each: true, message: `$property entries must be one of ${ID_RULE_NAMES.join(', ')}` })
  idRules?: string[];

  @ApiPropertyOptional({
    enum: ['balanced', 'unbalanced'],
    default: 'balanced',
    description:
      'unbalanced: for lists of very different sizes (100k vs 10M); the small side does group operations on its own IDs only, the big side on both lists. One feature party only',
  })
  @IsOptional()
  @IsIn(['balanced', 'unbalanced'])
  mode?: 'balanced' | 'unbalanced';

  @ApiPropertyOptional({
    example: 'bank',
    description: 'Unbalanced mode: the party with the small list; by default the one that reports fewer rows',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  smallParty?: string;

  @ApiPropertyOptional({
    enum: ['auto', 'ecdh', 'kkrt'],
    default: 'auto',
    description:
      'kkrt: OT-based PSI (KKRT16) for two large lists, ~10x faster than ECDH at 1M; two parties, balanced mode, intersection only. auto: kkrt when it fits and both lists hold 100,000 IDs or more, ecdh otherwise',
  })
  @IsOptional()
  @IsIn(['auto', 'ecdh', 'kkrt'])
  protocol?: 'auto' | 'ecdh' | 'kkrt';
}

/** One label party and up to seven feature parties. */
export const MAX_JOB_PARTIES = 8;

/** The models the API starts (each a strategy in libs/protocol's registry). */
export const API_MODELS = [
  'split-lr',
  'split-nn',
  'secureboost',
  'psi-cardinality',
  'statistics',
  'binning',
  'pipeline',
] as const;
export type ApiModel = (typeof API_MODELS)[number];

export function isApiModel(model: string): model is ApiModel {
  return (API_MODELS as readonly string[]).includes(model);
}

export class CreateJobDto {
  @ApiProperty({
    enum: API_MODELS,
    description:
      'split-nn: a split neural network (give `nn`); secureboost: gradient-boosted trees with encrypted histograms (settings in `secureboost`); psi-cardinality: a feasibility check whose result is the number of shared IDs only; statistics: per-column statistics at each party (`statistics`); binning: WOE/IV binning (`binning`); pipeline: the steps in `pipeline`, each with its own settings field',
  })
  @IsIn(API_MODELS)
  model!: ApiModel;

  @ApiPropertyOptional({
    enum: OBJECTIVES,
    default: 'binary',
    description:
      'What the model predicts (split-lr, split-nn; secureboost binary or regression): a 0/1 label (binary), a continuous target (regression: squared loss; RMSE, MAE, R²) or class numbers 0..K-1 (multiclass, 3 ≤ K ≤ 16: accuracy, macro-F1, AUC per class)',
  })
  @IsOptional()
  @IsIn(OBJECTIVES, { message: `objective must be one of ${OBJECTIVES.join(', ')}` })
  objective?: Objective;

  @ApiPropertyOptional({
    description:
      'split-nn only: { architecture: { bottom: [{units, activation, dropout, batchNorm}], bottomByParty?, interactive: {units, activation, learningRate, momentum}, top: [...], training: {optimizer, learningRate, schedule, batchSize, epochs, seed, validationFraction, earlyStopping} }, defence?: {kind: "none"} | {kind: "gaussian", noiseMultiplier, clipNorm} }; errors name the layer and field',
    example: {
      architecture: {
        bottom: [
          { units: 32, activation: 'relu' },
          { units: 4, activation: 'linear' },
        ],
        interactive: { units: 8 },
        top: [],
        training: { optimizer: 'adam', learningRate: 0.01, batchSize: 1024, epochs: 5, seed: 42 },
      },
      defence: { kind: 'none' },
    },
  })
  @IsOptional()
  @IsObject()
  nn?: { architecture: unknown; defence?: unknown };

  @ApiPropertyOptional({
    description:
      'secureboost only, every field optional: { objective: follows the job\'s objective ("binary:logistic" for binary, "reg:squarederror" for regression; a contradicting value gets a 400), trees (20), maxDepth (5), learningRate (0.3), lambda (1), gamma (0), minChildWeight (1), maxBins (32), rowSample (1), colSample (1), positiveWeight (number | "balanced"), earlyStopping: { patience, minDelta }, seed, validationFraction (0.3) }; errors name the field',
    example: { trees: 20, maxDepth: 5, learningRate: 0.3, maxBins: 32 },
  })
  @IsOptional()
  @IsObject()
  secureboost?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'statistics and pipeline only: { share: ["count", "missingRate", "mean", "std", "min", "max", "quantiles", "distinct"] (default count, missingRate), quantiles: [0.01, …] }',
  })
  @IsOptional()
  @IsObject()
  statistics?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'binning and pipeline only: { method: "quantile" | "equal-width" | "chimerge", maxBins (10), fineBins (32, chimerge), monotonic (false), minBinRows (20), share: "woe" | "iv" | "none", validationFraction (0), seed }',
    example: { method: 'chimerge', maxBins: 6, monotonic: true },
  })
  @IsOptional()
  @IsObject()
  binning?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'pipeline only: { minIv (0.02), topKPerParty, maxMissingRate (1) }' })
  @IsOptional()
  @IsObject()
  selection?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'pipeline only: { baseScore (600), baseOdds (50, good:bad), pdo (20) }' })
  @IsOptional()
  @IsObject()
  scorecard?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'pipeline only: the steps in order, each feeding the next: statistics, binning, selection, split-lr (on WOE features), scorecard',
    example: ['statistics', 'binning', 'selection', 'split-lr', 'scorecard'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(8)
  pipeline?: string[];

  @ApiProperty({
    type: [JobPartyDto],
    description:
      'One label party and one or more feature parties (at most 8; a psi-cardinality check takes exactly one)',
  })
  @IsArray()
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @ArrayMinSize(2)
  @ArrayMaxSize(MAX_JOB_PARTIES)
  @Type(() => JobPartyDto)
  parties!: JobPartyDto[];

  @ApiPropertyOptional({ type: HyperparametersDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => HyperparametersDto)
  hyperparameters?: HyperparametersDto;

  @ApiPropertyOptional({ type: AlignmentDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AlignmentDto)
  alignment?: AlignmentDto;
}

/** Paging shared by the list endpoints. */
export class PageQueryDto {
  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;

  @ApiPropertyOptional({ default: 1000, maximum: 10000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  limit?: number;
}

export class PredictDataDto {
  @ApiProperty({ example: 'new-customers.csv' })
  @IsString()
  @MaxLength(512)
  path!: string;

  @ApiPropertyOptional({ default: 'id' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  idColumn?: string;
}

export class PredictDto {
  @ApiProperty({
    type: [String],
    description: `IDs to score (1 to ${MAX_PREDICTION_IDS}); every party must hold a row for each`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PREDICTION_IDS)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  ids!: string[];

  @ApiPropertyOptional({
    description:
      'Per party id, the file (inside its data root) holding the rows to score; by default each party reads the file it trained on',
    example: { bank: { path: 'bank-new.csv' }, ecommerce: { path: 'shop-new.csv' } },
  })
  @IsOptional()
  @IsObject()
  data?: Record<string, PredictDataDto>;
}
