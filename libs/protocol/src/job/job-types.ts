/**
 * The vocabulary every job shares, whatever its model: the job's spec, its progress and epoch
 * reports, the hooks the coordinator's job service gives the runner, and the errors a job ends with.
 */
import type { AuditEventInput } from '@vfl/audit';
import type { IdRule, Objective } from '@vfl/data';
import type { LrHyperparameters, BinaryMetrics, MulticlassMetrics, NnArchitecture, RegressionMetrics } from '@vfl/ml';
import type { DefenceSpec } from '../split-nn/defence';
import type { SecureBoostInput } from '../secureboost/settings';
import type { StatisticsInput } from '../statistics/settings';
import type { BinningInput } from '../binning/settings';
import type { ScorecardInput } from '../pipeline/settings';
import type { SelectionInput } from '../selection/select-columns';
import { failedAtOf } from '../party/party-error';
import { payloadDigest, type PayloadDigest } from '../wire/codec';
import type { DataReference, PartyRole } from '../wire/roster';

/** No batch may have fewer rows than this, nor fewer than twice the widest party's columns. */
export const MIN_BATCH_ROWS = 32;

export function minimumBatchRows(widestColumns: number): number {
  return Math.max(MIN_BATCH_ROWS, 2 * widestColumns);
}

/** The most columns (the label party's intercept included) a party may have in batches of `batchSize` rows. */
export function maximumColumns(batchSize: number): number {
  return Math.floor(batchSize / 2);
}

/** How every party normalises its IDs before PSI, and how PSI runs (docs/protocol.md §1). */
export interface AlignmentSpec {
  readonly idRules: readonly IdRule[];
  /** `unbalanced`: the smaller list's party does O(its size) group operations. Default `balanced`. */
  readonly mode?: 'balanced' | 'unbalanced';
  /** Unbalanced mode: the party with the small list; by default the one that reports fewer rows. */
  readonly smallParty?: string;
  /** `kkrt`: OT-based PSI for two large lists; `auto` (default) picks by sizes (psi/kkrt-alignment.ts). */
  readonly protocol?: 'auto' | 'ecdh' | 'kkrt';
}

/** Each party's dataset as it reported it at job.prepare (never content). */
export type Datasets = Record<string, { rows: number; columns: number; contentSha256: string; source: string }>;

export interface JobPartySpec {
  readonly partyId: string;
  readonly role: PartyRole;
  readonly data: DataReference;
  /** The party's ed25519 public key when the coordinator's registry pins one. */
  readonly publicKey?: string;
}

export interface JobSpec {
  readonly jobId: string;
  /** The model's strategy (registry.ts): `split-lr`, `split-nn`, `psi-cardinality` (alignment only, the count). */
  readonly model: string;
  /** `split-nn`: the architecture (bottom, interactive, top, training) and the label party's defence. */
  readonly nn?: { readonly architecture: NnArchitecture; readonly defence?: DefenceSpec };
  /** `secureboost`: the boosting settings (defaults for every field left out; secureboost/settings.ts). */
  readonly secureboost?: SecureBoostInput;
  /** `statistics`: which statistics each owner shares (statistics/settings.ts). */
  readonly statistics?: StatisticsInput;
  /** `binning`: how each party bins its columns and what of its WOE/IV it shares (binning/settings.ts). */
  readonly binning?: BinningInput;
  /** `pipeline`: the steps, in order (statistics, binning, selection, split-lr, scorecard); each uses its own settings field. */
  readonly pipeline?: readonly string[];
  /** A pipeline's selection step: IV threshold, top-k per party, missing rate. */
  readonly selection?: SelectionInput;
  /** A pipeline's scorecard step: base score, base odds (good:bad), PDO. */
  readonly scorecard?: ScorecardInput;
  readonly parties: readonly JobPartySpec[];
  readonly hyperparameters: LrHyperparameters;
  /** What the model predicts (default `binary`): a 0/1 label, a continuous target, or one of K classes. */
  readonly objective?: Objective;
  readonly alignment?: AlignmentSpec;
  /**
   * Split LR: the hyperparameters the request left out, to be sized from the data check's row
   * count (libs/ml scheduleForRows) before job.prepare; `hyperparameters` holds placeholders until then.
   */
  readonly sizedByRows?: { readonly batchSize: boolean; readonly epochs: boolean };
  /** Continue an interrupted split-LR or split-NN job from its parties' checkpoints after `epoch` completed epochs. */
  readonly resume?: { readonly fromJobId: string; readonly epoch: number };
}

export type JobPhase = 'aligning' | 'training' | 'evaluating';

