/**
 * A party's side of split NN: its part of the network once the keys arrive, the steps of a batch
 * (forward, products, train step, backward, apply), evaluation and prediction chunks, and the
 * hooks every model has. The math is in label-party.ts and feature-party.ts.
 */
import { createHash } from 'node:crypto';
import { CkksEncryptor } from '@vfl/crypto';
import type { Objective } from '@vfl/data';
import { NnArchitecture, validateArchitecture, partySeed, DEFAULT_LR_HYPERPARAMETERS, TargetScaler } from '@vfl/ml';
import { modelDigest } from '../model-manifest';
import { EvaluationMetrics, splitMetrics, targetSplitMetrics } from '../job/evaluation';
import { differingPaths } from '../job/differing-paths';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey, PartyJob, Split } from '../party/party-job';
import { onJobCommand, onPeer, PartyContext, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import { digestHex, f64ToBytes, packBody } from '../wire/codec';
import { checked } from '../wire/command';
import { COORDINATOR_ID } from '../wire/roster';
import * as nn from './commands';
import { DefenceSpec, NO_DEFENCE, validateDefence } from './defence';
import { SplitNnFeatureParty } from './feature-party';
import { SplitNnJobLayout } from './job-layout';
import { SplitNnLabelParty } from './label-party';
import { BatchKey, batchKeyString, NnBackwardToFeature, NnForwardToLabel } from './messages';
import type { NnPartyCheckpoint, NnPartyModel, NnSettings } from './model';
import { nnEarlyStoppingSchema, nnSettingsSchema } from './settings';
import {
  backwardProductsWire,
  backwardShareWire,
  backwardToFeatureWire,
  forwardToLabelWire,
  vectorFromWire,
} from './wire';
import { savedPartBase } from '../party/saved-part';

export const SPLIT_NN = 'split-nn';

/** Rows per split-NN evaluation batch (the coordinator cuts a split the same way). */
export const NN_EVAL_BATCH_ROWS = 4096;

const SPEC = new JobSlot<{ architecture: NnArchitecture; defence: DefenceSpec }>('split-NN settings');
const NETWORK = new JobSlot<SplitNnLabelParty | SplitNnFeatureParty>(
  'split-NN model',
  'no split-NN model yet (he.keys not received)',
);
/** A prediction: the saved part that scores. */
const SAVED = new JobSlot<NnPartyModel>('saved split-NN model');
/** Evaluation: the label party's scores of the split being evaluated, by batch. */
const SCORES = new JobSlot<Map<number, Float64Array>>('split-NN scores');

const forwardKey = (k: BatchKey, from: string) => mailKey<NnForwardToLabel>('nn-forward', batchKeyString(k), from);
const backwardKey = (k: BatchKey) => mailKey<NnBackwardToFeature>('nn-backward', batchKeyString(k));

function network<T extends SplitNnLabelParty | SplitNnFeatureParty>(job: PartyJob, kind: new (...a: never[]) => T): T {
  const m = job.get(NETWORK);
  if (!(m instanceof kind)) throw new PartyError(`this step is not for a ${job.role} party`);
  return m;
}

function settingsOf(job: PartyJob): NnSettings {
  const spec = job.get(SPEC);
  return { data: { ...job.settings }, architecture: spec.architecture, defence: spec.defence };
}

/** The rows of a batch: training batches as in split LR, evaluation in chunks of the split. */
function rowsOf(job: PartyJob, key: BatchKey, split: Split): Int32Array {
  if (key.phase === 'train') {
    if (job.purpose === 'prediction') throw new PartyError(`a training batch is not a step of a prediction`);
    return job.batch(key.epoch, key.batch);
  }
  const rows = job.rows(split);
  const start = key.batch * NN_EVAL_BATCH_ROWS;
  if (start >= rows.length) throw new PartyError(`no evaluation batch ${key.batch} of the ${split} split`);
  return rows.subarray(start, Math.min(rows.length, start + NN_EVAL_BATCH_ROWS));
}

/** The label party's scores of every evaluation batch so far, in batch order; there must be `rows` of them. */
/** The label party's targets as its network trains on them: regression standardised on the training rows. */
function labelsOf(job: PartyJob): { labels: ArrayLike<number>; objective: Objective; classCount?: number } {
  const a = job.requireAligned();
  const saved = job.find(SAVED);
  // Scoring reads no labels: the saved top says what it predicts, the labels are placeholders.
  if (saved && job.purpose === 'prediction')
    return { labels: new Uint8Array(a.rows), objective: saved.objective ?? 'binary', classCount: saved.classCount };
  const objective = job.settings.objective ?? 'binary';
  if (objective === 'binary') return { labels: a.labels!, objective };
  if (objective === 'multiclass') return { labels: a.targets!, objective, classCount: a.classCount };
  return { labels: TargetScaler.fit(a.targets!, a.split.train).scale(a.targets!), objective };
}

/** What the label party's saved part needs to turn outputs into predictions: the objective, K, the target's scale. */
function savedTarget(job: PartyJob): Pick<NnPartyModel, 'objective' | 'classCount' | 'target'> {
  const a = job.requireAligned();
  const objective = job.settings.objective ?? 'binary';
  if (objective === 'binary') return {};
  if (objective === 'multiclass') return { objective, classCount: a.classCount };
  const scaler = TargetScaler.fit(a.targets!, a.split.train);
  return { objective, target: { mean: scaler.mean, deviation: scaler.deviation } };
}

/** A label party's prediction from its network's outputs: scores, and K for multiclass (row after row). */
export function nnPrediction(job: PartyJob, rows: number): { scores: Float64Array; classes?: number } {
  const saved = job.find(SAVED);
  if (saved?.objective === 'multiclass')
    return { scores: takeNnScores(job, rows * saved.classCount!), classes: saved.classCount };
  const scores = takeNnScores(job, rows);
  if (saved?.objective === 'regression')
    return { scores: TargetScaler.of(saved.target!.mean, saved.target!.deviation).unscale(scores) };
  return { scores };
}

/** A split's metrics from the network's outputs, as the objective has them. */
function nnMetrics(job: PartyJob, split: Split, detailed: boolean): EvaluationMetrics {
  const rows = job.rows(split).length;
  const a = job.requireAligned();
  const objective = job.settings.objective ?? 'binary';
  if (objective === 'binary') return splitMetrics(job, split, takeNnScores(job, rows), detailed);
  if (objective === 'multiclass') return targetSplitMetrics(job, split, takeNnScores(job, rows * a.classCount!));
  const scaler = TargetScaler.fit(a.targets!, a.split.train);
  return targetSplitMetrics(job, split, scaler.unscale(takeNnScores(job, rows)));
}

export function takeNnScores(job: PartyJob, rows: number): Float64Array {
  const byBatch = job.find(SCORES) ?? new Map<number, Float64Array>();
  const parts = [...byBatch.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  byBatch.clear();
  const scores = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    scores.set(p, at);
    at += p.length;
  }
  if (scores.length !== rows) throw new PartyError(`${scores.length} scores for ${rows} rows`);
  return scores;
}

/** A prediction job scores with this saved part (predict/party-handlers.ts sets it up). */
export function useSavedNnModel(job: PartyJob, model: NnPartyModel): void {
  try {
    job.set(SPEC, { architecture: validateArchitecture(model.architecture), defence: NO_DEFENCE });
  } catch (e) {
    throw new PartyError(`the saved model of job ${model.jobId}: ${(e as Error).message}`);
  }
  job.set(SAVED, model);
}

function seedOf(node: PartyContext, architecture: NnArchitecture): number {
  // The seed behind this party's initial weights and interactive-weight share must be its own
  // secret (a peer that knew it could recompute the share that hides W_f), yet reproducible:
  // derived from its signing key (ed25519 signatures are deterministic) and the job's seed.
  const secret = createHash('sha256')
    .update(node.identity.sign(`vfl-split-nn-seed-v1|seed=${architecture.training.seed}`))
    .digest();
  return partySeed(secret.readUInt32LE(0) & 0x7fffffff, node.partyId);
}

const hooks: PartyModelHooks = {
  miniBatches: true,
  prepare(job, raw) {
    const s = checked(nnSettingsSchema, raw, `job ${job.id}: nn`);
    try {
      job.set(SPEC, {
        architecture: validateArchitecture(s.architecture),
        defence: validateDefence(s.defence ?? NO_DEFENCE),
      });
    } catch (e) {
      throw new PartyError(`job ${job.id}: ${(e as Error).message}`);
    }
  },

  async installKeys(job, bundle, widths, node) {
    const aligned = job.requireAligned();
    const ckks = await node.ckks();
    const encryptor = CkksEncryptor.fromBundle(ckks, bundle);
    const spec = job.get(SPEC);
    // Every party builds the same layout from the architecture and every party's input width.
    const w = widths ?? {};
    const label = job.labelParty();
    const layout = new SplitNnJobLayout(
      {
        architecture: spec.architecture,
        label: { id: label, inputWidth: Number(w[label]) },
        features: job.featureParties().map((f) => ({ id: f.partyId, inputWidth: Number(w[f.partyId]) })),
      },
      ckks.slots,
    );
    const mine =
      layout.spec.label.id === node.partyId
        ? layout.spec.label.inputWidth
        : layout.features.find((f) => f.id === node.partyId)?.inputWidth;
    if (mine !== aligned.columnNames.length)
      throw new PartyError(
        `the job says ${node.partyId} has ${w[node.partyId]} input columns, its data has ${aligned.columnNames.length}`,
      );
    job.find(NETWORK)?.dispose();
    const common = {
      id: node.partyId,
      layout,
      tf: node.tensorflow.tf,
      ckks,
      encryptor,
      features: aligned.standardized,
      seed: seedOf(node, spec.architecture),
    };
    const party =
      job.role === 'label'
        ? new SplitNnLabelParty({ ...common, ...labelsOf(job), defence: spec.defence })
        : new SplitNnFeatureParty(common);
    job.set(NETWORK, party);
    job.set(ENCRYPTOR, encryptor);
    // A prediction scores with the saved part, not with freshly initialised weights.
    const saved = job.find(SAVED);
    if (saved) {
      const p = saved.parameters;
      if (party instanceof SplitNnLabelParty && p.role === 'label') party.loadParameters(p);
      else if (party instanceof SplitNnFeatureParty && p.role === 'feature') party.loadParameters(p);
      else
        throw new PartyError(
          `the saved model of job ${saved.jobId} is a ${p.role} party's part, this party is ${job.role}`,
        );
    }
  },

  exportModel(job, node): NnPartyModel {
    // Only this party's own part (bottom and N_f; or bottom, top, W_L, b and the V_f).
    return {
      ...savedPartBase(job, node.partyId, { clipSigma: job.settings.clipSigma }),
      family: 'split-nn',
      architecture: job.get(SPEC).architecture,
      parameters: job.get(NETWORK).parameters(),
      ...(job.role === 'label' ? savedTarget(job) : {}),
    };
  },

  checkpoint(job, epoch, record, node): NnPartyCheckpoint {
    const earlyStopping =
      record === undefined || record === null
        ? undefined
        : checked(nnEarlyStoppingSchema, record, 'model.checkpoint: record');
    const settings = settingsOf(job);
    return {
      family: 'split-nn',
      jobId: job.id,
      partyId: node.partyId,
      epoch,
      contentSha256: job.contentSha256,
      hyperparametersDigest: modelDigest(settings),
      settings,
      state: job.get(NETWORK).checkpointState(),
      ...(earlyStopping ? { earlyStopping } : {}),
    };
  },

  resumeProblems(job, stored) {
    const checkpoint = stored as NnPartyCheckpoint;
    const settings = settingsOf(job);
    const changed = differingPaths(checkpoint.settings, settings);
    return changed.length || checkpoint.hyperparametersDigest !== modelDigest(settings)
      ? [`the settings differ (${changed.join(', ') || 'digest'})`]
      : [];
  },

  resume(job, stored) {
    const checkpoint = stored as NnPartyCheckpoint;
    job.get(NETWORK).restoreState(checkpoint.state);
    return checkpoint.earlyStopping ?? null;
  },

  // The uplift baseline: the label party's LR with the job's split and batches, features unclipped as the network's.
  baselineHyperparameters: (job) => ({
    ...DEFAULT_LR_HYPERPARAMETERS,
    epochs: job.get(SPEC).architecture.training.epochs,
    batchSize: job.settings.batchSize,
    seed: job.settings.seed,
    validationFraction: job.settings.validationFraction,
    clipSigma: job.settings.clipSigma,
  }),
  snapshot: (job) => job.get(NETWORK).checkpoint(),
  restore: (job) => job.get(NETWORK).restoreCheckpoint(),
};

const ENCRYPTOR = new JobSlot<{ dispose(): void }>('split-NN encryptor');

/** A coordinator release of the forward or backward pass, for the party's own log (the coordinator records the same digest). */
const released = (body: { released: Uint8Array; phase: string; epoch: number; batch: number }, node: PartyContext) => [
  {
    step: 'nn.release',
    sender: COORDINATOR_ID,
    receiver: node.partyId,
    messageDigest: digestHex(body.released),
    byteSize: body.released.length,
    detail: { phase: body.phase, epoch: body.epoch, batch: body.batch },
  },
];

/** What a reply hands the coordinator, by digest of the same payload the coordinator digests. */
const handedOver = (
  step: string,
  payload: unknown,
  body: { phase: string; epoch: number; batch: number },
  node: PartyContext,
) => {
  const bytes = packBody(payload);
  return {
    step,
    sender: node.partyId,
    receiver: COORDINATOR_ID,
    messageDigest: digestHex(bytes),
    byteSize: bytes.length,
    detail: { phase: body.phase, epoch: body.epoch, batch: body.batch },
  };
};

const key = (b: { phase: 'train' | 'eval'; epoch: number; batch: number }): BatchKey => ({
  phase: b.phase,
  epoch: b.epoch,
  batch: b.batch,
});

export const splitNnHandlers: PartyHandlerGroup = {
  model: SPLIT_NN,
  hooks,
  commands: [
    onJobCommand(
      nn.forward,
      async (body, job, call) => {
        const k = key(body);
        const rows = rowsOf(job, k, body.split ?? 'train');
        const { toLabel, toCoordinator } = network(job, SplitNnFeatureParty).forward(k, rows);
        await call.send(job, job.labelParty(), nn.forwardToLabel, { ...k, ...forwardToLabelWire.to(toLabel) });
        return { share: f64ToBytes(toCoordinator.share) };
      },
      {
        inPrediction: true,
        outgoing: (body, reply, node) => [handedOver('nn.forward_share', reply.share, body, node)],
      },
    ),

    onJobCommand(
      nn.products,
      (body, job) => {
        const k = key(body);
        const rows = rowsOf(job, k, body.split ?? 'train');
        const forwards = job.featureParties().map((f) => job.take(forwardKey(k, f.partyId)));
        return { products: network(job, SplitNnLabelParty).forwardProducts(k, rows, forwards).products };
      },
      { inPrediction: true, outgoing: (body, reply, node) => [handedOver('nn.products', reply.products, body, node)] },
    ),

    onJobCommand(
      nn.trainStep,
      async (body, job, call) => {
        const k = key(body);
        const step = network(job, SplitNnLabelParty).trainStep(k, vectorFromWire(body.released, 'released forward'));
        const features = job.featureParties();
        await Promise.all(
          features.map((f, i) =>
            call.send(job, f.partyId, nn.backwardToFeature, {
              ...k,
              ...backwardToFeatureWire.to(step.toFeatures[i]),
            }),
          ),
        );
        return {
          shares: step.toCoordinator.map((s) => backwardShareWire.to(s)),
          loss: step.loss,
        };
      },
      {
        incoming: released,
        outgoing: (body, reply, node) => reply.shares.map((s) => handedOver('nn.backward_share', s, body, node)),
      },
    ),

    onJobCommand(
      nn.backward,
      (body, job) => {
        const k = key(body);
        return backwardProductsWire.to(network(job, SplitNnFeatureParty).backward(k, job.take(backwardKey(k))));
      },
      { outgoing: (body, reply, node) => [handedOver('nn.backward_products', { g: reply.g, w: reply.w }, body, node)] },
    ),

    onJobCommand(
      nn.apply,
      (body, job) => {
        network(job, SplitNnFeatureParty).applyRelease(key(body), vectorFromWire(body.released, 'released backward'));
        return {};
      },
      { incoming: released },
    ),

    onJobCommand(
      nn.predict,
      (body, job) => {
        const k = key(body);
        const scores = job.find(SCORES) ?? new Map<number, Float64Array>();
        job.set(SCORES, scores);
        if (k.batch === 0) scores.clear();
        scores.set(
          k.batch,
          network(job, SplitNnLabelParty).predict(k, vectorFromWire(body.released, 'released forward')),
        );
        return {};
      },
      { inPrediction: true, incoming: released },
    ),

    onJobCommand(nn.metrics, (body, job) => {
      network(job, SplitNnLabelParty);
      return nnMetrics(job, body.split, body.detailed);
    }),
  ],
  peers: [
    onPeer(nn.forwardToLabel, (body, job, from) => {
      if (job.role !== 'label') throw new PartyError(`${nn.forwardToLabel.type} is only for the label party`);
      const message = forwardToLabelWire.from(body);
      if (message.party !== from)
        throw new PartyError(`${nn.forwardToLabel.type} from ${from} claims to be ${message.party.slice(0, 64)}'s`);
      job.put(forwardKey(key(body), from), message);
      return null;
    }),
    onPeer(nn.backwardToFeature, (body, job) => {
      if (job.role !== 'feature') throw new PartyError(`${nn.backwardToFeature.type} is only for a feature party`);
      job.put(backwardKey(key(body)), backwardToFeatureWire.from(body));
      return null;
    }),
  ],
};
