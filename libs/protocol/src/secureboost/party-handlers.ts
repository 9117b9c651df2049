/**
 * SecureBoost at a party: settings at job.prepare, the BFV public key (he.keys) with which each
 * party bins its features, the level's steps, evaluation, and the model it keeps at export. The
 * math is in label-party.ts and feature-party.ts; this file moves messages.
 */
import { BfvContext, BfvEngine, BFV_N4096_T58, ckksWorkerThreads, createBfvEngine } from '@vfl/crypto';
import { binBlock } from '@vfl/ml';
import { splitMetrics, targetSplitMetrics } from '../job/evaluation';
import { PartyError } from '../party/party-error';
import { JobSlot, mailKey, PartyJob, type Split } from '../party/party-job';
import { onJobCommand, onPeer, PartyHandlerGroup, PartyModelHooks } from '../party/party-model';
import type { StoredPartyModel } from '../party/stored-model';
import { modelDigest } from '../model-manifest';
import { packedCiphertextsDigest } from '../wire/codec';
import { checked } from '../wire/command';
import { COORDINATOR_ID } from '../wire/roster';
import { bytesToInt32, int32ToBytes } from './bytes';
import * as sb from './commands';
import { SecureBoostFeature } from './feature-party';
import { SecureBoostLabel } from './label-party';
import { labelPartyPrecision } from './packing';
import { boosterParams, secureBoostSettings, SecureBoostSettings } from './settings';
import {
  exportedLabelModel,
  exportedFeatureModel,
  isSecureBoostFeatureModel,
  isSecureBoostLabelModel,
  SecureBoostCheckpoint,
} from './model';
import { answerDirections, scoreRows, ScoringRows } from './scoring';
import { savedPartBase } from '../party/saved-part';

export const SECUREBOOST = 'secureboost';

const SETTINGS = new JobSlot<SecureBoostSettings>('secureboost settings');

/** The party's model, its BFV context and engine: created by he.keys, disposed with the job. */
class BoostState {
  constructor(
    readonly model: SecureBoostLabel | SecureBoostFeature,
    private readonly bfv: BfvContext,
    private readonly engine: BfvEngine,
  ) {}

  dispose(): void {
    void this.engine.close().finally(() => this.bfv.dispose());
  }
}

const STATE = new JobSlot<BoostState>('secureboost model', 'no keys yet (he.keys not received)');

/** A prediction: this party's saved model and the requested rows' values; the label party's scores once walked. */
export const SCORING = new JobSlot<{ model: StoredPartyModel; rows: ScoringRows }>('secureboost prediction');
export const SCORES = new JobSlot<Float64Array>(
  'secureboost scores',
  `no scores yet (${sb.predictScores.name} not run)`,
);

type LevelNodes = { node: number; rows: Int32Array; chunks: readonly Uint8Array[] }[];
const gradientsKey = (tree: number, depth: number) => mailKey<LevelNodes>('sb.gradients', tree, depth);
const masksKey = (tree: number, depth: number, from: string) =>
  mailKey<Map<number, readonly Uint8Array[]>>('sb.masks', tree, depth, from);

function model<T extends SecureBoostLabel | SecureBoostFeature>(job: PartyJob, kind: new (...a: never[]) => T): T {
  const m = job.get(STATE).model;
  if (!(m instanceof kind)) throw new PartyError(`this step is not for a ${job.role} party`);
  return m;
}