export interface JobProgress {
  readonly phase: JobPhase;
  readonly epoch?: number;
  readonly epochs?: number;
  readonly batch?: number;
  readonly batches?: number;
  readonly rowsProcessed?: number;
  readonly etaSeconds?: number | null;
  /** Alignment: element blindings done and to do, over all parties (each ID is blinded twice). */
  readonly elementsDone?: number;
  readonly elementsTotal?: number;
  /** A pipeline: the step running, and every step's state. */
  readonly step?: string;
  readonly steps?: readonly { readonly step: string; readonly state: string; readonly seconds?: number }[];
}

/** One epoch's validation metrics: binary, or (objective regression or multiclass) the target's. */
export interface EpochReport<M = BinaryMetrics> {
  readonly epoch: number;
  readonly seconds: number;
  readonly validation: M;
  /** The mean training loss over the epoch's batches, where the model computes it anyway (split NN's label party). */
  readonly trainLoss?: number;
}

/** An epoch report of any objective (what progress hooks receive). */
export type AnyEpochReport = EpochReport<BinaryMetrics | RegressionMetrics | MulticlassMetrics>;

/** How early stopping ended a job (null in a result when it was off). */
export interface EarlyStoppingReport {
  readonly metric: 'auc' | 'loss';
  /** The epoch whose model the job kept (1-based). */
  readonly bestEpoch: number;
  /** The last epoch trained. */
  readonly stoppedAtEpoch: number;
  readonly stoppedEarly: boolean;
  /** Why it stopped early: no improvement for `patience` epochs, or the loss diverged after the best epoch. */
  readonly reason?: 'patience' | 'diverged';
}

/** Training stopped because the loss blew up or became NaN; the message says where and what to change. */
export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** A validation loss this many times the first epoch's (or ln 2, if larger) counts as diverging. */
export const DIVERGENCE_LOSS_FACTOR = 3;

export interface JobHooks {
  audit(event: AuditEventInput): Promise<unknown>;
  phase(phase: JobPhase): Promise<void>;
  progress(progress: JobProgress, epoch?: AnyEpochReport): void;
  /** Checked before every party command; returning true stops the job with JobCancelledError. */
  cancelled?(): boolean;
  /** Every party has checkpointed `epoch` completed epochs (split LR, split NN): a failed job can resume from here. */
  checkpointed?(epoch: number): Promise<void> | void;
}

/** The job was cancelled; raised at the next protocol step after the request. */
export class JobCancelledError extends Error {
  constructor() {
    super('job cancelled');
    this.name = 'JobCancelledError';
  }
}

/** A party's command failed: carries the party's name so users see where it happened. */
export class PartyCallError extends Error {
  constructor(
    readonly partyId: string,
    readonly command: string,
    message: string,
  ) {
    super(`${partyId} failed at ${command}: ${message}`);
    this.name = 'PartyCallError';
  }
}

/** The message broker between the services: its failures are its own, not the party that used it (libs/transport: NATS_SERVER_ID). */
const TRANSPORT_SERVERS: ReadonlySet<string> = new Set(['nats']);

/** Whether a failed call is the message broker's (down, restarting, reconnecting), not a party's. */
export function isTransportFailure(e: unknown): boolean {
  return e instanceof PartyCallError && TRANSPORT_SERVERS.has(e.partyId);
}

/**
 * Whether the broker had no one listening on the party's subject (NATS "no subscribers"): the
 * party is down, or starting, or its connection is still coming back after a broker restart.
 */
export function isNotListening(e: unknown): boolean {
  return e instanceof PartyCallError && /no subscribers listening/i.test(e.message);
}

/**
 * The party a command's failure belongs to: the called party, or, when it reports that its
 * message to a peer of the job failed there (a refusal, a failed audit write, a peer down), that peer.
 */
export function attributeFailure(
  called: string,
  command: string,
  e: unknown,
  parties: readonly { partyId: string }[],
): PartyCallError {
  const text = e instanceof Error ? e.message : String(e);
  const at = failedAtOf(e);
  if (at && TRANSPORT_SERVERS.has(at)) return new PartyCallError(at, command, `${text} (on a call to ${called})`);
  if (at && at !== called && parties.some((p) => p.partyId === at))
    return new PartyCallError(at, command, `${text} (on ${called}'s message to ${at})`);
  return new PartyCallError(called, command, at && at !== called ? `${text} (at ${at})` : text);
}

/** Like Promise.all, but waits for every promise to settle before rethrowing the first failure. */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** The audit record of a coordinator⇄party payload: its digest and size, never its content. */
export function payloadRecord(
  step: string,
  from: string,
  to: string,
  payload: Uint8Array | PayloadDigest,
  detail: Record<string, unknown>,
): AuditEventInput {
  const { digest, byteSize } = payloadDigest(payload);
  return { step, sender: from, receiver: to, messageDigest: digest, byteSize, detail };
}
