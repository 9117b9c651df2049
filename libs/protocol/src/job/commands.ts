/**
 * Commands every job shares, whatever its model: prepare, keys, the model steps every trained
 * model has (export, checkpoint, resume, snapshot and restore of the best epoch, the label
 * party's own baseline), close, and the party's health.
 */
import { z } from 'zod';
import { MAX_CLASSES } from '@vfl/data';
import { CURVE_POINTS } from '@vfl/ml';
import { bytes, defineCommand, empty, jobId, jobRequest, nonNegativeInt } from '../wire/command';
import { dataReference, partyRole, roster } from '../wire/roster';

export const alignmentSettings = z.object({
  idRules: z.array(z.string().max(32)).max(16),
  /** `cardinality`: the label party learns only how many IDs are shared; nobody learns which. */
  output: z.enum(['intersection', 'cardinality']),
  /** `unbalanced`: the smaller list's party does O(its size) group operations (docs/protocol.md §1). */
  mode: z.enum(['balanced', 'unbalanced']),
});
export type AlignmentSettings = z.output<typeof alignmentSettings>;

/** How rows are split and batched and features clipped: the same at every party. */
export const dataSettings = z.object({
  validationFraction: z.number().min(0).max(0.95),
  seed: z.number().int(),
  clipSigma: z.number().min(0).max(1e6),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 20),
  objective: z.enum(['binary', 'regression', 'multiclass']).optional(),
});

export const prepare = defineCommand(
  'job.prepare',
  z.object({
    jobId,
    /** The job's model: its party hooks check `settings` (split-lr: hyperparameters; split-nn: architecture and defence). */
    model: z.string().min(1).max(64),
    role: partyRole,
    data: dataReference,
    roster,
    alignment: alignmentSettings,
    dataSettings,
    settings: z.unknown(),
  }),
  z.object({
    rows: nonNegativeInt,
    columns: nonNegativeInt,
    columnNames: z.array(z.string()),
    contentSha256: z.string(),
    source: z.string(),
    backend: z.string(),
    /** The label party, objective multiclass: how many classes its label column has. */
    classes: z.number().int().min(2).max(MAX_CLASSES).optional(),
  }),
);
export type PrepareReply = z.output<typeof prepare.reply>;

const publicBundle = z.object({
  parameterSet: z.string().max(64),
  publicKey: bytes,
  galoisKeys: bytes,
  galoisSteps: z.array(z.number().int()).max(4096).readonly(),
  relinKeys: bytes.optional(),
});

export const heKeys = defineCommand(
  'he.keys',
  z.object({
    jobId,
    bundle: publicBundle,
    widths: z.record(z.string(), nonNegativeInt).optional(),
    /** Split LR, objective multiclass: one head per class (the label party reported the count at job.prepare). */
    heads: z.number().int().min(1).max(MAX_CLASSES).optional(),
  }),
  empty,
);

export const modelExport = defineCommand(
  'model.export',
  jobRequest,
  z.object({
    partyId: z.string(),
    role: partyRole,
    columns: z.array(z.string()),
    modelDigest: z.string(),
    modelBytes: nonNegativeInt,
    signature: z.string(),
  }),
);

/** `record`: the coordinator's record of the run at this epoch (it gets it back with model.resume). */
export const modelCheckpoint = defineCommand(
  'model.checkpoint',
  z.object({ jobId, epoch: nonNegativeInt, record: z.unknown().optional() }),
  z.object({ checkpointDigest: z.string(), checkpointBytes: nonNegativeInt }),
);

export const modelResume = defineCommand(
  'model.resume',
  z.object({ jobId, fromJobId: jobId, epoch: nonNegativeInt }),
  z.object({ checkpointDigest: z.string(), record: z.unknown().nullable() }),
);

/** Early stopping: keep the current model as the best so far / go back to it. */
export const modelSnapshot = defineCommand('model.snapshot', z.object({ jobId, epoch: nonNegativeInt }), empty);
export const modelRestore = defineCommand('model.restore', z.object({ jobId, epoch: nonNegativeInt }), empty);

export const binaryMetrics = z.object({
  auc: z.number(),
  ks: z.number(),
  logLoss: z.number(),
  positives: nonNegativeInt,
  rows: nonNegativeInt,
});

/**
 * The baseline's validation metrics also carry its ROC curve and gain/lift table: aggregates of
 * the same kind as the federated model's (evaluation.ts), so the dashboard can draw the uplift.
 */
