/**
 * A party's protocol engine, free of any transport: the Nest party app feeds it coordinator
 * commands (`handleCommand`) and peer envelopes (`handlePeer`) and gives it a PeerTransport to
 * reach other parties. One PartyNode serves many jobs; each job's state lives in a PartyJob.
 *
 * What a party sends, to whom (see docs/protocol.md for what each learns):
 *   psi.exchange   -> peer: its IDs hashed and blinded; gets them back blinded twice
 *   lr.forward     -> label party: Enc(u_f / 4)                     (feature parties)
 *   lr.residual    -> feature parties: Enc(d)                        (label party)
 *   lr.gradient    -> coordinator: Enc(masked gradient)             (every party)
 *   lr.share_logits-> label party: partial logits for evaluation     (feature parties)
 *
 * With an `audit` log, the party also keeps its own record of every job, in its own database:
 * each message it sent or received (digest, size, seq, signature), the keys and updates the
 * coordinator sent it, the dataset it used, and every envelope it refused. It writes each record
 * before acting on it, so verification can cross-check the coordinator's trail against it.
 */
import { createHash, createHmac } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { CkksContext } from '../../crypto/src/ckks-context';
import { CkksEngine, createCkksEngine } from '../../crypto/src/ckks-engine';
import { CkksEncryptor, CkksPublicBundle } from '../../crypto/src/ckks-keys';
import { PsiEngine } from '../../crypto/src/psi-engine';
import { open as openBody, peerChannelKey, seal as sealBody } from '../../crypto/src/peer-seal';
import { SigningIdentity, verifySignature } from '../../crypto/src/signing-identity';
import { loadPartyTable, selectRows, PartyTable } from '../../data/src/party-table';
import { epochBatches, RowSplit, trainValidationSplit } from '../../ml/src/batch-schedule';
import { DEFAULT_LR_HYPERPARAMETERS, isRowWeighted, LrHyperparameters, OptimizerState, partialLogits, resolvePositiveWeight, withIntercept } from '../../ml/src/logistic';
import { modelBytes, modelDigest, partModelSigningText } from './model-manifest';
import { NnArchitecture, validateArchitecture } from '../../ml/src/nn/architecture';
import { partySeed } from '../../ml/src/nn/models';
import { DefenceSpec, NO_DEFENCE, validateDefence } from './split-nn/defence';
import type { NnCheckpointState, NnParameters } from './split-nn/model-state';
import { SplitNnFeatureParty } from './split-nn/feature-party';
import { SplitNnJobLayout } from './split-nn/job-layout';
import { SplitNnLabelParty } from './split-nn/label-party';
import { BatchKey, batchKeyString, NnBackwardToFeature, NnForwardToLabel } from './split-nn/messages';
import { backwardProductsWire, backwardShareWire, backwardToFeatureWire, forwardToLabelWire, vectorFromWire } from './split-nn/wire';
import {
  binaryMetrics,
  BinaryMetrics,
  confusionMatrix,
  ConfusionMatrix,
  CURVE_POINTS,
  gainLiftTable,
  ksCurve,
  GainLiftRow,
  KsPoint,
  populationStabilityIndex,
  rocCurve,
  RocPoint,
  sigmoid,
} from '../../ml/src/metrics';
import { trainPlainSplitLr } from '../../ml/src/plain-split-lr';
import { Standardizer } from '../../ml/src/standardizer';
import { TfLinearScorer } from '../../ml/src/tf-linear';
import type { TensorflowRuntime } from '../../ml/src/tf-backend';
import { EcdhPsiSession, pipelineChunks, PsiChunkHeader, psiDomainTag, PsiProgressCounts } from './psi/ecdh-psi';
import { pipelineBigTags, pipelineSmallQueries, UnbalancedPsiBig, UnbalancedPsiSmall } from './psi/unbalanced-psi';
import { AuditEventInput, canonicalJson, UNATTRIBUTED_JOB_ID } from '../../audit/src/audit-chain';
import {
  bytesToF64,
  Commands,
  COORDINATOR_ID,
  digestHex,
  publicBundleBytes,
  publicBundleDigest,
  envelopeSigningText,
  f64ToBytes,
  MessageReceipt,
  DataReference,
  PredictCommand,
  packBody,
  PartyRole,
  PeerEnvelope,
  PeerType,
  PeerTypes,
  PrepareCommand,
  PrepareReply,
  PsiMode,
  PsiPlanCommand,
  RosterEntry,
  sealContext,
  unpackBody,
} from './messages';
import { FeaturePartyLr, ForwardShare, LabelPartyLr } from './split-lr/split-lr-party';
import { IdRule, normaliseIds, parseIdRules } from '../../data/src/id-normalisation';

/** Raised for anything a party refuses; the message is safe to show the coordinator's users. */
export class PartyError extends Error {
  constructor(
    message: string,
    /** Set when the failure happened at a peer this party was sending to (the transports carry it back). */
    readonly failedAt?: string,
  ) {
    super(message);
    this.name = 'PartyError';
  }
}

/** Where a failure happened, when a party reports it happened at a peer: from a PartyError, or from a remote error body. */
export function failedAtOf(e: unknown): string | undefined {
  const here = (e as { failedAt?: unknown })?.failedAt;
  const remote = (e as { remote?: { failedAt?: unknown } })?.remote?.failedAt;
  const at = typeof here === 'string' ? here : remote;
  return typeof at === 'string' ? at : undefined;
}

export interface PeerTransport {
  /** Delivers an envelope to another party and returns its reply body (MessagePack), if any. */
  request(to: string, envelope: PeerEnvelope): Promise<Uint8Array | null>;
}

export interface PartyNodeOptions {
  readonly partyId: string;
  readonly role: PartyRole;
  /** Signs this party's envelopes; its public key must be the one the job's roster lists. */
  readonly identity: SigningIdentity;
  /** Peer keys pinned in this party's own configuration: a roster listing another key is refused. */
  readonly pinnedKeys?: ReadonlyMap<string, string>;
  readonly peers: PeerTransport;
  /** Bulk ECDH-PSI group operations (worker threads in the services). */
  readonly psiEngine: PsiEngine;
  readonly tensorflow: TensorflowRuntime;
  /** When set, data references must resolve inside this directory. */
  readonly dataRoot?: string;
  /** Receives this party's own trained weights when a job closes (they never leave the party). */
  readonly saveModel?: (jobId: string, model: StoredPartyModel) => void | Promise<void>;
  /** A model saved earlier by saveModel, for prediction; undefined when there is none. */
  readonly loadModel?: (jobId: string) => StoredPartyModel | undefined | Promise<StoredPartyModel | undefined>;
  /** Keeps the job's latest per-epoch checkpoint (replacing the previous one), where its models live. */
  readonly saveCheckpoint?: (jobId: string, checkpoint: StoredCheckpoint) => void | Promise<void>;
  readonly loadCheckpoint?: (jobId: string) => StoredCheckpoint | undefined | Promise<StoredCheckpoint | undefined>;
  /** This party's own audit log; each record is awaited before the step it describes goes on. */
  readonly audit?: PartyAuditLog;
  /** Worker threads for a split-LR job's CKKS work (default: one per core; 0: on the calling thread). */
  readonly ckksThreads?: number;
}

/** The end of an epoch at one party: enough to resume the job there and reach the same model. */
export interface PartyCheckpoint {
  readonly jobId: string;
  readonly partyId: string;
  /** Epochs completed. */
  readonly epoch: number;
  /** The dataset and training settings it belongs to: a resume with others is refused. */
  readonly contentSha256: string;
  readonly hyperparametersDigest: string;
  readonly weights: readonly number[];
  readonly optimizer: OptimizerState;
  /** Early stopping: the best epoch's weights so far. */
  readonly best?: readonly number[];
  /** The coordinator's record of the run so far, handed back on resume. */
  readonly training?: LrTrainingRecord;
}

/** What the coordinator needs to go on with a split-LR run as if uninterrupted. */
export interface LrTrainingRecord {
  /** Validation log loss of the run's first epoch (the divergence check's reference). */
  readonly firstLoss: number;
  readonly earlyStopping?: { readonly bestEpoch: number; readonly bestValue: number; readonly sinceBest: number };
}

function lrTrainingRecord(v: unknown): LrTrainingRecord | undefined {
  if (v === undefined || v === null) return undefined;
  const r = v as { firstLoss?: unknown; earlyStopping?: Record<string, unknown> };
  const e = r.earlyStopping;
  const ok =
    typeof r.firstLoss === 'number' && Number.isFinite(r.firstLoss) &&
    (e === undefined || (Number.isInteger(e.bestEpoch) && Number(e.bestEpoch) >= 1 && typeof e.bestValue === 'number' && Number.isFinite(e.bestValue) && Number.isInteger(e.sinceBest) && Number(e.sinceBest) >= 0));
  if (!ok) throw new PartyError(`${Commands.lrCheckpoint}: training needs a finite firstLoss, and earlyStopping bestEpoch, bestValue and sinceBest`);
  return { firstLoss: r.firstLoss as number, ...(e ? { earlyStopping: { bestEpoch: Number(e.bestEpoch), bestValue: Number(e.bestValue), sinceBest: Number(e.sinceBest) } } : {}) };
}

/**
 * The end of an epoch at a split-NN party: its parameters and training state (nn/model-state.ts),
 * with the settings it trained under, so a resume under others is refused naming what differs.
 */
export interface NnPartyCheckpoint {
  readonly family: 'split-nn';
  readonly jobId: string;
  readonly partyId: string;
  readonly epoch: number;
  readonly contentSha256: string;
  /** Digest of `settings` (canonical JSON). */
  readonly hyperparametersDigest: string;
  readonly settings: NnSettings;
  readonly state: NnCheckpointState;
  /** Early stopping: the coordinator's record at this epoch (it sends it with lr.checkpoint and gets it back with lr.resume). */
  readonly earlyStopping?: NnEarlyStoppingState;
}

export interface NnEarlyStoppingState {
  readonly bestEpoch: number;
  readonly bestAuc: number;
  /** Epochs since the best one without improvement. */
  readonly sinceBest: number;
}

