/**
 * The coordinator's side of split-NN training, after alignment (which SplitLrJob runs for both
 * model families). One batch, as the coordinator drives it (docs/split-nn.md has what each learns):
 *   1. announce the batch's decryptions (from the job layout alone)
 *   2. every feature party: nn.forward     (Enc(α_f) to the label party; its masked share α_f·N_f here)
 *   3. label party:        nn.products    (Enc(α_f ⊙ V_f) + masks, per feature party)
 *   4. coordinator releases Σ_f α_f·W_f + masks to the label party: nn.train_step
 *      (it sends each feature party Enc(B·δ̃) and returns its masked shares of δ̃·V_fᵀ and −R_f)
 *   5. every feature party: nn.backward    (Enc products with N_f and α_f, masked)
 *   6. coordinator releases δ̃·W_fᵀ and α_fᵀδ̃ − R_f (masked) to each: nn.apply
 * Evaluation runs steps 1–4 in inference mode per chunk of the split, then the label party
 * scores (nn.predict) and reports only aggregate metrics (nn.metrics). After every epoch but the
 * last every party checkpoints (model.checkpoint; with early stopping also its best epoch's part, and
 * the coordinator's record of it travels along); a resumed job loads the checkpoints (model.resume)
 * after he.keys and continues with the next epoch.
 */
import type { CkksContext } from '@vfl/crypto';
import { batchCount, NnArchitecture } from '@vfl/ml';
import { f64ToBytes, packBody, publicBundleBytes, publicBundleDigest } from '../wire/codec';
import type { Command } from '../wire/command';
import { COORDINATOR_ID } from '../wire/roster';
import type { PrepareReply } from '../job/commands';
import * as job from '../job/commands';
import { type EvaluationMetrics, epochFigures, evaluationScore } from '../job/evaluation';
import * as nn from './commands';
import { NN_EVAL_BATCH_ROWS } from './party-handlers';
import { SplitNnCoordinator } from './coordinator';
import { DefenceSpec, gaussianLabelDpEpsilon } from './defence';
import { SplitNnJobLayout } from './job-layout';
import { BatchKey, NnBackwardShare, NnForwardShare } from './messages';
import { backwardProductsWire, backwardShareWire, productsFromWire, vectorFromWire } from './wire';
import { agreedCheckpointRecord } from '../job/checkpoint-record';
import type { EarlyStoppingReport, EpochReport } from '../job/job-types';
import type { PartyChannel } from '../wire/party-channel';
import { nnEarlyStoppingSchema } from './settings';

export interface SplitNnTrainingResult {
  readonly epochs: EpochReport<EvaluationMetrics>[];
  readonly earlyStopping: EarlyStoppingReport | null;
  /** Binary: detailed metrics; regression or multiclass: the target's. */
  readonly train: EvaluationMetrics;
  readonly validation: EvaluationMetrics;
  readonly decryptions: number;
  readonly bytesPerEpoch: number;
  readonly defence: DefenceSpec;
  /** Label-DP ε (δ = 1e-5) of the gradients returned to feature parties, for the gaussian defence. */
  readonly epsilon: number | null;
}

export interface SplitNnDriver {
  readonly jobId: string;
  readonly architecture: NnArchitecture;
  readonly defence: DefenceSpec;
  readonly label: PartyChannel;
  readonly features: readonly PartyChannel[];
  readonly prepared: ReadonlyMap<string, PrepareReply>;
  readonly trainRows: number;
  readonly validationRows: number;
  /** The job's audited party call (audits the peer messages each reply lists). */
  call<Q, P>(channel: PartyChannel, command: Command<Q, P>, body: Q): Promise<P>;
  /** Audits one coordinator⇄party payload by digest and size. */
  message(step: string, from: string, to: string, bytes: Uint8Array, detail: Record<string, unknown>): Promise<unknown>;
  audit(event: {
    step: string;
    sender: string;
    receiver?: string;
    messageDigest?: string;
    byteSize?: number;
    detail: Record<string, unknown>;
  }): Promise<unknown>;
  progress(epoch: number, batch: number, batches: number, report?: EpochReport<EvaluationMetrics>): void;
  /** Bytes of the current epoch, counted by call() and message(). */
  takeEpochBytes(): number;
  /** Continue an interrupted job from its parties' checkpoints after `epoch` completed epochs. */
  readonly resume?: { readonly fromJobId: string; readonly epoch: number };
  /** Every party keeps its state of `epoch` completed epochs (model.checkpoint, audited); `record` goes with the command. */
  checkpoint(epoch: number, record?: unknown): Promise<void>;
  /** Every party loads its checkpoint of `resume` (model.resume, audited); the records they kept. */
  resumeRecords(): Promise<unknown[]>;
  /** Early stopping: every party keeps / goes back to its best epoch's part. */
  snapshot(epoch: number): Promise<void>;
  restore(epoch: number): Promise<void>;
}

