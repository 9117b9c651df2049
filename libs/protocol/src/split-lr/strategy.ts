/**
 * Split logistic regression, the coordinator's side (docs/protocol.md §2). After alignment it
 * generates the job's CKKS keys, sends every party the public key, and drives the rounds; each
 * gradient it decrypts is masked by its party (masked-decryption.ts). One round, mini-batch b of epoch e:
 *   1. every feature party: lr.forward    (sends Enc(u_f/4) to the label party)
 *   2. label party:        lr.residual   (sends Enc(d) to the feature parties; starts its own masked gradient)
 *   3. every party:        lr.gradient   (returns its masked Enc(gradient))
 *   4. coordinator decrypts each announced ciphertext once (masked, flooded, rounded)
 *   5. every party:        lr.update     (removes its mask, steps its optimizer)
 * After every epoch: validation metrics at the label party, early stopping, a checkpoint.
 * Multiclass (one-vs-rest): steps 1-5 run once per head (class) on each mini-batch, head k on the
 * label "class is k"; regression: the same round under squared loss (split-lr-party.ts).
 */
import { CkksContext, CkksEngine, createCkksEngine, CkksKeyHolder } from '@vfl/crypto';
import { batchCount, type BinaryMetrics } from '@vfl/ml';
import { agreedCheckpointRecord } from '../job/checkpoint-record';
import * as job from '../job/commands';
import {
  binaryBaseline,
  type DetailedMetrics,
  type EvaluationMetrics,
  evaluationLoss,
  evaluationScore,
  epochFigures,
  targetMetricsOf,
} from '../job/evaluation';
import {
  Datasets,
  DIVERGENCE_LOSS_FACTOR,
  EarlyStoppingReport,
  EpochReport,
  TrainingDivergedError,
} from '../job/job-types';
import { checkBatchRows, JobContext, JobStrategy } from '../job/strategy';
import type { ModelManifest } from '../model-manifest';
import type { TargetJobResult } from '../job/target-result';
import { f64ToBytes, publicBundleBytes, publicBundleDigest } from '../wire/codec';
import { COORDINATOR_ID } from '../wire/roster';
import * as lr from './commands';
import { DEFAULT_RELEASE_POLICY, MaskedDecryptionService, secureGaussian } from './masked-decryption';
import { SPLIT_LR } from './party-handlers';
import { gradientScale } from './split-lr-party';
import type { AucUplift } from '../job/commands';

export interface SplitLrJobResult {
  readonly intersection: number;
  readonly trainRows: number;
  readonly validationRows: number;
  /** The final model: AUC, KS, log loss, confusion matrix at 0.5, gain/lift by decile, ROC and KS curves (≤ 101 points). */
  readonly train: DetailedMetrics;
  /** The same on the validation split, plus the score stability (PSI) against training scores. */
  readonly validation: DetailedMetrics;
  /** With the federated model's validation uplift over it and DeLong's 95% interval (when both classes have 2+ rows). */
  readonly labelOnly: {
    readonly train: BinaryMetrics;
    readonly validation: BinaryMetrics;
    readonly uplift?: AucUplift;
  };
  readonly epochs: readonly EpochReport[];
  readonly earlyStopping: EarlyStoppingReport | null;
  /** Each party's signed model digest (the weights stay with the parties); the coordinator signs it when it stores the result. */
  readonly manifest: ModelManifest;
  readonly backend: string;
  readonly datasets: Datasets;
  readonly decryptions: number;
  readonly bytesPerEpoch: number;
  /** The same per link, "from->to" (parties and the coordinator), in the last epoch. */
  readonly bytesPerEpochByLink: Record<string, number>;
}

