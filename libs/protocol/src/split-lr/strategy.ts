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
 */
import { CkksContext, CkksEngine, createCkksEngine, CkksKeyHolder } from '@vfl/crypto';
import { batchCount, type BinaryMetrics } from '@vfl/ml';
import { agreedCheckpointRecord } from '../job/checkpoint-record';
import * as job from '../job/commands';
import type { DetailedMetrics } from '../job/evaluation';
import {
  Datasets,
  DIVERGENCE_LOSS_FACTOR,
  EarlyStoppingReport,
  EpochReport,
  TrainingDivergedError,
} from '../job/job-types';
import { checkBatchRows, JobContext, JobStrategy } from '../job/strategy';
import type { ModelManifest } from '../model-manifest';
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

export const splitLrStrategy: JobStrategy<SplitLrJobResult> = {
  model: SPLIT_LR,
  alignment: 'intersection',
  dataSettings: ({ hyperparameters: hp }) => ({
    validationFraction: hp.validationFraction,
    seed: hp.seed,
    clipSigma: hp.clipSigma ?? 0,
    batchSize: hp.batchSize,
  }),
  settings: (spec) => spec.hyperparameters,

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
      // Decryptions run on worker threads that hold the job's secret key, every party's gradient
      // at once; they load SEAL and the key while the parties take the public keys.
      engine = createCkksEngine({ ckks: keys.ckks, keys }, ctx.ckksThreads);
      const warming = engine.warm();
      void warming.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled meanwhile
      const bundle = keys.publicBundle();
      const bundleBytes = publicBundleBytes(bundle);
      const bundleDigest = publicBundleDigest(bundle);
      for (const c of [ctx.label, ...ctx.features]) {
        await ctx.call(c, job.heKeys, { jobId: ctx.spec.jobId, bundle });
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
          },
        });
      }
      await warming;
      const decryption = new MaskedDecryptionService(keys, DEFAULT_RELEASE_POLICY, secureGaussian, engine);
      const { reports: epochs, earlyStopping, traffic } = await trainRounds(ctx, decryption, keys);
      await ctx.phase('evaluating');
      ctx.progress({ phase: 'evaluating' });
      const train = (await evaluate(ctx, 'train', hp.epochs, true)) as DetailedMetrics;
      const validation = (await evaluate(ctx, 'validation', hp.epochs + 1, true)) as DetailedMetrics;
      const labelOnly = await ctx.baseline();
      const manifest = await ctx.exportModel({ model: 'split-lr' });
      const { intersection, trainRows, validationRows } = ctx.alignment;
      return {
        intersection,
        trainRows,
        validationRows,
        train,
        validation,
        labelOnly,
        epochs,
        earlyStopping,
        manifest,
        backend: ctx.prepared.get(ctx.label.partyId)!.backend,
        datasets: ctx.datasets,
        decryptions: decryption.decryptions,
        bytesPerEpoch: traffic.total,
        bytesPerEpochByLink: traffic.byLink,
      };
    } finally {
      await engine?.close();
      keys?.dispose();
      ckks.dispose();
    }
  },
};

/** The feature parties share their partial logits with the label party, which reports the split's metrics. */
async function evaluate(
  ctx: JobContext,
  split: 'train' | 'validation',
  round: number,
  detailed = false,
): Promise<BinaryMetrics | DetailedMetrics> {
  const { jobId } = ctx.spec;
  await Promise.all(ctx.features.map((f) => ctx.call(f, lr.shareLogits, { jobId, split, round })));
  return ctx.call(ctx.label, lr.evaluate, { jobId, split, round, detailed });
}

interface Rounds {
  reports: EpochReport[];
  earlyStopping: EarlyStoppingReport | null;
  traffic: { total: number; byLink: Record<string, number> };
}

async function trainRounds(ctx: JobContext, decryption: MaskedDecryptionService, keys: CkksKeyHolder): Promise<Rounds> {
  const { spec, label, features } = ctx;
  const { jobId, hyperparameters: hp } = spec;
  const { trainRows } = ctx.alignment;
  const gradientLevel = keys.ckks.topLevel - 1;
  const scale = gradientScale(keys.ckks, hp);
  const batches = batchCount(trainRows, hp.batchSize);
  const reports: EpochReport[] = [];
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
      const round = { jobId, epoch, batch };
      const keyFor = (partyId: string) => `${partyId}:${epoch}:${batch}`;
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
          await ctx.message('lr.masked_gradient', channel.partyId, COORDINATOR_ID, gradient, { epoch, batch });
          const released = f64ToBytes(await decryption.decrypt(keyFor(channel.partyId), gradient));
          await ctx.message('lr.update', COORDINATOR_ID, channel.partyId, released, { epoch, batch });
          await ctx.call(channel, lr.update, { ...round, released });
        }),
      );
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
    if (Number.isNaN(firstLoss)) firstLoss = validation.logLoss;
    if (
      !Number.isFinite(validation.logLoss) ||
      validation.logLoss > DIVERGENCE_LOSS_FACTOR * Math.max(firstLoss, Math.LN2)
    ) {
      // With early stopping and a best epoch kept, a blow-up ends training on that epoch's model.
      if (stopping && best) {
        diverged = true;
        break;
      }
      throw new TrainingDivergedError(
        `training diverged at epoch ${epoch + 1}: validation log loss ${validation.logLoss} (epoch 1: ${firstLoss}); lower the learning rate (${hp.learningRate}) or use a schedule`,
      );
    }
    const report: EpochReport = { epoch: epoch + 1, seconds: (Date.now() - epochStart) / 1000, validation };
    reports.push(report);
    traffic = ctx.traffic.take();
    await ctx.audit({
      step: 'lr.epoch',
      sender: COORDINATOR_ID,
      detail: { epoch: epoch + 1, validationAuc: validation.auc, validationLoss: validation.logLoss },
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
      const value = stopping.metric === 'auc' ? validation.auc : -validation.logLoss;
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