/** What the forward steps need: the parties and the audited calls (a training job or a prediction). */
export type SplitNnForwardDriver = Pick<SplitNnDriver, 'jobId' | 'label' | 'features' | 'call' | 'message'>;

/** Steps 1–4 of a batch: the feature parties' forward, the label party's products, the coordinator's release. */
export async function forwardRelease(
  coordinator: SplitNnCoordinator,
  d: SplitNnForwardDriver,
  key: BatchKey,
  rows: number,
  split: 'train' | 'validation',
): Promise<Uint8Array> {
  const { jobId } = d;
  coordinator.announce(key, rows);
  const detail = { ...key };
  const shares: NnForwardShare[] = await Promise.all(
    d.features.map(async (f) => {
      const reply = await d.call(f, nn.forward, { jobId, ...key, split });
      await d.message('nn.forward_share', f.partyId, COORDINATOR_ID, packBody(reply.share), detail);
      return { party: f.partyId, share: vectorFromWire(reply.share, `forward share of ${f.partyId}`) };
    }),
  );
  const productsReply = await d.call(d.label, nn.products, { jobId, ...key, split });
  await d.message('nn.products', d.label.partyId, COORDINATOR_ID, packBody(productsReply.products), detail);
  const released = f64ToBytes(
    coordinator.releaseForward(key, { products: productsFromWire(productsReply.products) }, shares),
  );
  await d.message('nn.release', COORDINATOR_ID, d.label.partyId, released, detail);
  return released;
}

/** Inference over a split in chunks: every chunk's release is scored at the label party (nn.predict), which keeps the scores. */
export async function scoreSplit(
  coordinator: SplitNnCoordinator,
  d: SplitNnForwardDriver,
  split: 'train' | 'validation',
  total: number,
  epoch: number,
): Promise<void> {
  for (let batch = 0, start = 0; start < total; batch++, start += NN_EVAL_BATCH_ROWS) {
    const key: BatchKey = { phase: 'eval', epoch, batch };
    const released = await forwardRelease(coordinator, d, key, Math.min(NN_EVAL_BATCH_ROWS, total - start), split);
    await d.call(d.label, nn.predict, { jobId: d.jobId, ...key, split, released });
  }
}

/** Sends every party the job's public key and the parties' input widths, audited. */
export async function sendKeys(
  coordinator: SplitNnCoordinator,
  d: Pick<SplitNnDriver, 'jobId' | 'label' | 'features' | 'call' | 'audit'>,
  widths: Record<string, number>,
): Promise<void> {
  const bundle = coordinator.publicBundle();
  const bundleBytes = publicBundleBytes(bundle);
  const bundleDigest = publicBundleDigest(bundle);
  for (const c of [d.label, ...d.features]) {
    await d.call(c, job.heKeys, { jobId: d.jobId, bundle, widths });
    await d.audit({
      step: 'he.keys',
      sender: COORDINATOR_ID,
      receiver: c.partyId,
      byteSize: bundleBytes,
      messageDigest: bundleDigest,
      detail: { parameterSet: bundle.parameterSet, model: 'split-nn', widths },
    });
  }
}