export const splitLrStrategy: JobStrategy<SplitLrJobResult | TargetJobResult> = {
  model: SPLIT_LR,
  alignment: 'intersection',
  objectives: ['binary', 'regression', 'multiclass'],
  dataSettings: ({ hyperparameters: hp, objective }) => ({
    validationFraction: hp.validationFraction,
    seed: hp.seed,
    clipSigma: hp.clipSigma ?? 0,
    batchSize: hp.batchSize,
    ...(objective && objective !== 'binary' ? { objective } : {}),
  }),
  settings: (spec) =>
    spec.objective && spec.objective !== 'binary'
      ? { ...spec.hyperparameters, objective: spec.objective }
      : spec.hyperparameters,

  async run(ctx) {
    const hp = ctx.spec.hyperparameters;
    checkBatchRows(ctx, hp.batchSize);
    await ctx.phase('training');
    const ckks = await CkksContext.create();
    let keys: CkksKeyHolder | undefined;
    let engine: CkksEngine | undefined;
    try {
      // The block layout needs no rotations, so no Galois keys: the bundle is the public key alone.
      // The cubic sigmoid multiplies ciphertexts (V ⊗ V ⊗ V), which needs relinearisation keys.
      keys = CkksKeyHolder.generate(ckks, [], { relinearization: hp.sigmoid === 'cubic' });
      const heads = headCount(ctx);
      // Decryptions run on worker threads that hold the job's secret key, every party's gradient
      // at once; they load SEAL and the key while the parties take the public keys.
      engine = createCkksEngine({ ckks: keys.ckks, keys }, ctx.ckksThreads);
      const warming = engine.warm();
      void warming.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled meanwhile
      const bundle = keys.publicBundle();
      const bundleBytes = publicBundleBytes(bundle);
      const bundleDigest = publicBundleDigest(bundle);
      for (const c of [ctx.label, ...ctx.features]) {
        await ctx.call(c, job.heKeys, { jobId: ctx.spec.jobId, bundle, ...(heads > 1 ? { heads } : {}) });
        await ctx.audit({
          step: 'he.keys',
          sender: COORDINATOR_ID,
          receiver: c.partyId,
          byteSize: bundleBytes,
          messageDigest: bundleDigest,
          detail: {
            parameterSet: bundle.parameterSet,
            layout: 'blocks',
            sigmoid: hp.sigmoid ?? 'taylor',
            galoisSteps: bundle.galoisSteps,
            relinearization: (bundle.relinKeys?.length ?? 0) > 0,
            ...(heads > 1 ? { heads } : {}),
          },
        });
      }
      await warming;
      const decryption = new MaskedDecryptionService(keys, DEFAULT_RELEASE_POLICY, secureGaussian, engine);
      const { reports: epochs, earlyStopping, traffic } = await trainRounds(ctx, decryption, keys, heads);
      await ctx.phase('evaluating');
      ctx.progress({ phase: 'evaluating' });
      const train = await evaluate(ctx, 'train', hp.epochs, true);
      const validation = await evaluate(ctx, 'validation', hp.epochs + 1, true);
      const labelOnly = await ctx.baseline();
      const objective = ctx.spec.objective ?? 'binary';
      const manifest = await ctx.exportModel({ model: 'split-lr', ...(objective !== 'binary' ? { objective } : {}) });
      const { intersection, trainRows, validationRows } = ctx.alignment;
      const common = {
        intersection,
        trainRows,
        validationRows,
        epochs,
        earlyStopping,
        manifest,
        backend: ctx.prepared.get(ctx.label.partyId)!.backend,
        datasets: ctx.datasets,
        decryptions: decryption.decryptions,
        bytesPerEpoch: traffic.total,
        bytesPerEpochByLink: traffic.byLink,
      };
      if (objective !== 'binary')
        return {
          model: 'split-lr',
          objective,
          ...(heads > 1 ? { classes: heads } : {}),
          ...targetMetricsOf(train, validation, labelOnly),
          ...common,
          epochs: epochs.map((e) => ({
            ...e,
            validation: targetMetricsOf(e.validation, e.validation, labelOnly).train,
          })),
        };
      return {
        ...common,
        train: train as DetailedMetrics,
        validation: validation as DetailedMetrics,
        labelOnly: binaryBaseline(labelOnly),
        epochs: epochs as EpochReport[],
      };
    } finally {
      await engine?.close();
      keys?.dispose();
      ckks.dispose();
    }
  },
};

