/**
 * What a model brings to a party: handlers for its own commands and peer messages, and hooks for
 * the steps every model shares (settings at job.prepare, keys, export, checkpoint, resume,
 * snapshot and restore of the best epoch). The PartyNode looks them up by command name and by the
 * job's model; it holds no switch over either.
 */
import type { AuditEventInput } from '@vfl/audit';
import type { CkksContext, CkksPublicBundle, PsiEngine, SigningIdentity } from '@vfl/crypto';
import type { TensorflowRuntime, LrHyperparameters } from '@vfl/ml';
import type { Command } from '../wire/command';
import type { PeerMessage } from '../wire/peer-envelope';
import type { PartyRole } from '../wire/roster';
import type { PartyJob } from './party-job';
import type { StoredCheckpoint, StoredPartyModel } from './stored-model';

/** What handlers may use of the party they run in. */
export interface PartyContext {
  readonly partyId: string;
  readonly role: PartyRole;
  readonly identity: SigningIdentity;
  readonly psiEngine: PsiEngine;
  readonly tensorflow: TensorflowRuntime;
  readonly ckksThreads?: number;
  /** The CKKS context, created once per party on first use. */
  ckks(): Promise<CkksContext>;
  /** Resolves a data path inside the party's data root. */
  resolveData(file: string): Promise<string>;
  /** A job known here, or a PartyError. */
  job(id: string): PartyJob;
  /** Registers a job created by a job-less command (job.prepare, predict.prepare). */
  adopt(job: PartyJob): void;
  isKnown(jobId: string): boolean;
  /** The AES key this party shares with `peer` for the job. */
  channelKey(job: PartyJob, peer: string): Uint8Array;
  /** How many jobs are open here (health reports it). */
  jobCount(): number;
  audit(jobId: string, event: AuditEventInput): Promise<void>;
  /** The job has closed here: sign the head of its log. */
  closeAudit(jobId: string): Promise<void>;
  /** Signs the head of the job's log now (the job may still be running). */
  signAudit(jobId: string): Promise<void>;
  /** The roster must list this party under its own key, and peers under keys pinned here. */
  checkRoster(roster: readonly { partyId: string; publicKey: string }[]): void;
  /** Drops a job (closing it): a later prepare of the same id is refused. */
  forget(jobId: string): PartyJob | undefined;
  readonly storage: PartyStorage;
}

export interface PartyStorage {
  saveModel?(jobId: string, model: StoredPartyModel): void | Promise<void>;
  loadModel?(jobId: string): StoredPartyModel | undefined | Promise<StoredPartyModel | undefined>;
  saveCheckpoint?(jobId: string, checkpoint: StoredCheckpoint): void | Promise<void>;
  loadCheckpoint?(jobId: string): StoredCheckpoint | undefined | Promise<StoredCheckpoint | undefined>;
  /** A result for this party's own operator (a scorecard prediction's points per applicant), kept beside its models. */
  saveOutput?(jobId: string, name: string, text: string): void | Promise<void>;
}

/** One command being served: its job (for job commands) and the job's peer line. */
export interface CommandCall {
  readonly node: PartyContext;
  /** Sends a peer message of the job, signed and sealed, and returns the peer's reply body. */
  send<T>(job: PartyJob, to: string, message: PeerMessage<T>, payload: T): Promise<unknown>;
}

export interface CommandHandler<Q, P> {
  readonly command: Command<Q, P>;
  /** False for the commands that create a job or need none (job.prepare, predict.prepare, party.health). */
  readonly needsJob: boolean;
  /** Steps that may run for a prediction job (which loads a saved model and must never train it). */
  readonly inPrediction?: boolean;
  handle(body: Q, call: CommandCall, job: PartyJob | undefined): Promise<P> | P;
  /** What the coordinator handed in, for the party's own log (recorded before handling). */
  incoming?(body: Q, node: PartyContext): AuditEventInput[];
  /** What the party hands back, for its own log (recorded before the reply leaves). */
  outgoing?(body: Q, reply: P, node: PartyContext): AuditEventInput[];
}

export type AnyCommandHandler = CommandHandler<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A handler of a job's command (the job is looked up and passed in). */
export function onJobCommand<Q extends { jobId: string }, P>(
  command: Command<Q, P>,
  handle: (body: Q, job: PartyJob, call: CommandCall) => Promise<P> | P,
  extra: Partial<Pick<CommandHandler<NoInfer<Q>, NoInfer<P>>, 'incoming' | 'outgoing' | 'inPrediction'>> = {},
): CommandHandler<Q, P> {
  return { command, needsJob: true, handle: (body, call, job) => handle(body, job!, call), ...extra };
}

/** A handler of a command that runs outside any existing job. */
export function onCommand<Q, P>(
  command: Command<Q, P>,
  handle: (body: Q, call: CommandCall) => Promise<P> | P,
  extra: Partial<Pick<CommandHandler<NoInfer<Q>, NoInfer<P>>, 'incoming' | 'outgoing'>> = {},
): CommandHandler<Q, P> {
  return { command, needsJob: false, handle: (body, call) => handle(body, call), ...extra };
}

export interface PeerHandler<B> {
  readonly message: PeerMessage<B>;
  /** Returns the reply body, or null for none. */
  handle(body: B, job: PartyJob, from: string, node: PartyContext): unknown;
}

export type AnyPeerHandler = PeerHandler<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function onPeer<B>(
  message: PeerMessage<B>,
  handle: (body: B, job: PartyJob, from: string, node: PartyContext) => unknown,
): PeerHandler<B> {
  return { message, handle };
}

/** The steps every trained model shares, filled in by each model. */
export interface PartyModelHooks {
  /** The model bins missing values: empty cells load as NaN instead of failing job.prepare. */
  readonly missingValues?: boolean;
  /**
   * The model trains on mini-batches (split LR, split NN): a file wider than its batches allow
   * (half the batch size in columns) is refused at job.prepare, before PSI.
   */
  readonly miniBatches?: boolean;
  /** Checks the model's settings from job.prepare and keeps them in the job. */
  prepare?(job: PartyJob, settings: unknown, node: PartyContext): void;
  installKeys?(
    job: PartyJob,
    bundle: CkksPublicBundle,
    widths: Record<string, number> | undefined,
    node: PartyContext,
    /** Split LR: the model's heads (multiclass: one per class; 1 otherwise). */
    heads?: number,
  ): Promise<void>;
  exportModel?(job: PartyJob, node: PartyContext): StoredPartyModel;
  checkpoint?(job: PartyJob, epoch: number, record: unknown, node: PartyContext): StoredCheckpoint;
  /** Why a checkpoint cannot be resumed from beyond the shared checks (epoch, data): e.g. other settings. */
  resumeProblems?(job: PartyJob, checkpoint: StoredCheckpoint): string[];
  /** Loads a checkpoint (already checked) and returns the coordinator's record kept with it. */
  resume?(job: PartyJob, checkpoint: StoredCheckpoint, node: PartyContext): unknown;
  /** The hyperparameters of the label party's own logistic regression (the uplift baseline). */
  baselineHyperparameters?(job: PartyJob): LrHyperparameters;
  snapshot?(job: PartyJob): void;
  restore?(job: PartyJob): void;
}

/** A group of commands and peer messages; a model's group also names the model and its hooks. */
export interface PartyHandlerGroup {
  /** The job model these hooks serve (`split-lr`, …); absent for groups every model uses (job, psi, predict). */
  readonly model?: string;
  readonly hooks?: PartyModelHooks;
  readonly commands: readonly AnyCommandHandler[];
  readonly peers?: readonly AnyPeerHandler[];
}