function earlyStoppingState(v: unknown): NnEarlyStoppingState | undefined {
  if (v === undefined || v === null) return undefined;
  const s = v as Record<string, unknown>;
  const ok = Number.isInteger(s.bestEpoch) && Number(s.bestEpoch) >= 1 && typeof s.bestAuc === 'number' && Number.isFinite(s.bestAuc) && Number.isInteger(s.sinceBest) && Number(s.sinceBest) >= 0;
  if (!ok) throw new PartyError(`${Commands.lrCheckpoint}: earlyStopping needs bestEpoch, bestAuc and sinceBest`);
  return { bestEpoch: Number(s.bestEpoch), bestAuc: Number(s.bestAuc), sinceBest: Number(s.sinceBest) };
}

/** What a split-NN job trains under: the derived split/batch hyperparameters, the architecture, the defence. */
export interface NnSettings {
  readonly hyperparameters: LrHyperparameters;
  readonly architecture: NnArchitecture;
  readonly defence: DefenceSpec;
}

export type StoredCheckpoint = PartyCheckpoint | NnPartyCheckpoint;

export function isNnCheckpoint(c: StoredCheckpoint): c is NnPartyCheckpoint {
  return (c as NnPartyCheckpoint).family === 'split-nn';
}

/** A party's own audit log (an AuditStore on the party's database in the services). */
export interface PartyAuditLog {
  record(jobId: string, event: AuditEventInput): Promise<unknown>;
  /** The job has closed here: sign the head of its log. */
  close(jobId: string): Promise<unknown>;
}


/** What a party keeps of a trained model: its own weights over its own columns. */
export interface PartyModel {
  readonly jobId: string;
  readonly partyId: string;
  readonly role: PartyRole;
  /** What it trained on, the default for prediction, and the ID rules that scoring applies too. */
  readonly data: DataReference;
  readonly idRules: readonly IdRule[];
  readonly columns: string[];
  readonly weights: number[];
  /** How the party maps raw values to model inputs: (x - mean) / deviation, then clipped to ±clipSigma (0: not clipped). */
  readonly standardization: { means: number[]; deviations: number[]; clipSigma: number };
}

/**
 * What a split-NN party keeps of a trained model: its own part (nn/model-state.ts) over its own
 * columns, the architecture every part belongs to, and how it standardised its inputs.
 */
export interface NnPartyModel {
  readonly family: 'split-nn';
  readonly jobId: string;
  readonly partyId: string;
  readonly role: PartyRole;
  readonly data: DataReference;
  readonly idRules: readonly IdRule[];
  /** Input columns (no intercept: split NN has biases). */
  readonly columns: string[];
  readonly standardization: { means: number[]; deviations: number[]; clipSigma: number };
  readonly architecture: NnArchitecture;
  readonly parameters: NnParameters;
}

/** A saved model of either family (split-LR models carry no `family`: they predate it). */
export type StoredPartyModel = PartyModel | NnPartyModel;

export function isNnPartyModel(m: StoredPartyModel): m is NnPartyModel {
  return (m as NnPartyModel).family === 'split-nn';
}

export type Split = 'train' | 'validation';

/** Each point of a released ROC or KS curve aggregates at least this many rows, like a coarse gain/lift bin. */
export const MIN_ROWS_PER_CURVE_POINT = 20;

/** One point per percentile (101) on large splits, fewer on small ones. */
function curvePoints(rows: number): number {
  return Math.max(2, Math.min(CURVE_POINTS, Math.floor(rows / MIN_ROWS_PER_CURVE_POINT) + 1));
}

export interface DetailedMetrics extends BinaryMetrics {
  readonly confusion: ConfusionMatrix;
  readonly gainLift: GainLiftRow[];
  /** At most 101 points each (percentile cuts, at least MIN_ROWS_PER_CURVE_POINT rows apart): aggregates for plotting. */
  readonly rocCurve: RocPoint[];
  readonly ksCurve: KsPoint[];
  /** Population stability index of validation scores against training scores (null for train). */
  readonly scoreStability: number | null;
}

/** The payloads a split-NN reply hands the coordinator, by audit step (the coordinator digests the same). */
export function nnPayloads(command: string, reply: Record<string, unknown>): [string, unknown][] {
  switch (command) {
    case Commands.nnForward:
      return [['nn.forward_share', reply.share]];
    case Commands.nnProducts:
      return [['nn.products', reply.products]];
    case Commands.nnTrainStep:
      return ((reply.shares as unknown[]) ?? []).map((s) => ['nn.backward_share', s]);
    case Commands.nnBackward:
      return [['nn.backward_products', { g: reply.g, w: reply.w }]];
    default:
      return [];
  }
}

/** What a checkpoint must match to be resumed from: the training settings, in canonical JSON. */
function hyperparametersDigest(hp: LrHyperparameters): string {
  return modelDigest(hp);
}

/** A split-NN job's settings, which its checkpoints must match. */
function nnSettings(job: PartyJob): NnSettings {
  return { hyperparameters: job.hp, architecture: job.nnSpec!.architecture, defence: job.nnSpec!.defence ?? NO_DEFENCE };
}