export const baselineValidation = binaryMetrics.extend({
  rocCurve: z
    .array(z.object({ fpr: z.number(), tpr: z.number() }))
    .max(CURVE_POINTS)
    .optional(),
  gainLift: z
    .array(
      z.object({
        bin: z.number(),
        count: z.number(),
        positives: z.number(),
        cumulativeShare: z.number(),
        gain: z.number(),
        lift: z.number(),
        minScore: z.number(),
        maxScore: z.number(),
      }),
    )
    .max(1000)
    .optional(),
});

/**
 * The federated model's validation AUC less the label party's own, with DeLong's interval for two
 * AUCs on the same rows (libs/ml delong.ts): aggregates of the label party's validation scores only.
 */
export const aucUplift = z.object({
  difference: z.number(),
  standardError: z.number(),
  low: z.number(),
  high: z.number(),
  pValue: z.number(),
});
export type AucUplift = z.output<typeof aucUplift>;

/** Metrics of a continuous target (objective regression), in the target's own units. */
export const regressionMetrics = z.object({
  objective: z.literal('regression'),
  rows: nonNegativeInt,
  rmse: z.number(),
  mae: z.number(),
  r2: z.number(),
  loss: z.number(),
});

/** Metrics of K classes (objective multiclass); a class absent from the split has no AUC (null). */
export const multiclassMetrics = z.object({
  objective: z.literal('multiclass'),
  rows: nonNegativeInt,
  accuracy: z.number(),
  macroF1: z.number(),
  perClassAuc: z.array(z.number().nullable()).max(64),
  auc: z.number(),
  logLoss: z.number(),
});

export const targetMetrics = z.discriminatedUnion('objective', [regressionMetrics, multiclassMetrics]);

/** The label party's linear model on its own features: the uplift baseline. */
export const baseline = defineCommand(
  'model.baseline',
  jobRequest,
  z.union([
    z.object({ train: binaryMetrics, validation: baselineValidation, uplift: aucUplift.optional() }),
    z.object({ train: targetMetrics, validation: targetMetrics }),
  ]),
);

export const close = defineCommand('job.close', z.object({ jobId, completed: z.boolean() }), empty);

export const health = defineCommand(
  'party.health',
  z.object({}),
  z.object({ partyId: z.string(), role: partyRole, publicKey: z.string(), jobs: nonNegativeInt }),
);

/**
 * The coordinator asks a party to countersign the head of its chain for a job (at each state
 * change the party takes part in, and when the job ends): the party records the head in its own
 * log and signs its own log's head. The coordinator's operator can then cut its trail only below
 * what every party already holds, and `vfl audit verify --party` finds the cut.
 */
export const countersign = defineCommand(
  'audit.countersign',
  z.object({
    jobId,
    seq: nonNegativeInt,
    head: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
    state: z.string().min(1).max(32),
  }),
  empty,
);

/** One grouped problem of a party's file: kind, column, count and first lines — never a cell or an ID. */
export const dataProblem = z.object({
  code: z.string().max(32),
  file: z.string().max(256),
  column: z.string().max(256).optional(),
  count: nonNegativeInt,
  lines: z.array(nonNegativeInt).max(20),
  problem: z.string().max(1024),
});
export type DataProblem = z.output<typeof dataProblem>;

/**
 * Before anything heavy: the party reads its file as the job would and reports every problem it
 * finds (grouped, capped per kind), instead of the first. Creates no job and keeps nothing.
 */
export const check = defineCommand(
  'job.check',
  z.object({
    jobId,
    model: z.string().min(1).max(64),
    role: partyRole,
    data: dataReference,
    idRules: z.array(z.string().max(32)).max(16),
    /** False for an alignment-only job (no labels read). */
    labelled: z.boolean(),
    /** How the label column is read (default binary). */
    objective: z.enum(['binary', 'regression', 'multiclass']).optional(),
    /** The job's batch size when the model trains on mini-batches: the widest file it allows. */
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1 << 20),
  }),
  z.object({
    rows: nonNegativeInt,
    columns: nonNegativeInt,
    problems: z.array(dataProblem).max(200),
    /** Groups left out by the cap. */
    omitted: nonNegativeInt,
  }),
);
export type CheckReply = z.output<typeof check.reply>;
export type CheckRequest = z.output<typeof check.request>;