export async function trainSplitNn(ckks: CkksContext, d: SplitNnDriver): Promise<SplitNnTrainingResult> {
  const arch = d.architecture;
  const { jobId } = d;
  const widthOf = (c: PartyChannel) => d.prepared.get(c.partyId)!.columnNames.length;
  const layout = new SplitNnJobLayout(
    {
      architecture: arch,
      label: { id: d.label.partyId, inputWidth: widthOf(d.label) },
      features: d.features.map((f) => ({ id: f.partyId, inputWidth: widthOf(f) })),
    },
    ckks.slots,
  );
  const coordinator = SplitNnCoordinator.create(ckks, layout);
  const all = [d.label, ...d.features];
  try {
    await sendKeys(coordinator, d, Object.fromEntries(all.map((c) => [c.partyId, widthOf(c)])));
    const forward = (key: BatchKey, rows: number, split: 'train' | 'validation') =>
      forwardRelease(coordinator, d, key, rows, split);

    const evaluate = async (
      split: 'train' | 'validation',
      epoch: number,
      detailed: boolean,
    ): Promise<EvaluationMetrics> => {
      await scoreSplit(coordinator, d, split, split === 'train' ? d.trainRows : d.validationRows, epoch);
      return d.call(d.label, nn.metrics, { jobId, split, detailed });
    };

    const { batchSize, epochs } = arch.training;
    const batches = batchCount(d.trainRows, batchSize);
    const reports: EpochReport<EvaluationMetrics>[] = [];
    const stopping = arch.training.earlyStopping;
    const resume = d.resume;
    let best: { epoch: number; auc: number } | undefined;
    let sinceBest = 0;
    if (resume) {
      if (!(Number.isInteger(resume.epoch) && resume.epoch >= 1 && resume.epoch < epochs))
        throw new RangeError(`resume.epoch must be in [1, ${epochs - 1}], got ${resume.epoch}`);
      const records = (await d.resumeRecords()).map((r) => (r === null ? null : nnEarlyStoppingSchema.parse(r)));
      // Early stopping goes on from the record every party kept with its best epoch's part.
      const record = agreedCheckpointRecord(records, Boolean(stopping), (r) => Boolean(r));
      if (record) {
        best = { epoch: record.bestEpoch, auc: record.bestAuc };
        sinceBest = record.sinceBest;
      }
    }
    let bytesPerEpoch = 0;
    // Evaluation keys count on from the resumed epoch, as in the uninterrupted run.
    let evalRound = resume?.epoch ?? 0;
    for (let epoch = resume?.epoch ?? 0; epoch < epochs; epoch++) {
      const started = Date.now();
      d.takeEpochBytes();
      let lossSum = 0;
      for (let batch = 0; batch < batches; batch++) {
        const key: BatchKey = { phase: 'train', epoch, batch };
        const rows = batch === batches - 1 ? d.trainRows - batch * batchSize : batchSize;
        const released = await forward(key, rows, 'train');
        const step = await d.call(d.label, nn.trainStep, { jobId, ...key, released });
        const loss = Number(step.loss);
        if (!Number.isFinite(loss))
          throw new Error(
            `split NN diverged at epoch ${epoch + 1}, batch ${batch + 1}: the training loss is ${loss}; lower training.learningRate (${arch.training.learningRate})`,
          );
        lossSum += loss * rows;
        const backShares = step.shares;
        if (!Array.isArray(backShares) || backShares.length !== d.features.length)
          throw new Error(
            `${d.label.partyId} returned ${Array.isArray(backShares) ? backShares.length : 'no'} backward shares for ${d.features.length} feature parties`,
          );
        await Promise.all(
          d.features.map(async (f, i) => {
            const share: NnBackwardShare = backwardShareWire.from(backShares[i]);
            await d.message('nn.backward_share', d.label.partyId, COORDINATOR_ID, packBody(backShares[i]), { ...key });
            const reply = await d.call(f, nn.backward, { jobId, ...key });
            const products = backwardProductsWire.from(reply);
            await d.message('nn.backward_products', f.partyId, COORDINATOR_ID, packBody({ g: reply.g, w: reply.w }), {
              ...key,
            });
            const back = f64ToBytes(coordinator.releaseBackward(key, f.partyId, products, share));
            await d.message('nn.release', COORDINATOR_ID, f.partyId, back, { ...key });
            await d.call(f, nn.apply, { jobId, ...key, released: back });
          }),
        );
        d.progress(epoch, batch, batches);
      }
      const validation = await evaluate('validation', evalRound++, false);
      const report: EpochReport<EvaluationMetrics> = {
        epoch: epoch + 1,
        seconds: (Date.now() - started) / 1000,
        validation,
        trainLoss: lossSum / d.trainRows,
      };
      reports.push(report);
      bytesPerEpoch = d.takeEpochBytes();
      await d.audit({
        step: 'nn.epoch',
        sender: COORDINATOR_ID,
        detail: { epoch: epoch + 1, ...epochFigures(validation) },
      });
      d.progress(epoch, batches - 1, batches, report);
      if (stopping) {
        // AUC (multiclass: the mean one-vs-rest AUC; regression: R²), higher is better.
        const score = evaluationScore(validation);
        if (!best || score > best.auc + (stopping.minDelta ?? 0)) {
          best = { epoch: epoch + 1, auc: score };
          sinceBest = 0;
          await d.snapshot(epoch + 1);
        } else if (++sinceBest >= stopping.patience) break;
      }
      // After the early-stopping step, so the checkpoint holds this epoch's best-so-far part and record.
      if (epoch + 1 < epochs)
        await d.checkpoint(epoch + 1, best ? { bestEpoch: best.epoch, bestAuc: best.auc, sinceBest } : undefined);
    }
    // Epochs count on from the resumed one.
    const lastEpoch = (resume?.epoch ?? 0) + reports.length;
    let earlyStopping: EarlyStoppingReport | null = null;
    if (stopping && best) {
      if (best.epoch !== lastEpoch) await d.restore(best.epoch);
      earlyStopping = {
        metric: 'auc',
        bestEpoch: best.epoch,
        stoppedAtEpoch: lastEpoch,
        stoppedEarly: lastEpoch < epochs,
      };
      await d.audit({ step: 'nn.early_stopping', sender: COORDINATOR_ID, detail: { ...earlyStopping } });
    }
    const train = await evaluate('train', evalRound++, true);
    const validation = await evaluate('validation', evalRound++, true);
    return {
      epochs: reports,
      earlyStopping,
      train,
      validation,
      decryptions: coordinator.service.decryptions,
      bytesPerEpoch,
      defence: d.defence,
      epsilon: d.defence.kind === 'gaussian' ? gaussianLabelDpEpsilon(d.defence.noiseMultiplier, reports.length) : null,
    };
  } finally {
    coordinator.dispose();
  }
}