const hooks: PartyModelHooks = {
  // Missing values have a bin of their own, and each split learns where they go.
  missingValues: true,
  prepare(job, raw) {
    const settings = checked(secureBoostSettings, raw, `job ${job.id}: secureboost`);
    // The coordinator fills the objective in from the job's; a party checks they agree.
    const regression = job.settings.objective === 'regression';
    if (job.settings.objective === 'multiclass' || (settings.objective === 'reg:squarederror') !== regression)
      throw new PartyError(
        `job ${job.id}: secureboost.objective ${settings.objective} does not fit the job's objective ${job.settings.objective ?? 'binary'}`,
      );
    job.set(SETTINGS, settings);
  },

  async installKeys(job, bundle, widths, node) {
    if (bundle.parameterSet !== BFV_N4096_T58.name)
      throw new PartyError(`job ${job.id}: SecureBoost expects the ${BFV_N4096_T58.name} parameter set`);
    const aligned = job.requireAligned();
    const settings = job.get(SETTINGS);
    const train = aligned.split.train;
    // The label party fixes the gradients' precision from its labels (or targets); the others need none.
    let precision: ReturnType<typeof labelPartyPrecision> | undefined;
    if (job.role === 'label')
      try {
        precision = labelPartyPrecision(settings, targetsOf(job), train, BFV_N4096_T58.plainModulusBits);
      } catch (e) {
        throw new PartyError(`job ${job.id}: ${(e as Error).message}`);
      }
    const params = boosterParams(settings, precision);
    // Each party bins its own values as read, on the training rows' quantiles.
    const own = binBlock(aligned.raw, aligned.columnNames.length, train, params.maxBins);
    job.find(STATE)?.dispose();
    const bfv = await BfvContext.create(BFV_N4096_T58);
    const threads = ckksWorkerThreads(node.ckksThreads);
    const features = job.featureParties();
    if (job.role === 'label') {
      const blocks = features.map((p, i) => ({
        partyId: p.partyId,
        block: i + 1,
        features: widths?.[p.partyId] ?? NaN,
      }));
      if (blocks.some((b) => !(Number.isInteger(b.features) && b.features >= 0)))
        throw new PartyError(`job ${job.id}: he.keys must give every feature party's width`);
      const engine = createBfvEngine(bfv, threads, bundle.publicKey);
      const validation = aligned.split.validation;
      const labels = targetsOf(job);
      const label = new SecureBoostLabel(
        bfv,
        engine,
        params,
        labels,
        train,
        validation,
        own,
        blocks,
        precision!.packing,
      );
      job.set(STATE, new BoostState(label, bfv, engine));
    } else {
      const block = 1 + features.findIndex((p) => p.partyId === node.partyId);
      const engine = createBfvEngine(bfv, threads);
      const feature = new SecureBoostFeature(bfv, engine, params, block, own, new Set(train), aligned.rows);
      job.set(STATE, new BoostState(feature, bfv, engine));
    }
  },

  checkpoint(job, epoch, record, node): SecureBoostCheckpoint {
    const m = job.get(STATE).model;
    const training =
      record === undefined || record === null
        ? undefined
        : checked(sb.trainingRecord, record, 'model.checkpoint: record');
    return {
      family: 'secureboost',
      jobId: job.id,
      partyId: node.partyId,
      epoch,
      contentSha256: job.contentSha256,
      hyperparametersDigest: modelDigest(job.get(SETTINGS)),
      ...(m instanceof SecureBoostLabel ? { label: m.checkpointState() } : { records: [...m.records] }),
      ...(training ? { training } : {}),
    };
  },

  resumeProblems: (job, checkpoint) =>
    checkpoint.hyperparametersDigest !== modelDigest(job.get(SETTINGS)) ? ['the secureboost settings differ'] : [],

  resume(job, stored) {
    const checkpoint = stored as SecureBoostCheckpoint;
    const m = job.get(STATE).model;
    if (m instanceof SecureBoostLabel) {
      if (!checkpoint.label) throw new PartyError('the checkpoint holds no label party state');
      m.restoreState(checkpoint.label);
    } else {
      m.restoreRecords(checkpoint.records ?? []);
    }
    return checkpoint.training ?? null;
  },

  exportModel(job, node): StoredPartyModel {
    const m = job.get(STATE).model;
    const base = savedPartBase(job, node.partyId, { clipSigma: job.settings.clipSigma });
    return m instanceof SecureBoostLabel ? exportedLabelModel(base, m) : exportedFeatureModel(base, m);
  },
};