/** Dotted paths at which two JSON values differ (arrays of one length by index), to name what changed. */
export function differingPaths(a: unknown, b: unknown, at = ''): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((v, i) => differingPaths(v, b[i], `${at}[${i}]`));
  if (isObject(a) && isObject(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differingPaths(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return [at || '(all)'];
}

/** Rows per split-NN evaluation batch (the coordinator cuts a split the same way). */
export const NN_EVAL_BATCH_ROWS = 4096;

function nnBatchKey(body: Record<string, unknown>): BatchKey {
  const phase = body.phase === 'eval' ? 'eval' : body.phase === 'train' ? 'train' : undefined;
  const epoch = Number(body.epoch);
  const batch = Number(body.batch);
  if (!phase || !Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(batch) || batch < 0) throw new PartyError('split-NN step needs phase (train|eval), epoch and batch');
  return { phase, epoch, batch };
}

/** Counts only, summed over a star-mode label party's sessions. */
function psiProgress(job: PartyJob): Partial<PsiProgressCounts> {
  const sessions: { progress(): PsiProgressCounts }[] = job.psiPeers ? [...job.psiPeers.values()] : job.psi ? [job.psi] : job.psiUnbalanced ? [job.psiUnbalanced] : [];
  if (sessions.length === 0) return {};
  const sum = { ownDone: 0, ownTotal: 0, peerDone: 0, peerTotal: 0 };
  for (const s of sessions) {
    const p = s.progress();
    sum.ownDone += p.ownDone;
    sum.ownTotal += p.ownTotal;
    sum.peerDone += p.peerDone;
    sum.peerTotal += p.peerTotal;
  }
  return sum;
}

interface Outbox {
  readonly sent: MessageReceipt[];
}

class PartyJob {
  table?: PartyTable;
  psi?: EcdhPsiSession;
  /** Star mode (two or more feature parties), label party: one session per feature party. */
  psiPeers?: Map<string, EcdhPsiSession>;
  psiOutput: 'intersection' | 'cardinality' = 'intersection';
  psiMode: PsiMode = 'balanced';
  /** Unbalanced mode: this party's side, created by psi.plan. */
  psiUnbalanced?: UnbalancedPsiSmall | UnbalancedPsiBig;
  psiPeer?: string;
  data?: DataReference;
  idRules: readonly IdRule[] = [];
  exported = false;
  contentSha256 = '';
  /** Prediction: this party's partial logits for the requested IDs, in request order. */
  prediction?: Float64Array;
  /** Split-NN prediction: the saved part that scores (its rows are `aligned`, all in the validation split). */
  nnModel?: NnPartyModel;
  /** Split NN: the architecture and defence from job.prepare, then this party's part of the model. */
  nnSpec?: PrepareCommand['nn'];
  nn?: SplitNnLabelParty | SplitNnFeatureParty;
  /** Split NN evaluation: the label party's scores of the split being evaluated, by batch. */
  readonly nnScores = new Map<number, Float64Array>();

  requireNn<T extends SplitNnLabelParty | SplitNnFeatureParty>(kind: new (...a: never[]) => T): T {
    if (!this.nn) throw new PartyError(`job ${this.id} has no split-NN model yet (he.keys not received)`);
    if (!(this.nn instanceof kind)) throw new PartyError(`this step is not for a ${this.role} party`);
    return this.nn as T;
  }

  /** The label party's scores of every evaluation batch so far, in batch order; there must be `rows` of them. */
  takeNnScores(rows: number): Float64Array {
    const parts = [...this.nnScores.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
    this.nnScores.clear();
    const scores = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      scores.set(p, at);
      at += p.length;
    }
    if (scores.length !== rows) throw new PartyError(`${scores.length} scores for ${rows} rows`);
    return scores;
  }

  /** The rows of a split-NN batch: training batches as in split LR, evaluation in chunks of the split. */
  nnRows(key: BatchKey, split: Split): Int32Array {
    if (key.phase === 'train') return this.batch(key.epoch, key.batch);
    const rows = this.rows(split);
    const start = key.batch * NN_EVAL_BATCH_ROWS;
    if (!Number.isInteger(key.batch) || key.batch < 0 || start >= rows.length) throw new PartyError(`no evaluation batch ${key.batch} of the ${split} split`);
    return rows.subarray(start, Math.min(rows.length, start + NN_EVAL_BATCH_ROWS));
  }
  aligned?: {
    rows: number;
    matrix: Float64Array;
    /** Without the intercept column (split NN has biases instead). */
    standardized: Float64Array;
    columns: number;
    columnNames: string[];
    labels?: Uint8Array;
    split: RowSplit;
    standardizer: Standardizer;
  };
  lr?: LabelPartyLr | FeaturePartyLr;
  encryptor?: CkksEncryptor;
  engine?: CkksEngine;
  scorer?: TfLinearScorer;
  seq = 0;
  readonly lastSeq = new Map<string, number>();
  /** AES keys shared with each peer for this job. */
  readonly channelKeys = new Map<string, Uint8Array>();
  /** The final model's scores per split (label party), for the stability index. */
  readonly finalScores = new Map<Split, Float64Array>();
  readonly inbox = new Map<string, unknown>();
  private batches?: { epoch: number; list: Int32Array[] };

  constructor(
    readonly id: string,
    readonly role: PartyRole,
    readonly roster: readonly RosterEntry[],
    readonly hp: LrHyperparameters,
  ) {}

  /** Two or more feature parties: PSI runs as a star around the label party (see ecdh-psi.ts). */
  get star(): boolean {
    return this.roster.filter((r) => r.role === 'feature').length > 1;
  }

  batch(epoch: number, index: number): Int32Array {
    const aligned = this.requireAligned();
    if (this.batches?.epoch !== epoch) {
      this.batches = { epoch, list: epochBatches(aligned.split.train, this.hp.batchSize, this.hp.seed, epoch) };
    }
    const rows = this.batches.list[index];
    if (!rows) throw new PartyError(`epoch ${epoch} has ${this.batches.list.length} batches, no batch ${index}`);
    return rows;
  }

  rows(split: Split): Int32Array {
    return split === 'train' ? this.requireAligned().split.train : this.requireAligned().split.validation;
  }

  requireAligned(): NonNullable<PartyJob['aligned']> {
    if (!this.aligned) throw new PartyError(`job ${this.id} has not finished alignment`);
    return this.aligned;
  }

  requireLr<T extends LabelPartyLr | FeaturePartyLr>(kind: new (...a: never[]) => T): T {
    if (!this.lr) throw new PartyError(`job ${this.id} has no keys yet (he.keys not received)`);
    if (!(this.lr instanceof kind)) throw new PartyError(`this step is not for a ${this.role} party`);
    return this.lr as T;
  }

  take<T>(key: string): T {
    if (!this.inbox.has(key)) throw new PartyError(`expected message ${key} has not arrived`);
    const value = this.inbox.get(key) as T;
    this.inbox.delete(key);
    return value;
  }

  put(key: string, value: unknown): void {
    if (this.inbox.has(key)) throw new PartyError(`duplicate message ${key}`);
    this.inbox.set(key, value);
  }

  model(partyId: string): PartyModel {
    const a = this.requireAligned();
    return {
      jobId: this.id,
      partyId,
      role: this.role,
      data: this.data!,
      idRules: this.idRules,
      columns: this.role === 'label' ? [...a.columnNames, '(intercept)'] : a.columnNames,
      weights: Array.from(this.lr!.weights),
      standardization: { means: Array.from(a.standardizer.means), deviations: Array.from(a.standardizer.deviations), clipSigma: this.hp.clipSigma ?? 0 },
    };
  }

  /** This party's part of a trained split-NN model. */
  nnPartyModel(partyId: string): NnPartyModel {
    const a = this.requireAligned();
    if (!this.nn || !this.nnSpec) throw new PartyError(`job ${this.id} has no split-NN model yet`);
    return {
      family: 'split-nn',
      jobId: this.id,
      partyId,
      role: this.role,
      data: this.data!,
      idRules: this.idRules,
      columns: [...a.columnNames],
      standardization: { means: Array.from(a.standardizer.means), deviations: Array.from(a.standardizer.deviations), clipSigma: this.hp.clipSigma ?? 0 },
      architecture: this.nnSpec.architecture,
      parameters: this.nn.parameters(),
    };
  }

  dispose(): void {
    this.nn?.dispose();
    this.psi?.dispose();
    this.psiPeers?.forEach((s) => s.dispose());
    this.psiUnbalanced?.dispose();
    this.channelKeys.forEach((k) => k.fill(0));
    void this.engine?.close();
    this.encryptor?.dispose();
    this.scorer?.dispose();
  }
}

export class PartyNode {
  private readonly jobs = new Map<string, PartyJob>();
  /** Jobs closed here: a late or repeated prepare for one of them is refused. */
  private readonly closed = new Set<string>();
  private ckks?: Promise<CkksContext>;

  constructor(private readonly o: PartyNodeOptions) {}

  get partyId(): string {
    return this.o.partyId;
  }

  /** Why this party could not take a job now (empty when it can). */
  async readinessProblems(): Promise<string[]> {
    const problems: string[] = [];
    if (this.o.dataRoot) {
      try {
        await fs.access(this.o.dataRoot, fsConstants.R_OK);
      } catch {
        problems.push(`data root ${this.o.dataRoot} is not readable`);
      }
    }
    return problems;
  }

  /** Coordinator commands. Returns a MessagePack-friendly reply. */
  async handleCommand(command: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const out: Outbox = { sent: [] };
    await this.recordIncoming(command, body);
    const reply = await this.dispatch(command, body, out);
    await this.recordReply(command, body, reply);
    return { ...reply, messages: out.sent };
  }

  /** What the coordinator hands this party, recorded (by digest) before it is used. */
  private async recordIncoming(command: string, body: Record<string, unknown>): Promise<void> {
    const jobId = String(body.jobId);
    if (!this.o.audit || !this.jobs.has(jobId)) return;
    const round = { epoch: body.epoch, batch: body.batch };
    if (command === Commands.heKeys) {
      const bundle = body.bundle as CkksPublicBundle;
      if (!(bundle?.publicKey instanceof Uint8Array) || !(bundle.galoisKeys instanceof Uint8Array)) throw new PartyError('he.keys carries no key bundle');
      await this.o.audit.record(jobId, {
        step: 'he.keys', sender: COORDINATOR_ID, receiver: this.o.partyId, messageDigest: publicBundleDigest(bundle),
        byteSize: publicBundleBytes(bundle), detail: { parameterSet: bundle.parameterSet },
      });
    } else if ((command === Commands.nnTrainStep || command === Commands.nnApply || command === Commands.nnPredict) && body.released instanceof Uint8Array) {
      await this.o.audit.record(jobId, { step: 'nn.release', sender: COORDINATOR_ID, receiver: this.o.partyId, messageDigest: digestHex(body.released), byteSize: body.released.length, detail: { phase: body.phase, ...round } });
    } else if (command === Commands.lrUpdate && body.released instanceof Uint8Array) {
      const released = body.released;
      await this.o.audit.record(jobId, { step: 'lr.update', sender: COORDINATOR_ID, receiver: this.o.partyId, messageDigest: digestHex(released), byteSize: released.length, detail: round });
    }
  }

  /** What this party hands the coordinator, recorded before the reply leaves. */
  private async recordReply(command: string, body: Record<string, unknown>, reply: Record<string, unknown>): Promise<void> {
    const audit = this.o.audit;
    const jobId = String(body.jobId);
    if (!audit) return;
    if (command === Commands.prepare) {
      const r = reply as unknown as PrepareReply;
      await audit.record(jobId, {
        step: 'job.prepare', sender: this.o.partyId, receiver: COORDINATOR_ID,
        detail: { role: this.o.role, rows: r.rows, columns: r.columns, columnNames: r.columnNames, contentSha256: r.contentSha256, source: r.source, roster: (body.roster as RosterEntry[]).map((e) => ({ ...e })) },
      });
    } else if (command === Commands.lrGradient && reply.gradient instanceof Uint8Array) {
      const gradient = reply.gradient;
      await audit.record(jobId, { step: 'lr.masked_gradient', sender: this.o.partyId, receiver: COORDINATOR_ID, messageDigest: digestHex(gradient), byteSize: gradient.length, detail: { epoch: body.epoch, batch: body.batch } });
    } else if (command === Commands.nnForward || command === Commands.nnProducts || command === Commands.nnTrainStep || command === Commands.nnBackward) {
      // What the coordinator decrypts or releases from: the same digests as in its trail (nnPayloadDigest).
      const detail = { phase: body.phase, epoch: body.epoch, batch: body.batch };
      for (const [step, payload] of nnPayloads(command, reply)) {
        const bytes = packBody(payload);
        await audit.record(jobId, { step, sender: this.o.partyId, receiver: COORDINATOR_ID, messageDigest: digestHex(bytes), byteSize: bytes.length, detail });
      }
    } else if (command === Commands.predictPrepare) {
      await audit.record(jobId, {
        step: 'predict.prepare', sender: this.o.partyId, receiver: COORDINATOR_ID, messageDigest: String(reply.modelDigest), byteSize: Number(reply.modelBytes),
        detail: { modelJobId: String(body.modelJobId), rows: reply.rows, roster: (body.roster as RosterEntry[]).map((e) => ({ ...e })) },
      });
    } else if (command === Commands.predictCombine && reply.scores instanceof Uint8Array) {
      await audit.record(jobId, { step: 'predict.scores', sender: this.o.partyId, receiver: COORDINATOR_ID, messageDigest: digestHex(reply.scores), byteSize: reply.scores.length, detail: { rows: reply.scores.length / 8 } });
    } else if (command === Commands.psiFinish && typeof reply.size === 'number') {
      await audit.record(jobId, { step: 'psi.result', sender: this.o.partyId, receiver: COORDINATOR_ID, detail: { intersection: reply.size } });
    }
  }

  private async dispatch(command: string, body: Record<string, unknown>, out: Outbox): Promise<Record<string, unknown>> {
    if (command === Commands.health) return { partyId: this.o.partyId, role: this.o.role, publicKey: this.o.identity.publicKeyHex, jobs: this.jobs.size };
    if (command === Commands.prepare) return { ...(await this.prepare(body as unknown as PrepareCommand)) };
    if (command === Commands.predictPrepare) return await this.preparePrediction(body as unknown as PredictCommand);
    // Closing is idempotent: the coordinator closes every party of a failed job, prepared or not.
    if (command === Commands.close && !this.jobs.has(String(body.jobId))) {
      this.closed.add(String(body.jobId));
      return {};
    }
    const job = this.job(body.jobId);
    // A split-NN prediction runs inference steps only: no training step could ever move its saved part or return a gradient.
    if (job.nnModel && (command === Commands.nnTrainStep || command === Commands.nnBackward || command === Commands.nnApply || body.phase === 'train')) {
      throw new PartyError(`${command} (phase ${String(body.phase ?? '-').slice(0, 8)}) is not a step of a prediction`);
    }
    const epoch = Number(body.epoch);
    const batch = Number(body.batch);
    const key = `${epoch}:${batch}`;
    switch (command) {
      case Commands.psiPlan:
        return this.planUnbalanced(job, body as unknown as PsiPlanCommand);
      case Commands.psiExchange: {
        const peer = String(body.peer);
        if (job.psiMode === 'unbalanced') return await this.exchangeUnbalanced(job, peer, out);
        const session = this.requirePsi(job, peer);
        // One signed message per chunk, in order; the next chunk is hashed while one travels.
        const deliver = async (k: number, blinded: Uint8Array) =>
          (await this.send<{ doubleBlinded: Uint8Array }>(job, peer, PeerTypes.psiBlinded, { ...session.header(k), blinded }, out)).doubleBlinded;
        if (job.psiOutput === 'cardinality' || (job.star && job.role === 'feature')) {
          // The peer keeps its answers: a returned answer would tell us which of our IDs are shared.
          await pipelineChunks(session, deliver, (k, answer) => {
            if (!(answer instanceof Uint8Array) || answer.length !== 0) {
              throw new PartyError(`${peer} returned blinded values in a ${job.psiOutput === 'cardinality' ? 'cardinality-only job' : 'job with several feature parties, where a feature party gets none back'}: refused`);
            }
            session.markOwnChunkDelivered(k);
          });
        } else {
          await pipelineChunks(session, deliver);
        }
        return {};
      }
      case Commands.psiAnswer: {
        if (job.psiOutput !== 'cardinality' || job.role !== 'feature') throw new PartyError(`${Commands.psiAnswer} is only for the feature party of a cardinality-only job`);
        const session = this.requirePsi(job);
        for await (const { header, elements } of session.answerChunks()) {
          await this.send(job, this.labelParty(job), PeerTypes.psiAnswers, { ...header, elements }, out);
        }
        return {};
      }
      case Commands.psiProgress:
        // Counts only: how far this party's own list and the peer's list are through blinding.
        return psiProgress(job);
      case Commands.psiFinish:
        if (job.psiMode === 'unbalanced') return await this.finishUnbalanced(job, out);
        if (job.psiOutput === 'cardinality') return this.finishCardinality(job);
        if (job.star) return job.role === 'label' ? await this.finishStarLabel(job, out) : await this.finishStarFeature(job);
        return await this.finishPsi(job);
      case Commands.heKeys:
        await this.installKeys(job, body.bundle as CkksPublicBundle, body.widths);
        return {};
      case Commands.lrForward: {
        const lr = job.requireLr(FeaturePartyLr);
        const share = lr.forward(job.batch(epoch, batch));
        await this.send(job, this.labelParty(job), PeerTypes.lrForward, { epoch, batch, chunks: share.chunks, ...(share.linear ? { linear: share.linear } : {}) }, out);
        return {};
      }
      case Commands.lrResidual: {
        const lr = job.requireLr(LabelPartyLr);
        const features = job.roster.filter((r) => r.role === 'feature');
        const forwards = features.map((f) => job.take<ForwardShare>(`forward:${key}:${f.partyId}`));
        const { residual, gradient } = lr.residual(key, job.batch(epoch, batch), forwards);
        // The own gradient is computed while Enc(d) travels; lr.gradient collects it.
        gradient.catch(() => undefined); // a failure is reported by lr.gradient, not as an unhandled rejection
        job.put(`gradient:${key}`, gradient);
        await Promise.all(features.map((f) => this.send(job, f.partyId, PeerTypes.lrResidual, { epoch, batch, chunks: residual }, out)));
        return {};
      }
      case Commands.lrGradient: {
        if (job.role === 'label') {
          job.requireLr(LabelPartyLr);
          return { gradient: await job.take<Promise<Uint8Array>>(`gradient:${key}`) };
        }
        const lr = job.requireLr(FeaturePartyLr);
        const chunks = job.take<Uint8Array[]>(`residual:${key}`);
        return { gradient: await lr.gradient(key, job.batch(epoch, batch), chunks) };
      }
      case Commands.lrUpdate: {
        const lr = job.lr;
        if (!lr) throw new PartyError(`job ${job.id} has no model yet`);
        lr.applyUpdate(key, bytesToF64(body.released as Uint8Array, 'released gradient'), epoch);
        return {};
      }
      case Commands.lrShareLogits: {
        const lr = job.requireLr(FeaturePartyLr);
        const split = asSplit(body.split);
        const values = lr.partialLogits(job.rows(split));
        await this.send(job, this.labelParty(job), PeerTypes.lrLogits, { round: Number(body.round), split, values: f64ToBytes(values) }, out);
        return {};
      }
      case Commands.lrEvaluate:
        return this.evaluate(job, asSplit(body.split), Number(body.round), body.detailed === true) as unknown as Record<string, unknown>;
      case Commands.lrBaseline:
        return this.baseline(job);
      case Commands.lrSnapshot:
      case Commands.lrRestore: {
        if (job.nn) {
          if (command === Commands.lrSnapshot) job.nn.checkpoint();
          else job.nn.restoreCheckpoint();
          return {};
        }
        const lr = job.lr;
        if (!lr) throw new PartyError(`job ${job.id} has no model yet`);
        if (command === Commands.lrSnapshot) lr.snapshot();
        else lr.restore();
        return {};
      }
      case Commands.nnForward: {
        const nn = job.requireNn(SplitNnFeatureParty);
        const k = nnBatchKey(body);
        const { toLabel, toCoordinator } = nn.forward(k, job.nnRows(k, asSplit(body.split ?? 'train')));
        await this.send(job, this.labelParty(job), PeerTypes.nnForward, { ...k, ...forwardToLabelWire.to(toLabel) }, out);
        return { share: f64ToBytes(toCoordinator.share) };
      }
      case Commands.nnProducts: {
        const nn = job.requireNn(SplitNnLabelParty);
        const k = nnBatchKey(body);
        const forwards = job.roster.filter((r) => r.role === 'feature').map((f) => job.take<NnForwardToLabel>(`nn-forward:${batchKeyString(k)}:${f.partyId}`));
        return { products: nn.forwardProducts(k, job.nnRows(k, asSplit(body.split ?? 'train')), forwards).products };
      }
      case Commands.nnTrainStep: {
        const nn = job.requireNn(SplitNnLabelParty);
        const k = nnBatchKey(body);
        const step = nn.trainStep(k, vectorFromWire(body.released, 'released forward'));
        const features = job.roster.filter((r) => r.role === 'feature');
        await Promise.all(features.map((f, i) => this.send(job, f.partyId, PeerTypes.nnBackward, { ...k, ...backwardToFeatureWire.to(step.toFeatures[i]) }, out)));
        return { shares: step.toCoordinator.map((s) => backwardShareWire.to(s)), loss: step.loss };
      }
      case Commands.nnBackward: {
        const nn = job.requireNn(SplitNnFeatureParty);
        const k = nnBatchKey(body);
        return backwardProductsWire.to(nn.backward(k, job.take<NnBackwardToFeature>(`nn-backward:${batchKeyString(k)}`)));
      }
      case Commands.nnApply: {
        job.requireNn(SplitNnFeatureParty).applyRelease(nnBatchKey(body), vectorFromWire(body.released, 'released backward'));
        return {};
      }
      case Commands.nnPredict: {
        const nn = job.requireNn(SplitNnLabelParty);
        const k = nnBatchKey(body);
        if (k.batch === 0) job.nnScores.clear();
        job.nnScores.set(k.batch, nn.predict(k, vectorFromWire(body.released, 'released forward')));
        return {};
      }
      case Commands.nnMetrics: {
        job.requireNn(SplitNnLabelParty);
        // A prediction has no labels: its scores go only to the coordinator (predict.combine).
        if (job.nnModel) throw new PartyError(`${Commands.nnMetrics} is not a step of a prediction`);
        const split = asSplit(body.split);
        const scores = job.takeNnScores(job.rows(split).length);
        return this.splitMetrics(job, split, scores, body.detailed === true) as unknown as Record<string, unknown>;
      }
      case Commands.lrExport: {
        if (job.nnModel) throw new PartyError(`${Commands.lrExport} is not a step of a prediction`);
        if (!job.lr && !job.nn) throw new PartyError(`job ${job.id} has no model yet`);
        if (!this.o.saveModel) throw new PartyError(`${this.o.partyId} has nowhere to keep models (no model directory configured)`);
        // Split NN: only this party's own part (bottom and N_f; or bottom, top, W_L, b and the V_f).
        const model: StoredPartyModel = job.nn ? job.nnPartyModel(this.o.partyId) : job.model(this.o.partyId);
        await this.o.saveModel(job.id, model);
        job.exported = true;
        const digest = modelDigest(model);
        const size = modelBytes(model);
        await this.o.audit?.record(job.id, { step: 'model.export', sender: this.o.partyId, receiver: COORDINATOR_ID, messageDigest: digest, byteSize: size, detail: { columns: model.columns.length } });
        return { partyId: this.o.partyId, role: job.role, columns: model.columns, modelDigest: digest, modelBytes: size, signature: this.o.identity.sign(partModelSigningText(job.id, this.o.partyId, digest)) };
      }
      case Commands.lrCheckpoint: {
        if ((!job.lr && !job.nn) || job.nnModel) throw new PartyError(`job ${job.id} has no model in training`);
        if (!this.o.saveCheckpoint) throw new PartyError(`${this.o.partyId} has nowhere to keep checkpoints`);
        const base = { jobId: job.id, partyId: this.o.partyId, epoch: Number(body.epoch), contentSha256: job.contentSha256 };
        const checkpoint: StoredCheckpoint = job.nn
          ? { family: 'split-nn', ...base, hyperparametersDigest: modelDigest(nnSettings(job)), settings: nnSettings(job), state: job.nn.checkpointState(), ...(body.earlyStopping ? { earlyStopping: earlyStoppingState(body.earlyStopping) } : {}) }
          : { ...base, hyperparametersDigest: hyperparametersDigest(job.hp), ...job.lr!.checkpointState(), ...(body.training ? { training: lrTrainingRecord(body.training) } : {}) };
        await this.o.saveCheckpoint(job.id, checkpoint);
        const digest = modelDigest(checkpoint);
        await this.o.audit?.record(job.id, { step: 'lr.checkpoint', sender: this.o.partyId, receiver: COORDINATOR_ID, messageDigest: digest, byteSize: modelBytes(checkpoint), detail: { epoch: checkpoint.epoch } });
        return { checkpointDigest: digest, checkpointBytes: modelBytes(checkpoint) };
      }
      case Commands.lrResume: {
        if ((!job.lr && !job.nn) || job.nnModel) throw new PartyError(`job ${job.id} has no model yet (he.keys first)`);
        const from = String(body.fromJobId);
        const checkpoint = await this.o.loadCheckpoint?.(from);
        if (!checkpoint) throw new PartyError(`${this.o.partyId} holds no checkpoint of job ${from.slice(0, 64)}`);
        const nn = isNnCheckpoint(checkpoint);
        const problems = [
          nn !== Boolean(job.nn) ? `it is a ${nn ? 'split-nn' : 'split-lr'} checkpoint, this is a ${job.nn ? 'split-nn' : 'split-lr'} job` : '',
          checkpoint.epoch !== Number(body.epoch) ? `it is of epoch ${checkpoint.epoch}, not ${Number(body.epoch)}` : '',
          checkpoint.contentSha256 !== job.contentSha256 ? 'the data file changed since' : '',
        ];
        if (nn && job.nn) {
          const changed = differingPaths(checkpoint.settings, nnSettings(job));
          if (changed.length || checkpoint.hyperparametersDigest !== modelDigest(nnSettings(job))) problems.push(`the settings differ (${changed.join(', ') || 'digest'})`);
        } else if (!nn && job.lr) {
          if (checkpoint.hyperparametersDigest !== hyperparametersDigest(job.hp)) problems.push('the hyperparameters differ');
        }
        const refused = problems.filter(Boolean);
        if (refused.length) throw new PartyError(`cannot resume from job ${from}'s checkpoint at ${this.o.partyId}: ${refused.join('; ')}`);
        if (isNnCheckpoint(checkpoint)) {
          job.nn!.restoreState(checkpoint.state);
          return { checkpointDigest: modelDigest(checkpoint), earlyStopping: checkpoint.earlyStopping ?? null };
        }
        job.lr!.restoreState(checkpoint);
        return { checkpointDigest: modelDigest(checkpoint), training: checkpoint.training ?? null };
      }
      case Commands.predictShare: {
        if (job.role !== 'feature' || !job.prediction) throw new PartyError(`${Commands.predictShare} is for a feature party with a prepared prediction`);
        await this.send(job, this.labelParty(job), PeerTypes.predictLogits, { values: f64ToBytes(job.prediction) }, out);
        return {};
      }
      case Commands.predictCombine: {
        if (job.role === 'label' && job.nnModel) return { scores: f64ToBytes(job.takeNnScores(job.rows('validation').length)) };
        if (job.role !== 'label' || !job.prediction) throw new PartyError(`${Commands.predictCombine} is for the label party with a prepared prediction`);
        const scores = Float64Array.from(job.prediction);
        for (const f of job.roster.filter((r) => r.role === 'feature')) {
          const partial = job.take<Float64Array>(`predict:${f.partyId}`);
          if (partial.length !== scores.length) throw new PartyError(`${f.partyId} scored ${partial.length} rows, expected ${scores.length}`);
          partial.forEach((v, i) => (scores[i] += v));
        }
        return { scores: f64ToBytes(scores.map(sigmoid)) };
      }
      case Commands.close:
        this.jobs.delete(job.id);
        this.closed.add(job.id);
        job.dispose();
        if (this.o.audit) {
          await this.o.audit.record(job.id, { step: 'job.close', sender: COORDINATOR_ID, receiver: this.o.partyId, detail: { completed: body.completed === true, modelSaved: job.exported } });
          await this.o.audit.close(job.id);
        }
        return {};
      default:
        throw new PartyError(`unknown command ${command}`);
    }
  }

  /** Envelopes from other parties. Returns the reply body (MessagePack) or null. */
  async handlePeer(envelope: PeerEnvelope): Promise<Uint8Array | null> {
    let job: PartyJob;
    let body: Record<string, unknown>;
    let key: Uint8Array;
    try {
      ({ job, body, key } = this.acceptEnvelope(envelope));
    } catch (e) {
      await this.recordRefusal(envelope, e);
      throw e;
    }
    const { type, from, seq, digest, signature } = envelope;
    await this.o.audit?.record(job.id, { step: type, sender: from, receiver: this.o.partyId, messageDigest: digest, byteSize: envelope.body.length, detail: { seq, signature } });
    let reply: unknown;
    try {
      reply = await this.dispatchPeer(job, envelope, body);
    } catch (e) {
      // A well-signed message whose content breaks the protocol (a skipped PSI chunk, a duplicate).
      await this.recordRefusal(envelope, e);
      throw e;
    }
    if (reply === null) return null;
    const sealed = sealBody(key, packBody(reply), `${sealContext(envelope)}|reply`);
    await this.o.audit?.record(job.id, { step: `${type}.reply`, sender: this.o.partyId, receiver: from, messageDigest: digestHex(sealed), byteSize: sealed.length, detail: { seq } });
    return sealed;
  }

  /** Checks an envelope's address, roster, digest, signature and sequence, then opens its body. */
  private acceptEnvelope(envelope: PeerEnvelope): { job: PartyJob; body: Record<string, unknown>; key: Uint8Array } {
    if (envelope.to !== this.o.partyId) throw new PartyError(`message addressed to ${envelope.to} reached ${this.o.partyId}`);
    const job = this.jobs.get(String(envelope.jobId));
    if (!job) throw new PartyError(`message for unknown job ${envelope.jobId} refused`);
    if (envelope.from === this.o.partyId || !job.roster.some((r) => r.partyId === envelope.from)) {
      throw new PartyError(`message from ${envelope.from}, who is not in job ${job.id}'s roster, refused`);
    }
    if (!(envelope.body instanceof Uint8Array) || digestHex(envelope.body) !== envelope.digest) {
      throw new PartyError(`message ${envelope.type} from ${envelope.from}: digest does not match its body`);
    }
    const sender = job.roster.find((r) => r.partyId === envelope.from)!;
    if (typeof envelope.signature !== 'string' || !verifySignature(sender.publicKey, envelopeSigningText(envelope), envelope.signature)) {
      throw new PartyError(`message ${envelope.type} claiming to be from ${envelope.from} is not signed by its key: refused`);
    }
    const last = job.lastSeq.get(envelope.from) ?? 0;
    if (!(envelope.seq > last)) throw new PartyError(`message ${envelope.type} from ${envelope.from} replayed (seq ${envelope.seq} <= ${last})`);
    job.lastSeq.set(envelope.from, envelope.seq);
    const key = this.channelKey(job, envelope.from);
    const body = unpackBody<Record<string, unknown>>(openBody(key, envelope.body, sealContext(envelope)));
    return { job, body, key };
  }

  /**
   * A refused envelope goes into the log of the job it names, or, when this party does not know
   * that job, into the unattributed chain. Only header fields of a fixed shape are kept: a
   * forged header must not smuggle data into the log.
   */
  private async recordRefusal(envelope: PeerEnvelope, error: unknown): Promise<void> {
    if (!this.o.audit) return;
    const known = typeof envelope?.jobId === 'string' && this.jobs.has(envelope.jobId);
    const short = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(v) ? v : '(malformed)');
    await this.o.audit.record(known ? envelope.jobId : UNATTRIBUTED_JOB_ID, {
      step: 'peer.refused',
      sender: short(envelope?.from),
      receiver: this.o.partyId,
      messageDigest: typeof envelope?.digest === 'string' && /^[0-9a-f]{64}$/.test(envelope.digest) ? envelope.digest : null,
      byteSize: envelope?.body instanceof Uint8Array ? envelope.body.length : 0,
      detail: {
        type: short(envelope?.type),
        seq: Number.isSafeInteger(envelope?.seq) ? envelope.seq : null,
        ...(known ? {} : { claimedJob: short(envelope?.jobId) }),
        // Refusal messages name positions and fields, never values (they also reach the coordinator).
        reason: error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300),
      },
    });
  }

  private dispatchPeer(job: PartyJob, envelope: PeerEnvelope, body: Record<string, unknown>): unknown {
    // Every peer message type flows one way between roles: a feature party hears only from the
    // label party, and the label party only from feature parties (never one feature party from another).
    const sender = job.roster.find((r) => r.partyId === envelope.from);
    const expected: PartyRole = job.role === 'label' ? 'feature' : 'label';
    if (!sender || sender.role !== expected) throw new PartyError(`${envelope.type} from ${envelope.from} (${sender?.role ?? 'not in the roster'}) refused: a ${job.role} party takes it only from a ${expected} party`);
    switch (envelope.type) {
      case PeerTypes.psiBlinded:
        return this.requirePsi(job, envelope.from)
          .blindPeerChunk(chunkHeader(body), body.blinded as Uint8Array)
          // Cardinality mode: keep the answer (the feature party later sends them all, shuffled).
          // Star mode, label party: keep it too; a feature party must not see its own IDs doubly blinded.
          .then((doubleBlinded) => ({ doubleBlinded: job.psiOutput === 'cardinality' || (job.star && job.role === 'label') ? new Uint8Array(0) : doubleBlinded }));
      case PeerTypes.psiQuery:
        return this.requireUnbalanced(job, UnbalancedPsiBig, envelope.from)
          .answerQuery(chunkHeader(body), body.blinded as Uint8Array)
          .then((doubleBlinded) => ({ doubleBlinded }));
      case PeerTypes.psiTags:
        this.requireUnbalanced(job, UnbalancedPsiSmall, envelope.from).acceptPeerTags(chunkHeader(body), body.tags as Uint8Array);
        return {};
      case PeerTypes.psiPositions:
        if (job.psiUnbalanced instanceof UnbalancedPsiBig) {
          if (!(body.positions instanceof Uint8Array) || body.positions.length % 4 !== 0) throw new PartyError(`${PeerTypes.psiPositions}: expected 4-byte positions`);
          job.put('psi-positions', new Uint32Array(body.positions.slice().buffer));
          return null;
        }
        if (!job.star || job.role !== 'feature') throw new PartyError(`${PeerTypes.psiPositions} is only for a feature party of a job with several, or the big side of an unbalanced one`);
        if (!(body.positions instanceof Uint8Array) || body.positions.length % 4 !== 0) throw new PartyError(`${PeerTypes.psiPositions}: expected 4-byte positions`);
        job.put('psi-positions', new Uint32Array(body.positions.slice().buffer));
        return null;
      case PeerTypes.psiAnswers:
        if (job.psiOutput !== 'cardinality' || job.role !== 'label') throw new PartyError(`${PeerTypes.psiAnswers} is only for the label party of a cardinality-only job`);
        this.requirePsi(job).acceptAnswerChunk(chunkHeader(body), body.elements as Uint8Array);
        return {};
      case PeerTypes.lrForward:
        job.put(`forward:${body.epoch}:${body.batch}:${envelope.from}`, { chunks: body.chunks, linear: body.linear } as ForwardShare);
        return null;
      case PeerTypes.lrResidual:
        job.put(`residual:${body.epoch}:${body.batch}`, body.chunks);
        return null;
      case PeerTypes.nnForward: {
        if (job.role !== 'label') throw new PartyError(`${PeerTypes.nnForward} is only for the label party`);
        const k = nnBatchKey(body);
        const message = forwardToLabelWire.from(body);
        if (message.party !== envelope.from) throw new PartyError(`${PeerTypes.nnForward} from ${envelope.from} claims to be ${message.party.slice(0, 64)}'s`);
        job.put(`nn-forward:${batchKeyString(k)}:${envelope.from}`, message);
        return null;
      }
      case PeerTypes.nnBackward: {
        if (job.role !== 'feature') throw new PartyError(`${PeerTypes.nnBackward} is only for a feature party`);
        job.put(`nn-backward:${batchKeyString(nnBatchKey(body))}`, backwardToFeatureWire.from(body));
        return null;
      }
      case PeerTypes.predictLogits:
        if (job.role !== 'label' || !job.prediction) throw new PartyError(`${PeerTypes.predictLogits} is only for the label party of a prediction`);
        job.put(`predict:${envelope.from}`, bytesToF64(body.values as Uint8Array, 'partial logits'));
        return null;
      case PeerTypes.lrLogits:
        job.put(`logits:${body.round}:${body.split}:${envelope.from}`, bytesToF64(body.values as Uint8Array, 'partial logits'));
        return null;
      default:
        throw new PartyError(`unknown peer message type ${envelope.type}`);
    }
  }

  /** The AES key this party shares with `peer` for the job (derived once, from the roster keys). */
  private channelKey(job: PartyJob, peer: string): Uint8Array {
    let key = job.channelKeys.get(peer);
    if (!key) {
      const entry = job.roster.find((r) => r.partyId === peer);
      if (!entry) throw new PartyError(`${peer} is not in job ${job.id}'s roster`);
      key = peerChannelKey(this.o.identity, this.o.partyId, peer, entry.publicKey, job.id);
      job.channelKeys.set(peer, key);
    }
    return key;
  }

  private async prepare(cmd: PrepareCommand): Promise<PrepareReply> {
    if (typeof cmd.jobId !== 'string' || cmd.jobId.length === 0) throw new PartyError('job.prepare needs a jobId');
    if (cmd.role !== this.o.role) {
      throw new PartyError(`job ${cmd.jobId} asks ${this.o.partyId} to act as ${cmd.role} party, but it is configured as ${this.o.role}`);
    }
    this.checkRoster(cmd.roster);
    if (this.jobs.has(cmd.jobId)) throw new PartyError(`job ${cmd.jobId} is already prepared here`);
    if (this.closed.has(cmd.jobId)) throw new PartyError(`job ${cmd.jobId} was already closed here`);
    if (this.o.role === 'feature' && cmd.data?.labelColumn) {
      // A feature party holds no labels; a label column in its reference is a configuration mistake.
      throw new PartyError(`a feature party takes no label column (got "${cmd.data.labelColumn}")`);
    }
    const file = this.resolveData(cmd.data?.path);
    const output = cmd.alignment?.output ?? 'intersection';
    if (output !== 'intersection' && output !== 'cardinality') throw new PartyError(`job ${cmd.jobId}: unknown PSI output "${String(output).slice(0, 24)}"`);
    const cardinalityOnly = output === 'cardinality';
    const mode = cmd.alignment?.mode ?? 'balanced';
    if (mode !== 'balanced' && mode !== 'unbalanced') throw new PartyError(`job ${cmd.jobId}: unknown PSI mode "${String(mode).slice(0, 24)}"`);
    let table = await loadPartyTable(file, {
      idColumn: cmd.data.idColumn ?? 'id',
      // A feasibility count needs no labels.
      labelColumn: this.o.role === 'label' && !cardinalityOnly ? (cmd.data.labelColumn ?? 'y') : undefined,
    });
    let idRules: IdRule[];
    try {
      idRules = parseIdRules(cmd.alignment?.idRules);
    } catch (e) {
      throw new PartyError(`job ${cmd.jobId}: ${(e as Error).message}`);
    }
    if (idRules.length > 0) table = { ...table, ids: normaliseIds(table.ids, idRules, table.source) };
    const sigmoid = cmd.hyperparameters?.sigmoid;
    if (sigmoid !== undefined && sigmoid !== 'taylor' && sigmoid !== 'cubic') throw new PartyError(`job ${cmd.jobId}: unknown sigmoid approximation "${String(sigmoid).slice(0, 24)}"`);
    const weight = cmd.hyperparameters?.positiveWeight;
    if (weight !== undefined && weight !== 'balanced' && !(typeof weight === 'number' && weight > 0 && Number.isFinite(weight))) throw new PartyError(`job ${cmd.jobId}: positiveWeight must be a positive number or "balanced"`);
    if (sigmoid === 'cubic' && isRowWeighted(cmd.hyperparameters)) throw new PartyError(`job ${cmd.jobId}: positiveWeight works with the taylor sigmoid only`);
    const job = new PartyJob(cmd.jobId, cmd.role, cmd.roster, cmd.hyperparameters);
    job.psiOutput = cardinalityOnly ? 'cardinality' : 'intersection';
    job.data = { ...cmd.data };
    job.contentSha256 = table.contentSha256;
    if (cmd.nn) {
      try {
        job.nnSpec = { architecture: validateArchitecture(cmd.nn.architecture), defence: validateDefence(cmd.nn.defence ?? NO_DEFENCE) };
      } catch (e) {
        throw new PartyError(`job ${cmd.jobId}: ${(e as Error).message}`);
      }
    }
    job.idRules = idRules;
    job.table = table;
    if (job.star && cardinalityOnly) throw new PartyError(`job ${cmd.jobId}: a cardinality-only check takes one feature party`);
    job.psiMode = mode;
    if (mode === 'unbalanced') {
      // Sides are assigned by psi.plan once every party has reported its rows.
      if (job.star) throw new PartyError(`job ${cmd.jobId}: unbalanced PSI takes one feature party (star mode is balanced only)`);
      if (cardinalityOnly) throw new PartyError(`job ${cmd.jobId}: a cardinality-only check runs in balanced mode`);
    } else if (job.star && cmd.role === 'label') {
      job.psiPeers = new Map(
        cmd.roster.filter((r) => r.role === 'feature').map((f) => [f.partyId, new EcdhPsiSession(this.o.psiEngine, table.ids, psiDomainTag(cmd.jobId), { peerPositions: true })]),
      );
    } else {
      job.psi = new EcdhPsiSession(this.o.psiEngine, table.ids, psiDomainTag(cmd.jobId), { keepPeerSet: !job.star });
    }
    this.jobs.set(cmd.jobId, job);
    return {
      rows: table.ids.length,
      columns: table.featureNames.length + (cmd.role === 'label' ? 1 : 0),
      columnNames: table.featureNames,
      contentSha256: table.contentSha256,
      source: table.source,
      backend: this.o.tensorflow.description,
    };
  }

  /**
   * Prediction: loads this party's model of `modelJobId`, reads the requested IDs' rows (from the
   * training file unless told otherwise), refuses a column set that differs from training, and
   * computes its partial logits. The label party reads no labels.
   */
  private async preparePrediction(cmd: PredictCommand): Promise<Record<string, unknown>> {
    if (typeof cmd.jobId !== 'string' || cmd.jobId.length === 0) throw new PartyError('predict.prepare needs a jobId');
    this.checkRoster(cmd.roster);
    if (this.jobs.has(cmd.jobId) || this.closed.has(cmd.jobId)) throw new PartyError(`prediction ${cmd.jobId} is already known here`);
    const model = await this.o.loadModel?.(String(cmd.modelJobId));
    if (!model) throw new PartyError(`${this.o.partyId} holds no model of job ${String(cmd.modelJobId).slice(0, 64)}`);
    if (model.role !== this.o.role) throw new PartyError(`the model of job ${model.jobId} is a ${model.role} party's, this party is ${this.o.role}`);
    if (!Array.isArray(cmd.ids) || cmd.ids.length === 0 || !cmd.ids.every((id) => typeof id === 'string')) throw new PartyError('predict.prepare needs a non-empty list of string IDs');
    const data = cmd.data ?? model.data;
    const file = this.resolveData(data.path);
    const nn = isNnPartyModel(model);
    const trained = nn ? model.columns : model.role === 'label' ? model.columns.slice(0, -1) : model.columns;
    // Read with the shared CSV reader (BOM, quoting); the training label column may be there and is
    // ignored, any other difference from training is refused, named.
    const all = await loadPartyTable(file, { idColumn: data.idColumn ?? 'id' });
    const present = all.featureNames.filter((c) => c !== model.data.labelColumn);
    const missing = trained.filter((c) => !present.includes(c));
    const extra = present.filter((c) => !trained.includes(c));
    if (missing.length || extra.length) {
      throw new PartyError(
        `${all.source} has other columns than the model of job ${model.jobId} was trained on` +
          (missing.length ? `; missing: ${missing.join(', ')}` : '') + (extra.length ? `; not in training: ${extra.join(', ')}` : ''),
      );
    }
    const ids = model.idRules.length ? normaliseIds(all.ids, [...model.idRules], all.source) : all.ids;
    const wanted = model.idRules.length ? normaliseIds(cmd.ids as string[], [...model.idRules], 'the request') : cmd.ids;
    const index = new Map(ids.map((id, i) => [id, i]));
    // The label party must hold every requested ID (the count only, never which). A feature party
    // scores an ID it does not hold as an average customer (standardised zeros: contribution 0)
    // and says nothing, so no answer reveals who is its customer.
    const unknown = model.role === 'label' ? wanted.filter((id) => !index.has(id)).length : 0;
    if (unknown > 0) throw new PartyError(`${unknown} of the ${wanted.length} requested IDs are not in the label party's data`);
    const columnOf = trained.map((c) => all.featureNames.indexOf(c));
    const width = trained.length;
    const { means, deviations, clipSigma } = model.standardization;
    const bound = clipSigma > 0 ? clipSigma : Infinity;
    const stride = all.featureNames.length;
    if (nn) return this.prepareNnPrediction(cmd, model, wanted.map((id) => index.get(id)), (row, j) => Math.max(-bound, Math.min(bound, (all.features[row * stride + columnOf[j]] - means[j]) / deviations[j])));
    const columns = model.columns.length;
    const weights = Float64Array.from(model.weights);
    const partial = new Float64Array(wanted.length);
    wanted.forEach((id, k) => {
      let s = model.role === 'label' ? weights[columns - 1] : 0;
      const row = index.get(id);
      if (row !== undefined) {
        for (let j = 0; j < width; j++) {
          const v = all.features[row * stride + columnOf[j]];
          s += Math.max(-bound, Math.min(bound, (v - means[j]) / deviations[j])) * weights[j];
        }
      }
      partial[k] = s;
    });
    const job = new PartyJob(cmd.jobId, this.o.role, cmd.roster, DEFAULT_LR_HYPERPARAMETERS);
    job.prediction = partial;
    this.jobs.set(cmd.jobId, job);
    return { rows: wanted.length, modelDigest: modelDigest(model), modelBytes: modelBytes(model) };
  }

  /**
   * Split-NN prediction: the requested rows, standardised as in training, become the job's only
   * (validation) split, scored with the saved part once he.keys arrives, by the evaluation steps
   * (nn.forward, nn.products, nn.predict). A row the feature party lacks is all zeros after
   * standardisation: its average customer, as in split LR.
   */
  private prepareNnPrediction(cmd: PredictCommand, model: NnPartyModel, rows: (number | undefined)[], standardized: (row: number, column: number) => number): Record<string, unknown> {
    const width = model.columns.length;
    const values = new Float64Array(rows.length * width);
    rows.forEach((row, k) => {
      if (row !== undefined) for (let j = 0; j < width; j++) values[k * width + j] = standardized(row, j);
    });
    const job = new PartyJob(cmd.jobId, this.o.role, cmd.roster, DEFAULT_LR_HYPERPARAMETERS);
    try {
      job.nnSpec = { architecture: validateArchitecture(model.architecture), defence: NO_DEFENCE };
    } catch (e) {
      throw new PartyError(`the saved model of job ${model.jobId}: ${(e as Error).message}`);
    }
    job.nnModel = model;
    job.data = model.data;
    const standardizer = Standardizer.of(model.standardization.means, model.standardization.deviations);
    job.aligned = {
      rows: rows.length, matrix: values, standardized: values, columns: width, columnNames: [...model.columns],
      // Scoring reads no labels; the label party's network object takes a placeholder column.
      labels: this.o.role === 'label' ? new Uint8Array(rows.length) : undefined,
      split: { train: new Int32Array(0), validation: Int32Array.from(rows, (_, k) => k) },
      standardizer,
    };
    this.jobs.set(cmd.jobId, job);
    return { rows: rows.length, columns: width, modelDigest: modelDigest(model), modelBytes: modelBytes(model) };
  }

  /** The roster must list this party under its own key, and peers under the keys pinned here. */
  private checkRoster(roster: readonly RosterEntry[] | undefined): void {
    const me = roster?.find((r) => r.partyId === this.o.partyId);
    if (!me) throw new PartyError(`${this.o.partyId} is not in the job's roster`);
    if (me.publicKey !== this.o.identity.publicKeyHex) throw new PartyError(`the job's roster lists another public key for ${this.o.partyId}`);
    for (const r of roster!) {
      if (!/^[0-9a-f]{64}$/.test(r.publicKey ?? '')) throw new PartyError(`the job's roster has no valid public key for ${r.partyId}`);
      const pinned = this.o.pinnedKeys?.get(r.partyId);
      if (pinned && pinned !== r.publicKey) throw new PartyError(`the job's roster key for ${r.partyId} differs from the key configured at ${this.o.partyId}`);
    }
  }

  /** Cardinality mode: the label party counts; the feature party has nothing to report. */
  private async finishCardinality(job: PartyJob): Promise<Record<string, unknown>> {
    const session = this.requirePsi(job);
    job.psi = undefined;
    job.table = undefined;
    if (job.role === 'feature') {
      session.dispose();
      return { size: null };
    }
    return { size: await session.finishCardinality() };
  }

  // --- Unbalanced mode (see psi/unbalanced-psi.ts): the small side S queries, the big side B streams tags.

  /** Creates this party's side once the coordinator has compared the row counts. */
  private planUnbalanced(job: PartyJob, cmd: PsiPlanCommand): Record<string, unknown> {
    if (job.psiMode !== 'unbalanced') throw new PartyError(`${Commands.psiPlan} is only for a job in unbalanced PSI mode`);
    if (job.psiUnbalanced || job.psiPeer) throw new PartyError(`job ${job.id}: PSI side already planned`);
    if (cmd.side !== 'small' && cmd.side !== 'big') throw new PartyError(`${Commands.psiPlan}: side must be "small" or "big"`);
    const peer = job.roster.find((r) => r.partyId === cmd.peer && r.partyId !== this.o.partyId);
    if (!peer) throw new PartyError(`${Commands.psiPlan}: peer ${String(cmd.peer).slice(0, 64)} is not another party of job ${job.id}`);
    if (!Number.isSafeInteger(cmd.peerRows) || cmd.peerRows < 1) throw new PartyError(`${Commands.psiPlan}: peerRows must be a positive integer`);
    const Side = cmd.side === 'small' ? UnbalancedPsiSmall : UnbalancedPsiBig;
    job.psiUnbalanced = new Side(this.o.psiEngine, job.table!.ids, psiDomainTag(job.id), {}, cmd.peerRows);
    job.psiPeer = peer.partyId;
    return {};
  }

  /** S: queries in chunks, each answer unblinded; B: its tags in chunks. Both run at once. */
  private async exchangeUnbalanced(job: PartyJob, peer: string, out: Outbox): Promise<Record<string, unknown>> {
    const side = job.psiUnbalanced;
    if (!side) throw new PartyError(`job ${job.id}: ${Commands.psiPlan} has not assigned this party a PSI side`);
    if (peer !== job.psiPeer) throw new PartyError(`job ${job.id}: the PSI peer is ${job.psiPeer}, not ${peer.slice(0, 64)}`);
    if (side instanceof UnbalancedPsiSmall) {
      await pipelineSmallQueries(side, async (k, blinded) => {
        const { doubleBlinded } = await this.send<{ doubleBlinded: Uint8Array }>(job, peer, PeerTypes.psiQuery, { ...side.header(k), blinded }, out);
        return doubleBlinded;
      });
    } else {
      await pipelineBigTags(side, async (k, tags) => {
        await this.send(job, peer, PeerTypes.psiTags, { ...side.header(k), tags }, out);
      });
    }
    return {};
  }

  /** S matches and sends B the positions of the shared IDs, in the agreed order; B maps them to its IDs. */
  private async finishUnbalanced(job: PartyJob, out: Outbox): Promise<Record<string, unknown>> {
    const side = job.psiUnbalanced;
    const peer = job.psiPeer;
    if (!side || !peer) throw new PartyError(`job ${job.id}: ${Commands.psiPlan} has not assigned this party a PSI side`);
    job.psiUnbalanced = undefined;
    let sharedIds: string[];
    if (side instanceof UnbalancedPsiSmall) {
      const result = side.finish();
      sharedIds = result.sharedIds;
      await this.send(job, peer, PeerTypes.psiPositions, { positions: new Uint8Array(result.peerPositions.buffer) }, out);
    } else {
      sharedIds = side.idsAtPositions(job.take<Uint32Array>('psi-positions'));
    }
    // As in star mode: keyed by the pair's channel key, so the coordinator compares but cannot test guesses.
    return { ...this.alignRows(job, sharedIds), orderDigest: this.orderDigest(job, peer, sharedIds) };
  }

  private requireUnbalanced<T extends UnbalancedPsiSmall | UnbalancedPsiBig>(job: PartyJob, kind: new (...a: never[]) => T, from: string): T {
    const side = job.psiUnbalanced;
    const name = kind === (UnbalancedPsiSmall as unknown) ? 'small' : 'big';
    if (!(side instanceof kind)) throw new PartyError(`job ${job.id} has no ${name}-side unbalanced PSI session for this message`);
    if (from !== job.psiPeer) throw new PartyError(`job ${job.id}: the PSI peer is ${job.psiPeer}, not ${String(from).slice(0, 64)}`);
    return side;
  }

  private async finishPsi(job: PartyJob): Promise<Record<string, unknown>> {
    const result = await this.requirePsi(job).finish();
    job.psi = undefined;
    return { ...this.alignRows(job, result.sharedIds), orderDigest: result.orderDigest };
  }

  /**
   * Star mode, label party: the intersection of every pair's matches, sorted by ID; each feature
   * party is sent the positions of those IDs in its own stream. The digest per pair is keyed by
   * the pair's channel key, so the coordinator can compare it but not test a guess of the IDs.
   */
  private async finishStarLabel(job: PartyJob, out: Outbox): Promise<Record<string, unknown>> {
    const sessions = job.psiPeers!;
    const matches = new Map<string, Map<number, number>>();
    for (const [peer, session] of sessions) matches.set(peer, await session.matchPeerPositions());
    job.psiPeers = undefined;
    const [first, ...others] = [...matches.values()];
    const ids = job.table!.ids;
    const shared = [...first.keys()].filter((i) => others.every((m) => m.has(i))).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
    const sharedIds = shared.map((i) => ids[i]);
    const aligned = this.alignRows(job, sharedIds);
    const orderDigests: Record<string, string> = {};
    for (const [peer, m] of matches) {
      const positions = Uint32Array.from(shared, (i) => m.get(i)!);
      await this.send(job, peer, PeerTypes.psiPositions, { positions: new Uint8Array(positions.buffer) }, out);
      orderDigests[peer] = this.orderDigest(job, peer, sharedIds);
    }
    return { ...aligned, orderDigests };
  }

  /** Star mode, feature party: its IDs at the positions the label party sent, in that order. */
  private async finishStarFeature(job: PartyJob): Promise<Record<string, unknown>> {
    const positions = job.take<Uint32Array>('psi-positions');
    const sharedIds = this.requirePsi(job).idsAtPositions(positions);
    job.psi = undefined;
    return { ...this.alignRows(job, sharedIds), orderDigest: this.orderDigest(job, this.labelParty(job), sharedIds) };
  }

  private orderDigest(job: PartyJob, peer: string, sharedIds: readonly string[]): string {
    return createHmac('sha256', this.channelKey(job, peer)).update('vfl-psi-order-v1').update(packBody(sharedIds)).digest('hex');
  }

  /** Keeps the rows of the shared IDs, in their order, split and standardised. */
  private alignRows(job: PartyJob, sharedIds: readonly string[]): { size: number; trainRows: number; validationRows: number } {
    if (sharedIds.length === 0) throw new PartyError('no shared IDs: the intersection is empty');
    const table = selectRows(job.table!, sharedIds as string[]);
    job.table = undefined;
    const rows = sharedIds.length;
    const split = trainValidationSplit(rows, job.hp.validationFraction, job.hp.seed);
    const raw = table.features;
    const width = table.featureNames.length;
    const standardizer = Standardizer.fit(raw, width, split.train);
    const standardized = standardizer.transform(raw, width, job.hp.clipSigma ?? 0);
    const matrix = job.role === 'label' ? withIntercept(standardized, width) : standardized;
    const columns = job.role === 'label' ? width + 1 : width;
    job.aligned = { rows, matrix, standardized, columns, columnNames: table.featureNames, labels: table.labels, split, standardizer };
    return { size: rows, trainRows: split.train.length, validationRows: split.validation.length };
  }

  private async installKeys(job: PartyJob, bundle: CkksPublicBundle, widths?: unknown): Promise<void> {
    const aligned = job.requireAligned();
    this.ckks ??= CkksContext.create();
    const ckks = await this.ckks;
    void job.engine?.close();
    job.engine = undefined;
    job.encryptor?.dispose();
    job.scorer?.dispose();
    job.encryptor = CkksEncryptor.fromBundle(ckks, bundle);
    if (job.nnSpec) {
      // Split NN: every party builds the same layout from the architecture and every party's input width.
      const w = (widths ?? {}) as Record<string, number>;
      const label = job.roster.find((r) => r.role === 'label')!;
      const layout = new SplitNnJobLayout(
        { architecture: job.nnSpec.architecture, label: { id: label.partyId, inputWidth: Number(w[label.partyId]) }, features: job.roster.filter((r) => r.role === 'feature').map((f) => ({ id: f.partyId, inputWidth: Number(w[f.partyId]) })) },
        ckks.slots,
      );
      if (layout.spec.label.id === this.o.partyId ? layout.spec.label.inputWidth !== aligned.columnNames.length : layout.features.find((f) => f.id === this.o.partyId)?.inputWidth !== aligned.columnNames.length) {
        throw new PartyError(`the job says ${this.o.partyId} has ${w[this.o.partyId]} input columns, its data has ${aligned.columnNames.length}`);
      }
      // The seed behind this party's initial weights and interactive-weight share must be its own
      // secret (a peer that knew it could recompute the share that hides W_f), yet reproducible:
      // derived from its signing key (ed25519 signatures are deterministic) and the job's seed.
      const secret = createHash('sha256').update(this.o.identity.sign(`vfl-split-nn-seed-v1|seed=${job.nnSpec.architecture.training.seed}`)).digest();
      const seed = partySeed(secret.readUInt32LE(0) & 0x7fffffff, this.o.partyId);
      const common = { id: this.o.partyId, layout, tf: this.o.tensorflow.tf, ckks, encryptor: job.encryptor, features: aligned.standardized, seed };
      job.nn = job.role === 'label' ? new SplitNnLabelParty({ ...common, labels: aligned.labels!, defence: job.nnSpec.defence }) : new SplitNnFeatureParty(common);
      // A prediction scores with the saved part, not with freshly initialised weights.
      if (job.nnModel) {
        const p = job.nnModel.parameters;
        if (job.nn instanceof SplitNnLabelParty && p.role === 'label') job.nn.loadParameters(p);
        else if (job.nn instanceof SplitNnFeatureParty && p.role === 'feature') job.nn.loadParameters(p);
        else throw new PartyError(`the saved model of job ${job.nnModel.jobId} is a ${p.role} party's part, this party is ${job.role}`);
      }
      return;
    }
    job.scorer = new TfLinearScorer(this.o.tensorflow.tf, aligned.matrix, aligned.columns);
    job.engine = createCkksEngine({ ckks, encryptor: job.encryptor }, this.o.ckksThreads);
    const options = {
      ckks,
      encryptor: job.encryptor,
      engine: job.engine,
      hp: job.hp,
      scorer: job.scorer,
      matrix: aligned.matrix,
      columns: aligned.columns,
    };
    job.lr =
      job.role === 'label'
        ? new LabelPartyLr({ ...options, interceptIndex: aligned.columns - 1, positiveWeight: resolvePositiveWeight(job.hp, aligned.labels!, aligned.split.train) }, aligned.labels!)
        : new FeaturePartyLr(options);
    await job.lr.prepare();
  }

  /**
   * Metrics of the full model on one split, computed where the labels are. Only aggregates leave
   * the label party: with `detailed`, also the confusion matrix at 0.5, the gain/lift table by
   * decile, the ROC and KS curves at percentile cuts, and (for validation, after train) the stability of the score distribution (PSI).
   */
  private evaluate(job: PartyJob, split: Split, round: number, detailed: boolean): BinaryMetrics | DetailedMetrics {
    const lr = job.requireLr(LabelPartyLr);
    const rows = job.rows(split);
    const partials = job.roster
      .filter((r) => r.role === 'feature')
      .map((f) => job.take<Float64Array>(`logits:${round}:${split}:${f.partyId}`));
    return this.splitMetrics(job, split, lr.logits(rows, partials).map(sigmoid), detailed);
  }

  /** Metrics of a split's probabilities, where the labels are; detailed: confusion, gain/lift, curves, stability. */
  private splitMetrics(job: PartyJob, split: Split, probabilities: Float64Array, detailed: boolean): BinaryMetrics | DetailedMetrics {
    const rows = job.rows(split);
    if (probabilities.length !== rows.length) throw new PartyError(`${probabilities.length} scores for the ${rows.length} ${split} rows`);
    const labels = Uint8Array.from(rows, (r) => job.requireAligned().labels![r]);
    const metrics = binaryMetrics(probabilities, labels);
    if (!detailed) return metrics;
    job.finalScores.set(split, probabilities);
    const train = job.finalScores.get('train');
    return {
      ...metrics,
      confusion: confusionMatrix(probabilities, labels, 0.5),
      gainLift: gainLiftTable(probabilities, labels, 10),
      rocCurve: rocCurve(probabilities, labels, curvePoints(rows.length)),
      ksCurve: ksCurve(probabilities, labels, curvePoints(rows.length)),
      scoreStability: split === 'validation' && train ? populationStabilityIndex(train, probabilities, 10) : null,
    };
  }

  /** The label party's model on its own features only: what federation is compared against. */
  private baseline(job: PartyJob): Record<string, unknown> {
    if (job.role !== 'label') throw new PartyError('lr.baseline is a label-party step');
    const a = job.requireAligned();
    const { weights } = trainPlainSplitLr(a.matrix, a.columns, a.labels!, job.hp, { interceptIndex: a.columns - 1, split: a.split });
    const metrics = (rows: Int32Array) => scoreMetrics(partialLogits(a.matrix, a.columns, weights, rows), rows, a.labels!);
    return { train: metrics(a.split.train), validation: metrics(a.split.validation) };
  }

  private async send<T>(job: PartyJob, to: string, type: PeerType, payload: unknown, out: Outbox): Promise<T> {
    const key = this.channelKey(job, to);
    const route = { jobId: job.id, type, from: this.o.partyId, to, seq: ++job.seq };
    const context = sealContext(route);
    const body = sealBody(key, packBody(payload), context);
    const header = { ...route, digest: digestHex(body) };
    const envelope: PeerEnvelope = { ...header, body, signature: this.o.identity.sign(envelopeSigningText(header)) };
    out.sent.push({ type, from: this.o.partyId, to, seq: envelope.seq, digest: envelope.digest, bytes: body.length });
    await this.o.audit?.record(job.id, { step: type, sender: this.o.partyId, receiver: to, messageDigest: envelope.digest, byteSize: body.length, detail: { seq: envelope.seq, signature: envelope.signature } });
    let reply: Uint8Array | null;
    try {
      reply = await this.o.peers.request(to, envelope);
    } catch (e) {
      // The failure belongs to the peer (or to whichever party it reports further on): the job names it.
      throw new PartyError(e instanceof Error ? e.message : String(e), failedAtOf(e) ?? to);
    }
    if (!reply) return undefined as T;
    const replyDigest = digestHex(reply);
    out.sent.push({ type: `${type}.reply`, from: to, to: this.o.partyId, seq: envelope.seq, digest: replyDigest, bytes: reply.length });
    await this.o.audit?.record(job.id, { step: `${type}.reply`, sender: to, receiver: this.o.partyId, messageDigest: replyDigest, byteSize: reply.length, detail: { seq: envelope.seq } });
    return unpackBody<T>(openBody(key, reply, `${context}|reply`));
  }

  private job(id: unknown): PartyJob {
    const job = this.jobs.get(String(id));
    if (!job) throw new PartyError(`unknown job ${String(id)} (not prepared on ${this.o.partyId})`);
    return job;
  }

  private requirePsi(job: PartyJob, peer?: string): EcdhPsiSession {
    const session = job.psiPeers ? job.psiPeers.get(String(peer)) : job.psi;
    if (!session) throw new PartyError(`job ${job.id} has no PSI session in progress${job.psiPeers ? ` with ${String(peer).slice(0, 64)}` : ''}`);
    return session;
  }

  private labelParty(job: PartyJob): string {
    const label = job.roster.find((r) => r.role === 'label');
    if (!label) throw new PartyError(`job ${job.id} has no label party`);
    return label.partyId;
  }

  private resolveData(file: unknown): string {
    if (typeof file !== 'string' || file.length === 0) throw new PartyError('data reference needs a path');
    const root = this.o.dataRoot;
    const resolved = path.resolve(root ?? process.cwd(), file);
    if (root && path.relative(path.resolve(root), resolved).startsWith('..')) {
      throw new PartyError(`data path ${file} is outside this party's data root`);
    }
    return resolved;
  }
}

function asSplit(value: unknown): Split {
  if (value !== 'train' && value !== 'validation') throw new PartyError(`split must be "train" or "validation", got ${String(value)}`);
  return value;
}

function scoreMetrics(logits: Float64Array, rows: Int32Array, labels: Uint8Array): BinaryMetrics {
  return binaryMetrics(logits.map(sigmoid), Uint8Array.from(rows, (r) => labels[r]));
}

function chunkHeader(body: Record<string, unknown>): PsiChunkHeader {
  return { chunk: Number(body.chunk), chunks: Number(body.chunks), total: Number(body.total) };
}
