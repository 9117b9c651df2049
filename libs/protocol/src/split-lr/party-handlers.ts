/**
 * A party's side of split LR: its keys and CKKS engine, one round's steps (forward, residual,
 * gradient, update), evaluation, and the hooks every model has (export, checkpoint, resume,
 * best-epoch snapshot). The math is in split-lr-party.ts; this file moves messages.
 *
 * A party holds one model head per class (objective multiclass, one-vs-rest) or one head; every
 * round command names its head (default 0). Regression: the label party's targets are
 * standardised on its training rows; predictions are unscaled where the targets are.
 */
import { createCkksEngine, CkksEncryptor } from '@vfl/crypto';
import {
  headLabels,
  isRowWeighted,
  LrHyperparameters,
  oneVsRestProbabilities,
  resolvePositiveWeight,
  sigmoid,
  TargetScaler,
  TfLinearScorer,
} from '@vfl/ml';
import { modelDigest } from '../model-manifest';
import { splitMetrics, targetSplitMetrics } from '../job/evaluation';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey, PartyJob } from '../party/party-job';
import { onJobCommand, onPeer, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import { bytesToF64, digestHex, f64ToBytes } from '../wire/codec';
import { checked } from '../wire/command';
import { COORDINATOR_ID } from '../wire/roster';
import * as lr from './commands';
import type { PartyCheckpoint, PartyModel } from './model';
import { FeaturePartyLr, ForwardShare, LabelPartyLr } from './split-lr-party';
import { savedPartBase } from '../party/saved-part';

export const SPLIT_LR = 'split-lr';

const HYPERPARAMETERS = new JobSlot<LrHyperparameters>('split-lr hyperparameters');

/** The party's model heads, its encryptor, engine and scorer: created by he.keys, disposed with the job. */
class LrState {
  constructor(
    readonly heads: readonly (LabelPartyLr | FeaturePartyLr)[],
    /** Regression, label party: how its targets were standardised. */
    readonly target: TargetScaler | undefined,
    private readonly encryptor: CkksEncryptor,
    private readonly engine: { close(): Promise<void> },
    private readonly scorer: TfLinearScorer,
  ) {}

  get lr(): LabelPartyLr | FeaturePartyLr {
    return this.heads[0];
  }

  head(index = 0): LabelPartyLr | FeaturePartyLr {
    const h = this.heads[index];
    if (!h) throw new PartyError(`no model head ${index} (the model has ${this.heads.length})`);
    return h;
  }

  dispose(): void {
    void this.engine.close();
    this.encryptor.dispose();
    this.scorer.dispose();
  }
}

const STATE = new JobSlot<LrState>('split-lr model', 'no keys yet (he.keys not received)');

const forwardKey = (epoch: number, batch: number, head: number, from: string) =>
  mailKey<ForwardShare>('forward', epoch, batch, head, from);
const residualKey = (epoch: number, batch: number, head: number) =>
  mailKey<Uint8Array[]>('residual', epoch, batch, head);
const gradientKey = (epoch: number, batch: number, head: number) =>
  mailKey<Promise<Uint8Array>>('gradient', epoch, batch, head);
const logitsKey = (round: number, split: string, from: string) => mailKey<Float64Array>('logits', round, split, from);
/** The pending-gradient key of a round's head (head 0 keeps the key it always had). */
const roundKey = (epoch: number, batch: number, head: number) =>
  head ? `${epoch}:${batch}:${head}` : `${epoch}:${batch}`;

/** This party's current split-LR weights (a label party's intercept last; head 0 of a multiclass model). */
export function splitLrWeights(job: PartyJob): Float64Array {
  return job.get(STATE).lr.weights;
}

function model<T extends LabelPartyLr | FeaturePartyLr>(job: PartyJob, kind: new (...a: never[]) => T, head = 0): T {
  const m = job.get(STATE).head(head);
  if (!(m instanceof kind)) throw new PartyError(`this step is not for a ${job.role} party`);
  return m;
}

/** Every head's partial logits for `rows`, head after head. */
function allPartialLogits(job: PartyJob, rows: Int32Array): Float64Array[] {
  return job.get(STATE).heads.map((h) => h.partialLogits(rows));
}

/** Split LR's hooks: a pipeline's split-lr step delegates to them. */
export const splitLrHooks: PartyModelHooks = {
  miniBatches: true,
  prepare(job, raw) {
    const hp = checked(lr.settings, raw, `job ${job.id}: hyperparameters`);
    if (hp.sigmoid === 'cubic' && isRowWeighted(hp))
      throw new PartyError(`job ${job.id}: positiveWeight works with the taylor sigmoid only`);
    const objective = hp.objective ?? 'binary';
    if (objective !== (job.settings.objective ?? 'binary'))
      throw new PartyError(`job ${job.id}: the hyperparameters' objective differs from the job's data settings`);
    if (objective !== 'binary' && isRowWeighted(hp))
      throw new PartyError(`job ${job.id}: positiveWeight is for a binary label, the objective is ${objective}`);
    if (objective === 'regression' && hp.sigmoid === 'cubic')
      throw new PartyError(`job ${job.id}: linear regression has no sigmoid to approximate (sigmoid "cubic")`);
    job.set(HYPERPARAMETERS, hp);
  },

  async installKeys(job, bundle, _widths, node, heads = 1) {
    const aligned = job.requireAligned();
    const hp = job.get(HYPERPARAMETERS);
    const objective = hp.objective ?? 'binary';
    if (job.role === 'label' && objective === 'multiclass' && heads !== aligned.classCount)
      throw new PartyError(`he.keys asks for ${heads} model heads, the label column has ${aligned.classCount} classes`);
    if (objective !== 'multiclass' && heads !== 1)
      throw new PartyError(`he.keys asks for ${heads} model heads; only a multiclass model has more than one`);
    const ckks = await node.ckks();
    job.find(STATE)?.dispose();
    const encryptor = CkksEncryptor.fromBundle(ckks, bundle);
    const scorer = new TfLinearScorer(node.tensorflow.tf, aligned.matrix, aligned.columns);
    const engine = createCkksEngine({ ckks, encryptor }, node.ckksThreads);
    const options = { ckks, encryptor, engine, hp, scorer, matrix: aligned.matrix, columns: aligned.columns };
    const target =
      job.role === 'label' && objective === 'regression'
        ? TargetScaler.fit(aligned.targets!, aligned.split.train)
        : undefined;
    const labelsOf = (head: number): ArrayLike<number> =>
      objective === 'regression'
        ? target!.scale(aligned.targets!)
        : objective === 'multiclass'
          ? headLabels(aligned.targets!, head)
          : aligned.labels!;
    const parties = Array.from({ length: heads }, (_, head) =>
      job.role === 'label'
        ? new LabelPartyLr(
            {
              ...options,
              interceptIndex: aligned.columns - 1,
              positiveWeight:
                objective === 'binary' ? resolvePositiveWeight(hp, labelsOf(head), aligned.split.train) : 1,
            },
            labelsOf(head),
          )
        : new FeaturePartyLr(options),
    );
    job.set(STATE, new LrState(parties, target, encryptor, engine, scorer));
    for (const party of parties) await party.prepare();
  },

  exportModel(job, node): PartyModel {
    const a = job.requireAligned();
    const state = job.get(STATE);
    const objective = job.get(HYPERPARAMETERS).objective ?? 'binary';
    return {
      ...savedPartBase(job, node.partyId, {
        clipSigma: job.settings.clipSigma,
        columns: job.role === 'label' ? [...a.columnNames, '(intercept)'] : [...a.columnNames],
      }),
      weights: Array.from(state.lr.weights),
      ...(objective !== 'binary' ? { objective } : {}),
      ...(state.heads.length > 1 ? { heads: state.heads.map((h) => Array.from(h.weights)) } : {}),
      ...(state.target ? { target: { mean: state.target.mean, deviation: state.target.deviation } } : {}),
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
      ...(job.get(STATE).heads.length > 1
        ? {
            otherHeads: job
              .get(STATE)
              .heads.slice(1)
              .map((h) => h.checkpointState()),
          }
        : {}),
      ...(training ? { training } : {}),
    };
  },

  resumeProblems: (job, checkpoint) =>
    checkpoint.hyperparametersDigest !== modelDigest(job.get(HYPERPARAMETERS)) ? ['the hyperparameters differ'] : [],

  resume(job, stored) {
    const checkpoint = stored as PartyCheckpoint;
    const heads = job.get(STATE).heads;
    if ((checkpoint.otherHeads?.length ?? 0) !== heads.length - 1)
      throw new PartyError(
        `the checkpoint holds ${1 + (checkpoint.otherHeads?.length ?? 0)} model heads, this job ${heads.length}`,
      );
    heads[0].restoreState(checkpoint);
    checkpoint.otherHeads?.forEach((s, k) => heads[k + 1].restoreState(s));
    return checkpoint.training ?? null;
  },

  baselineHyperparameters: (job) => job.get(HYPERPARAMETERS),
  snapshot: (job) => job.get(STATE).heads.forEach((h) => h.snapshot()),
  restore: (job) => job.get(STATE).heads.forEach((h) => h.restore()),
};

export const splitLrHandlers: PartyHandlerGroup = {
  model: SPLIT_LR,
  hooks: splitLrHooks,
  commands: [
    onJobCommand(lr.forward, async ({ epoch, batch, head = 0 }, job, call) => {
      const share = model(job, FeaturePartyLr, head).forward(job.batch(epoch, batch));
      await call.send(job, job.labelParty(), lr.forwardShare, {
        epoch,
        batch,
        ...(head ? { head } : {}),
        chunks: [...share.chunks],
        ...(share.linear ? { linear: [...share.linear] } : {}),
      });
      return {};
    }),
    onJobCommand(lr.residual, async ({ epoch, batch, head = 0 }, job, call) => {
      const features = job.featureParties();
      const forwards = features.map((f) => job.take(forwardKey(epoch, batch, head, f.partyId)));
      const { residual, gradient } = model(job, LabelPartyLr, head).residual(
        roundKey(epoch, batch, head),
        job.batch(epoch, batch),
        forwards,
      );
      // The own gradient is computed while Enc(d) travels; lr.gradient collects it.
      gradient.catch(() => undefined); // a failure is reported by lr.gradient, not as an unhandled rejection
      job.put(gradientKey(epoch, batch, head), gradient);
      await Promise.all(
        features.map((f) =>
          call.send(job, f.partyId, lr.residualShare, { epoch, batch, ...(head ? { head } : {}), chunks: residual }),
        ),
      );
      return {};
    }),
    onJobCommand(
      lr.gradient,
      async ({ epoch, batch, head = 0 }, job) => {
        if (job.role === 'label') {
          model(job, LabelPartyLr, head);
          return { gradient: await job.take(gradientKey(epoch, batch, head)) };
        }
        const chunks = job.take(residualKey(epoch, batch, head));
        return {
          gradient: await model(job, FeaturePartyLr, head).gradient(
            roundKey(epoch, batch, head),
            job.batch(epoch, batch),
            chunks,
          ),
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
            detail: { epoch: body.epoch, batch: body.batch, ...(body.head ? { head: body.head } : {}) },
          },
        ],
      },
    ),
    onJobCommand(
      lr.update,
      ({ epoch, batch, head = 0, released }, job) => {
        job
          .get(STATE)
          .head(head)
          .applyUpdate(roundKey(epoch, batch, head), bytesToF64(released, 'released gradient'), epoch);
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
            detail: { epoch: body.epoch, batch: body.batch, ...(body.head ? { head: body.head } : {}) },
          },
        ],
      },
    ),
    onJobCommand(lr.shareLogits, async (body, job, call) => {
      model(job, FeaturePartyLr);
      // Every head's partial logits, head after head (one head but for multiclass).
      const heads = allPartialLogits(job, job.rows(body.split));
      const values = new Float64Array(heads.reduce((n, h) => n + h.length, 0));
      heads.forEach((h, k) => values.set(h, k * h.length));
      await call.send(job, job.labelParty(), lr.logits, {
        round: body.round,
        split: body.split,
        values: f64ToBytes(values),
      });
      return {};
    }),
    onJobCommand(lr.evaluate, (body, job) => {
      const rows = job.rows(body.split);
      const state = job.get(STATE);
      const partials = job.featureParties().map((f) => job.take(logitsKey(body.round, body.split, f.partyId)));
      const logits = state.heads.map((_, k) =>
        model(job, LabelPartyLr, k).logits(
          rows,
          partials.map((p) => p.subarray(k * rows.length, (k + 1) * rows.length)),
        ),
      );
      for (const p of partials)
        if (p.length !== state.heads.length * rows.length)
          throw new PartyError(
            `partial logits hold ${p.length} values, expected ${state.heads.length} heads of ${rows.length} rows`,
          );
      const objective = job.get(HYPERPARAMETERS).objective ?? 'binary';
      if (objective === 'regression') return targetSplitMetrics(job, body.split, state.target!.unscale(logits[0]));
      if (objective === 'multiclass') return targetSplitMetrics(job, body.split, oneVsRestProbabilities(logits));
      return splitMetrics(job, body.split, logits[0].map(sigmoid), body.detailed);
    }),
  ],
  peers: [
    onPeer(lr.forwardShare, (body, job, from) =>
      job.put(forwardKey(body.epoch, body.batch, body.head ?? 0, from), { chunks: body.chunks, linear: body.linear }),
    ),
    onPeer(lr.residualShare, (body, job) => job.put(residualKey(body.epoch, body.batch, body.head ?? 0), body.chunks)),
    onPeer(lr.logits, (body, job, from) =>
      job.put(logitsKey(body.round, body.split, from), bytesToF64(body.values, 'partial logits')),
    ),
  ],
};