/** Multiclass: one head per class, as the label party counted them at job.prepare; otherwise one. */
function headCount(ctx: JobContext): number {
  if (ctx.spec.objective !== 'multiclass') return 1;
  const classes = ctx.prepared.get(ctx.label.partyId)?.classes;
  if (!classes) throw new RangeError(`the label party reported no class count for a multiclass job`);
  return classes;
}

/** The feature parties share their partial logits with the label party, which reports the split's metrics. */
async function evaluate(
  ctx: JobContext,
  split: 'train' | 'validation',
  round: number,
  detailed = false,
): Promise<EvaluationMetrics> {
  const { jobId } = ctx.spec;
  await Promise.all(ctx.features.map((f) => ctx.call(f, lr.shareLogits, { jobId, split, round })));
  return ctx.call(ctx.label, lr.evaluate, { jobId, split, round, detailed });
}

interface Rounds {
  reports: EpochReport<EvaluationMetrics>[];
  earlyStopping: EarlyStoppingReport | null;
  traffic: { total: number; byLink: Record<string, number> };
}

async function trainRounds(
  ctx: JobContext,
  decryption: MaskedDecryptionService,
  keys: CkksKeyHolder,
  heads: number,
): Promise<Rounds> {
  const { spec, label, features } = ctx;
  const { jobId, hyperparameters: hp } = spec;
  const { trainRows } = ctx.alignment;
  const gradientLevel = keys.ckks.topLevel - 1;
  const scale = gradientScale(keys.ckks, hp);
  const batches = batchCount(trainRows, hp.batchSize);
  const reports: EpochReport<EvaluationMetrics>[] = [];
  const started = Date.now();
  const stopping = hp.earlyStopping ?? null;
  const resume = spec.resume;
  let best: { epoch: number; value: number } | undefined;
  let sinceBest = 0;
  let firstLoss = NaN;
  let traffic = { total: 0, byLink: {} as Record<string, number> };
  if (resume) {
    if (!(Number.isInteger(resume.epoch) && resume.epoch >= 1 && resume.epoch < hp.epochs))
      throw new RangeError(`resume.epoch must be in [1, ${hp.epochs - 1}], got ${resume.epoch}`);
    const records = (await ctx.resumeRecords()).map((r) => (r === null ? null : lr.trainingRecord.parse(r)));
    // The run goes on from the record every party kept with its checkpoint (the best epoch's weights among them).
    const record = agreedCheckpointRecord(records, Boolean(stopping), (r) => Boolean(r?.earlyStopping));
    if (record) firstLoss = record.firstLoss;
    if (record?.earlyStopping) {
      best = { epoch: record.earlyStopping.bestEpoch, value: record.earlyStopping.bestValue };
      sinceBest = record.earlyStopping.sinceBest;
    }
  }
  let diverged = false;
  for (let epoch = resume?.epoch ?? 0; epoch < hp.epochs; epoch++) {
    const epochStart = Date.now();
    ctx.traffic.start();
    for (let batch = 0; batch < batches; batch++) {
      for (let head = 0; head < heads; head++) {
        // Head 0's round and keys are those of a one-head model.
        const round = { jobId, epoch, batch, ...(head ? { head } : {}) };
        const at = { epoch, batch, ...(head ? { head } : {}) };
        const keyFor = (partyId: string) => `${partyId}:${epoch}:${batch}${head ? `:${head}` : ''}`;
        const batchRows = batch === batches - 1 ? trainRows - batch * hp.batchSize : hp.batchSize;
        for (const c of [label, ...features])
          decryption.expect(keyFor(c.partyId), {
            width: ctx.prepared.get(c.partyId)!.columns,
            batchRows,
            level: gradientLevel,
            scale,
          });
        await Promise.all(features.map((f) => ctx.call(f, lr.forward, round)));
        await ctx.call(label, lr.residual, round);
        // Every party's gradient at once: the label party's is already under way.
        await Promise.all(
          [label, ...features].map(async (channel) => {
            const { gradient } = await ctx.call(channel, lr.gradient, round);
            await ctx.message('lr.masked_gradient', channel.partyId, COORDINATOR_ID, gradient, at);
            const released = f64ToBytes(await decryption.decrypt(keyFor(channel.partyId), gradient));
            await ctx.message('lr.update', COORDINATOR_ID, channel.partyId, released, at);
            await ctx.call(channel, lr.update, { ...round, released });
          }),
        );
      }
      const done = epoch * batches + batch + 1;
      const perBatch = (Date.now() - started) / done;
      ctx.progress({
        phase: 'training',
        epoch: epoch + 1,
        epochs: hp.epochs,
        batch: batch + 1,
        batches,
        rowsProcessed: (batch === batches - 1 ? trainRows : (batch + 1) * hp.batchSize) + epoch * trainRows,
        etaSeconds: Math.round((perBatch * (hp.epochs * batches - done)) / 1000),
      });
    }
    const validation = await evaluate(ctx, 'validation', epoch);
    const loss = evaluationLoss(validation);
    if (Number.isNaN(firstLoss)) firstLoss = loss;
    if (!Number.isFinite(loss) || loss > DIVERGENCE_LOSS_FACTOR * Math.max(firstLoss, Math.LN2)) {
      // With early stopping and a best epoch kept, a blow-up ends training on that epoch's model.
      if (stopping && best) {
        diverged = true;
        break;
      }
      throw new TrainingDivergedError(
        `training diverged at epoch ${epoch + 1}: validation loss ${loss} (epoch 1: ${firstLoss}); lower the learning rate (${hp.learningRate}) or use a schedule`,
      );
    }
    const report: EpochReport<EvaluationMetrics> = {
      epoch: epoch + 1,
      seconds: (Date.now() - epochStart) / 1000,
      validation,
    };
    reports.push(report);
    traffic = ctx.traffic.take();
    await ctx.audit({
      step: 'lr.epoch',
      sender: COORDINATOR_ID,
      detail: { epoch: epoch + 1, ...epochFigures(validation) },
    });
    ctx.progress(
      {
        phase: 'training',
        epoch: epoch + 1,
        epochs: hp.epochs,
        batch: batches,
        batches,
        rowsProcessed: (epoch + 1) * trainRows,
        etaSeconds: null,
      },
      report,
    );
    if (stopping) {
      // "auc" is R² for a regression model (higher is better either way).
      const value = stopping.metric === 'auc' ? evaluationScore(validation) : -loss;
      if (!best || value > best.value + (stopping.minDelta ?? 0)) {
        best = { epoch: epoch + 1, value };
        sinceBest = 0;
        await ctx.snapshot(epoch + 1);
      } else if (++sinceBest >= stopping.patience) {
        break;
      }
    }
    // After the early-stopping step, so the checkpoint holds the best epoch's weights so far.
    if (epoch + 1 < hp.epochs) {
      const record: lr.LrTrainingRecord = {
        firstLoss,
        ...(best ? { earlyStopping: { bestEpoch: best.epoch, bestValue: best.value, sinceBest } } : {}),
      };
      await ctx.checkpoint(epoch + 1, record);
    }
  }
  if (!stopping || !best) return { reports, earlyStopping: null, traffic };
  // Epoch numbers, not report counts: a resumed job reports only the epochs after its checkpoint.
  const reported = reports.at(-1)?.epoch ?? resume?.epoch ?? 0;
  const last = diverged ? reported + 1 : reported;
  if (best.epoch !== last) await ctx.restore(best.epoch);
  const stoppedEarly = diverged || last < hp.epochs;
  const earlyStopping: EarlyStoppingReport = {
    metric: stopping.metric,
    bestEpoch: best.epoch,
    stoppedAtEpoch: last,
    stoppedEarly,
    ...(stoppedEarly ? { reason: diverged ? 'diverged' : 'patience' } : {}),
  };
  await ctx.audit({ step: 'lr.early_stopping', sender: COORDINATOR_ID, detail: { ...earlyStopping } });
  return { reports, earlyStopping, traffic };
}