export const secureBoostHandlers: PartyHandlerGroup = {
  model: SECUREBOOST,
  hooks,
  commands: [
    onJobCommand(sb.treeBegin, ({ tree }, job) => {
      model(job, SecureBoostLabel).beginTree(tree);
      return {};
    }),
    onJobCommand(sb.gradients, async ({ tree, depth }, job, call) => {
      const label = model(job, SecureBoostLabel);
      const nodes = await label.encryptLevel(depth);
      const body = {
        tree,
        depth,
        nodes: nodes.map((n) => ({ node: n.node, rows: int32ToBytes(n.rows), chunks: n.chunks })),
      };
      await Promise.all(job.featureParties().map((f) => call.send(job, f.partyId, sb.gradientShare, body)));
      return { nodes: nodes.map((n) => ({ node: n.node, rows: n.rows.length })) };
    }),
    onJobCommand(
      sb.histograms,
      async ({ tree, depth }, job, call) => {
        const feature = model(job, SecureBoostFeature);
        const nodes = job.take(gradientsKey(tree, depth));
        const sums = await feature.histograms(tree, nodes);
        await call.send(job, job.labelParty(), sb.maskShare, {
          tree,
          depth,
          nodes: sums.map((s) => ({ node: s.node, masks: s.masks })),
        });
        return { nodes: sums.map((s) => ({ node: s.node, sums: s.sums })) };
      },
      {
        outgoing: (body, reply, node) => [
          payloadEvent(
            'sb.masked_sums',
            node.partyId,
            COORDINATOR_ID,
            reply.nodes.flatMap((n) => n.sums),
            {
              tree: body.tree,
              depth: body.depth,
            },
          ),
        ],
      },
    ),
    onJobCommand(
      sb.splitLevel,
      async ({ tree, depth, released }, job, call) => {
        const label = model(job, SecureBoostLabel);
        const byParty = new Map<string, Map<number, readonly Uint8Array[]>>();
        for (const r of released) {
          const m = byParty.get(r.partyId) ?? new Map<number, readonly Uint8Array[]>();
          m.set(r.node, r.sums);
          byParty.set(r.partyId, m);
        }
        const masks = new Map(
          label.parties.map((p) => [p.partyId, job.take(masksKey(tree, depth, p.partyId))] as const),
        );
        return label.splitLevel(depth, byParty, masks, async (party, node, split) => {
          const reply = await call.send(job, party.partyId, sb.splitRequest, {
            tree,
            node: node.id,
            feature: split.feature,
            bin: split.bin,
            missingLeft: split.missingLeft,
            rows: int32ToBytes(node.rows),
            passengers: int32ToBytes(node.passengers),
          });
          const parsed = checked(sb.splitReply, reply, `${party.partyId}: peer.sb.split reply`);
          return { record: parsed.record, rows: parsed.rows, passengers: parsed.passengers };
        });
      },
      {
        incoming: (body, node) => [
          payloadEvent(
            'sb.released',
            COORDINATOR_ID,
            node.partyId,
            body.released.flatMap((r) => r.sums),
            {
              tree: body.tree,
              depth: body.depth,
            },
          ),
        ],
      },
    ),
    onJobCommand(sb.treeEnd, (_, job) => {
      const label = model(job, SecureBoostLabel);
      const end = label.endTree();
      const rows = job.rows('validation').length > 0 ? 'validation' : 'train';
      return { ...end, validation: metricsOf(job, rows, label.booster.currentPredictions(job.rows(rows)), false) };
    }),
    onJobCommand(sb.importance, (_, job, { node }) => {
      const label = model(job, SecureBoostLabel);
      return {
        keptTrees: label.booster.keptTrees(),
        features: label.importance(job.requireAligned().columnNames, node.partyId),
      };
    }),
    onJobCommand(sb.ownImportance, async ({ keptTrees }, job, { node }) => {
      const columns = model(job, SecureBoostFeature).splitCounts(keptTrees, job.requireAligned().columnNames);
      await node.audit(job.id, {
        step: sb.ownImportance.name,
        sender: COORDINATOR_ID,
        receiver: node.partyId,
        detail: { keptTrees, columns },
      });
      return { columns: columns.length };
    }),
    onJobCommand(sb.baseline, async (_, job) => {
      const label = model(job, SecureBoostLabel);
      const own = await label.ownFeaturesOnly();
      return {
        train: metricsOf(job, 'train', own.train, false),
        validation: metricsOf(job, 'validation', own.validation, false),
      };
    }),
    onJobCommand(sb.evaluate, (body, job) => {
      const label = model(job, SecureBoostLabel);
      return metricsOf(job, body.split, label.booster.predictions(job.rows(body.split)), body.detailed);
    }),
    onJobCommand(
      sb.predictScores,
      async (_, job, call) => {
        const scoring = job.get(SCORING);
        if (!isSecureBoostLabelModel(scoring.model) || job.purpose !== 'prediction')
          throw new PartyError(`${sb.predictScores.name} is for the label party of a prepared prediction`);
        const scores = await scoreRows(scoring.model, scoring.rows, async (partyId, query) => {
          const reply = await call.send(job, partyId, sb.directionQuery, {
            records: int32ToBytes(query.records),
            rows: int32ToBytes(query.rows),
          });
          return checked(sb.directionReply, reply, `${partyId}: peer.sb.directions reply`).left;
        });
        job.set(SCORES, scores);
        return {};
      },
      { inPrediction: true },
    ),
  ],
  peers: [
    onPeer(sb.directionQuery, (body, job) => {
      const scoring = job.get(SCORING);
      if (!isSecureBoostFeatureModel(scoring.model) || job.purpose !== 'prediction')
        throw new PartyError(`${sb.directionQuery.type} is for a feature party of a prepared prediction`);
      const query = { records: bytesToInt32(body.records, 'records'), rows: bytesToInt32(body.rows, 'rows') };
      return { left: answerDirections(scoring.model, scoring.rows, query) };
    }),
    onPeer(sb.gradientShare, (body, job) =>
      job.put(
        gradientsKey(body.tree, body.depth),
        body.nodes.map((n) => ({ node: n.node, rows: bytesToInt32(n.rows, 'node rows'), chunks: n.chunks })),
      ),
    ),
    onPeer(sb.maskShare, (body, job, from) =>
      job.put(masksKey(body.tree, body.depth, from), new Map(body.nodes.map((n) => [n.node, n.masks]))),
    ),
    onPeer(sb.splitRequest, (body, job) => {
      const feature = model(job, SecureBoostFeature);
      return feature.split(
        body.tree,
        body.node,
        body,
        bytesToInt32(body.rows, 'node rows'),
        bytesToInt32(body.passengers, 'node passengers'),
      );
    }),
  ],
};

/** What the label party boosts on, by row id: the 0/1 labels, or a regression job's targets. */
function targetsOf(job: PartyJob): ArrayLike<number> {
  const aligned = job.requireAligned();
  const values = job.settings.objective === 'regression' ? aligned.targets : aligned.labels;
  if (!values)
    throw new PartyError(`job ${job.id}: the label party holds no ${job.settings.objective ?? 'binary'} label`);
  return values;
}

/** A split's metrics as the job's objective has them: AUC and the rest (binary), or RMSE, MAE, R² (regression). */
function metricsOf(job: PartyJob, split: Split, outputs: Float64Array, detailed: boolean) {
  return job.settings.objective === 'regression'
    ? targetSplitMetrics(job, split, outputs)
    : splitMetrics(job, split, outputs, detailed);
}

/** A coordinator⇄party payload as the party's own log records it: digest and size, as the coordinator's trail does. */
function payloadEvent(
  step: string,
  sender: string,
  receiver: string,
  ciphertexts: Uint8Array[],
  detail: Record<string, unknown>,
) {
  const { digest, byteSize } = packedCiphertextsDigest(ciphertexts);
  return { step, sender, receiver, messageDigest: digest, byteSize, detail };
}
