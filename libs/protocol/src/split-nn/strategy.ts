/**
 * Split NN, the coordinator's side: after alignment, the training of split-nn/training.ts (keys,
 * batches through the encrypted interactive layer, evaluation, checkpoints), then the label
 * party's baseline and the signed manifest of every party's part (docs/split-nn.md).
 */
import { CkksContext } from '@vfl/crypto';
import type { BinaryMetrics } from '@vfl/ml';
import { Datasets, EpochReport } from '../job/job-types';
import { checkBatchRows, JobStrategy } from '../job/strategy';
import { binaryBaseline, type DetailedMetrics, targetMetricsOf } from '../job/evaluation';
import type { TargetJobResult } from '../job/target-result';
import type { ModelManifest } from '../model-manifest';
import { NO_DEFENCE } from './defence';
import { SPLIT_NN } from './party-handlers';
import { SplitNnTrainingResult, trainSplitNn } from './training';
import type { AucUplift } from '../job/commands';

/** A split-NN job's result: the same metrics as split LR, and what the defence cost in privacy terms. */
export interface SplitNnJobResult extends Omit<SplitNnTrainingResult, 'epochs' | 'train' | 'validation'> {
  readonly model: 'split-nn';
  readonly train: DetailedMetrics;
  readonly validation: DetailedMetrics;
  readonly intersection: number;
  readonly trainRows: number;
  readonly validationRows: number;
  readonly epochs: readonly EpochReport[];
  /** The label party's logistic regression on its own features: the uplift baseline. */
  /** With the federated model's validation uplift over it and DeLong's 95% interval (when both classes have 2+ rows). */
  readonly labelOnly: {
    readonly train: BinaryMetrics;
    readonly validation: BinaryMetrics;
    readonly uplift?: AucUplift;
  };
  /** Each party's signed digest of its own part (bottom; or bottom, top and interactive layer); the coordinator signs it when it stores the result. */
  readonly manifest: ModelManifest;
  readonly backend: string;
  readonly datasets: Datasets;
}

export const splitNnStrategy: JobStrategy<SplitNnJobResult | TargetJobResult> = {
  model: SPLIT_NN,
  alignment: 'intersection',
  objectives: ['binary', 'regression', 'multiclass'],
  check(spec) {
    if (!spec.nn) throw new RangeError('a split-nn job needs its architecture (nn)');
  },
  // A split-NN job's split, batches and seed come from its architecture; its features are not clipped.
  dataSettings(spec) {
    const t = spec.nn!.architecture.training;
    return {
      validationFraction: t.validationFraction ?? spec.hyperparameters.validationFraction,
      seed: t.seed,
      clipSigma: 0,
      batchSize: t.batchSize,
      ...(spec.objective && spec.objective !== 'binary' ? { objective: spec.objective } : {}),
    };
  },
  settings: (spec) => ({ architecture: spec.nn!.architecture, defence: spec.nn!.defence ?? NO_DEFENCE }),

  async run(ctx) {
    const { jobId, nn } = ctx.spec;
    const architecture = nn!.architecture;
    checkBatchRows(ctx, architecture.training.batchSize);
    await ctx.phase('training');
    const ckks = await CkksContext.create();
    try {
      const { intersection, trainRows, validationRows } = ctx.alignment;
      const trained = await trainSplitNn(ckks, {
        jobId,
        architecture,
        defence: nn!.defence ?? NO_DEFENCE,
        label: ctx.label,
        features: ctx.features,
        prepared: ctx.prepared,
        trainRows,
        validationRows,
        call: (c, command, body) => ctx.call(c, command, body),
        message: (step, from, to, bytes, detail) => ctx.message(step, from, to, bytes, detail),
        audit: (e) => ctx.audit(e),
        takeEpochBytes: () => ctx.traffic.take().total,
        resume: ctx.spec.resume,
        resumeRecords: () => ctx.resumeRecords(),
        snapshot: (epoch) => ctx.snapshot(epoch),
        restore: (epoch) => ctx.restore(epoch),
        checkpoint: (epoch, record) => ctx.checkpoint(epoch, record),
        progress: (epoch, batch, batches, report) =>
          ctx.progress(
            {
              phase: 'training',
              epoch: epoch + 1,
              epochs: architecture.training.epochs,
              batch: batch + 1,
              batches,
              etaSeconds: null,
            },
            report,
          ),
      });
      await ctx.phase('evaluating');
      const labelOnly = await ctx.baseline();
      const objective = ctx.spec.objective ?? 'binary';
      const manifest = await ctx.exportModel({
        model: 'split-nn',
        architecture,
        ...(objective !== 'binary' ? { objective } : {}),
      });
      const common = {
        intersection,
        trainRows,
        validationRows,
        manifest,
        backend: ctx.prepared.get(ctx.label.partyId)!.backend,
        datasets: ctx.datasets,
        earlyStopping: trained.earlyStopping,
        bytesPerEpoch: trained.bytesPerEpoch,
        decryptions: trained.decryptions,
      };
      if (objective !== 'binary') {
        const metrics = targetMetricsOf(trained.train, trained.validation, labelOnly);
        const classes = ctx.prepared.get(ctx.label.partyId)!.classes;
        return {
          model: 'split-nn',
          objective,
          ...(classes ? { classes } : {}),
          ...common,
          ...metrics,
          epochs: trained.epochs.map((e) => ({
            ...e,
            validation: targetMetricsOf(e.validation, e.validation, labelOnly).train,
          })),
        };
      }
      return {
        model: 'split-nn',
        ...trained,
        ...common,
        train: trained.train as DetailedMetrics,
        validation: trained.validation as DetailedMetrics,
        epochs: trained.epochs as EpochReport[],
        labelOnly: binaryBaseline(labelOnly),
      };
    } finally {
      ckks.dispose();
    }
  },
};
