/**
 * A party's side of split LR: its keys and CKKS engine, one round's steps (forward, residual,
 * gradient, update), evaluation, and the hooks every model has (export, checkpoint, resume,
 * best-epoch snapshot). The math is in split-lr-party.ts; this file moves messages.
 */
import { createCkksEngine, CkksEncryptor } from '@vfl/crypto';
import { isRowWeighted, LrHyperparameters, resolvePositiveWeight, sigmoid, TfLinearScorer } from '@vfl/ml';
import { modelDigest } from '../model-manifest';
import { splitMetrics } from '../job/evaluation';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey, PartyJob } from '../party/party-job';
import { onJobCommand, onPeer, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import { bytesToF64, digestHex, f64ToBytes } from '../wire/codec';
import { checked } from '../wire/command';
import { COORDINATOR_ID } from '../wire/roster';
import * as lr from './commands';
import type { PartyCheckpoint, PartyModel } from './model';
import { FeaturePartyLr, ForwardShare, LabelPartyLr } from './split-lr-party';

export const SPLIT_LR = 'split-lr';

const HYPERPARAMETERS = new JobSlot<LrHyperparameters>('split-lr hyperparameters');

/** The party's model, its encryptor, engine and scorer: created by he.keys, disposed with the job. */
class LrState {
  constructor(
    readonly lr: LabelPartyLr | FeaturePartyLr,
    private readonly encryptor: CkksEncryptor,
    private readonly engine: { close(): Promise<void> },
    private readonly scorer: TfLinearScorer,
  ) {}

  dispose(): void {
    void this.engine.close();
    this.encryptor.dispose();
    this.scorer.dispose();
  }
}

const STATE = new JobSlot<LrState>('split-lr model', 'no keys yet (he.keys not received)');

const forwardKey = (epoch: number, batch: number, from: string) => mailKey<ForwardShare>('forward', epoch, batch, from);
const residualKey = (epoch: number, batch: number) => mailKey<Uint8Array[]>('residual', epoch, batch);
const gradientKey = (epoch: number, batch: number) => mailKey<Promise<Uint8Array>>('gradient', epoch, batch);
const logitsKey = (round: number, split: string, from: string) => mailKey<Float64Array>('logits', round, split, from);

/** This party's current split-LR weights (a label party's intercept last). */
export function splitLrWeights(job: PartyJob): Float64Array {
  return job.get(STATE).lr.weights;
}

function model<T extends LabelPartyLr | FeaturePartyLr>(job: PartyJob, kind: new (...a: never[]) => T): T {
  const m = job.get(STATE).lr;
  if (!(m instanceof kind)) throw new PartyError(`this step is not for a ${job.role} party`);
  return m;
}

/** Split LR's hooks: a pipeline's split-lr step delegates to them. */
export const splitLrHooks: PartyModelHooks = {
  miniBatches: true,
  prepare(job, raw) {
    const hp = checked(lr.settings, raw, `job ${job.id}: hyperparameters`);
    if (hp.sigmoid === 'cubic' && isRowWeighted(hp))
      throw new PartyError(`job ${job.id}: positiveWeight works with the taylor sigmoid only`);
    job.set(HYPERPARAMETERS, hp);
  },

  async installKeys(job, bundle, _widths, node) {
    const aligned = job.requireAligned();
    const hp = job.get(HYPERPARAMETERS);
    const ckks = await node.ckks();
    job.find(STATE)?.dispose();
    const encryptor = CkksEncryptor.fromBundle(ckks, bundle);
    const scorer = new TfLinearScorer(node.tensorflow.tf, aligned.matrix, aligned.columns);
    const engine = createCkksEngine({ ckks, encryptor }, node.ckksThreads);
    const options = { ckks, encryptor, engine, hp, scorer, matrix: aligned.matrix, columns: aligned.columns };
    const party =
      job.role === 'label'
        ? new LabelPartyLr(
            {
              ...options,
              interceptIndex: aligned.columns - 1,
              positiveWeight: resolvePositiveWeight(hp, aligned.labels!, aligned.split.train),
            },
            aligned.labels!,
          )
        : new FeaturePartyLr(options);
    job.set(STATE, new LrState(party, encryptor, engine, scorer));
    await party.prepare();
  },

  exportModel(job, node): PartyModel {
    const a = job.requireAligned();
    return {
      jobId: job.id,
      partyId: node.partyId,
      role: job.role,
      data: job.data,
      idRules: job.idRules,
      columns: job.role === 'label' ? [...a.columnNames, '(intercept)'] : a.columnNames,
      weights: Array.from(job.get(STATE).lr.weights),
      standardization: {
        means: Array.from(a.standardizer.means),
        deviations: Array.from(a.standardizer.deviations),
        clipSigma: job.settings.clipSigma,
      },
    };
  },

  checkpoint(job, epoch, record, node): PartyCheckpoint {
    const training =
      record === undefined || record === null
        ? undefined
        : checked(lr.trainingRecord, record, 'model.checkpoint: record');
    return {
      jobId: job.id,
      partyId: node.partyId,
      epoch,
      contentSha256: job.contentSha256,
      hyperparametersDigest: modelDigest(job.get(HYPERPARAMETERS)),
      ...job.get(STATE).lr.checkpointState(),
      ...(training ? { training } : {}),
    };
  },

  resumeProblems: (job, checkpoint) =>
    checkpoint.hyperparametersDigest !== modelDigest(job.get(HYPERPARAMETERS)) ? ['the hyperparameters differ'] : [],

  resume(job, stored) {
    const checkpoint = stored as PartyCheckpoint;
    job.get(STATE).lr.restoreState(checkpoint);
    return checkpoint.training ?? null;
  },

  baselineHyperparameters: (job) => job.get(HYPERPARAMETERS),
  snapshot: (job) => job.get(STATE).lr.snapshot(),
  restore: (job) => job.get(STATE).lr.restore(),
};

export const splitLrHandlers: PartyHandlerGroup = {
  model: SPLIT_LR,
  hooks: splitLrHooks,
  commands: [
    onJobCommand(lr.forward, async ({ epoch, batch }, job, call) => {
      const share = model(job, FeaturePartyLr).forward(job.batch(epoch, batch));
      await call.send(job, job.labelParty(), lr.forwardShare, {
        epoch,
        batch,
        chunks: [...share.chunks],
        ...(share.linear ? { linear: [...share.linear] } : {}),
      });
      return {};
    }),
    onJobCommand(lr.residual, async ({ epoch, batch }, job, call) => {
      const features = job.featureParties();
      const forwards = features.map((f) => job.take(forwardKey(epoch, batch, f.partyId)));
      const { residual, gradient } = model(job, LabelPartyLr).residual(
        `${epoch}:${batch}`,
        job.batch(epoch, batch),
        forwards,
      );
      // The own gradient is computed while Enc(d) travels; lr.gradient collects it.
      gradient.catch(() => undefined); // a failure is reported by lr.gradient, not as an unhandled rejection
      job.put(gradientKey(epoch, batch), gradient);
      await Promise.all(
        features.map((f) => call.send(job, f.partyId, lr.residualShare, { epoch, batch, chunks: residual })),
      );
      return {};
    }),
    onJobCommand(
      lr.gradient,
      async ({ epoch, batch }, job) => {
        if (job.role === 'label') {
          model(job, LabelPartyLr);
          return { gradient: await job.take(gradientKey(epoch, batch)) };
        }
        const chunks = job.take(residualKey(epoch, batch));
        return {
          gradient: await model(job, FeaturePartyLr).gradient(`${epoch}:${batch}`, job.batch(epoch, batch), chunks),
        };
      },
      {
        outgoing: (body, reply, node) => [
          {
            step: 'lr.masked_gradient',
            sender: node.partyId,
            receiver: COORDINATOR_ID,
            messageDigest: digestHex(reply.gradient),
            byteSize: reply.gradient.length,
            detail: { epoch: body.epoch, batch: body.batch },
          },
        ],
      },
    ),
    onJobCommand(
      lr.update,
      ({ epoch, batch, released }, job) => {
        job.get(STATE).lr.applyUpdate(`${epoch}:${batch}`, bytesToF64(released, 'released gradient'), epoch);
        return {};
      },
      {
        incoming: (body, node) => [
          {
            step: 'lr.update',
            sender: COORDINATOR_ID,
            receiver: node.partyId,
            messageDigest: digestHex(body.released),
            byteSize: body.released.length,
            detail: { epoch: body.epoch, batch: body.batch },
          },
        ],
      },
    ),
    onJobCommand(lr.shareLogits, async (body, job, call) => {
      const values = model(job, FeaturePartyLr).partialLogits(job.rows(body.split));
      await call.send(job, job.labelParty(), lr.logits, {
        round: body.round,
        split: body.split,
        values: f64ToBytes(values),
      });
      return {};
    }),
    onJobCommand(lr.evaluate, (body, job) => {
      const partials = job.featureParties().map((f) => job.take(logitsKey(body.round, body.split, f.partyId)));
      const logits = model(job, LabelPartyLr).logits(job.rows(body.split), partials);
      return splitMetrics(job, body.split, logits.map(sigmoid), body.detailed);
    }),
  ],
  peers: [
    onPeer(lr.forwardShare, (body, job, from) =>
      job.put(forwardKey(body.epoch, body.batch, from), { chunks: body.chunks, linear: body.linear }),
    ),
    onPeer(lr.residualShare, (body, job) => job.put(residualKey(body.epoch, body.batch), body.chunks)),
    onPeer(lr.logits, (body, job, from) =>
      job.put(logitsKey(body.round, body.split, from), bytesToF64(body.values, 'partial logits')),
    ),
  ],
};
