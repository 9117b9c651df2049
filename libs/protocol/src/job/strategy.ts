/**
 * A model's coordinator side, as the job runner is handed it. The runner's loop is fixed (roster,
 * job.prepare, alignment by PSI, the strategy's run, job.close); a strategy says what alignment
 * must produce and what job.prepare carries for its model, and runs its training (or counting) on
 * the aligned rows through the JobContext, which audits every call and message.
 */
import type { AuditEventInput } from '@vfl/audit';
import type { Objective } from '@vfl/data';
import type { ModelManifest } from '../model-manifest';
import type { Command } from '../wire/command';
import type { PartyChannel } from '../wire/party-channel';
import type { RosterEntry } from '../wire/roster';
import type { PayloadDigest } from '../wire/codec';
import type { PrepareReply } from './commands';
import type { Baseline } from './evaluation';
import {
  AnyEpochReport,
  Datasets,
  JobPhase,
  JobProgress,
  JobSpec,
  MIN_BATCH_ROWS,
  minimumBatchRows,
} from './job-types';

export interface DataSettings {
  readonly validationFraction: number;
  readonly seed: number;
  readonly clipSigma: number;
  readonly batchSize: number;
  /** How the label party reads its label column (default binary). */
  readonly objective?: Objective;
}

/** What alignment produced: the shared rows, split; or, for a cardinality-only check, their number alone. */
export interface Alignment {
  readonly intersection: number;
  readonly trainRows: number;
  readonly validationRows: number;
}

/** Bytes sent over every link in the current epoch, counted from the audited messages. */
export interface EpochTraffic {
  /** Starts counting an epoch afresh. */
  start(): void;
  /** The epoch's bytes, all links and per "from->to" link. */
  take(): { total: number; byLink: Record<string, number> };
}

export interface JobContext {
  readonly spec: JobSpec;
  readonly label: PartyChannel;
  readonly features: readonly PartyChannel[];
  readonly roster: readonly RosterEntry[];
  readonly prepared: ReadonlyMap<string, PrepareReply>;
  readonly alignment: Alignment;
  readonly datasets: Datasets;
  /** Worker threads for the coordinator's CKKS work (default: one per core; 0: inline). */
  readonly ckksThreads?: number;
  readonly traffic: EpochTraffic;
  /** A party command, cancellable, its failure attributed, the peer messages it reports audited. */
  call<Q, P>(channel: PartyChannel, command: Command<Q, P>, body: Q): Promise<P>;
  /** Audits one coordinator⇄party payload by digest and size (and counts its bytes). */
  message(
    step: string,
    from: string,
    to: string,
    payload: Uint8Array | PayloadDigest,
    detail: Record<string, unknown>,
  ): Promise<unknown>;
  audit(event: AuditEventInput): Promise<unknown>;
  phase(phase: JobPhase): Promise<void>;
  progress(progress: JobProgress, epoch?: AnyEpochReport): void;
  /** Every party keeps its state of `epoch` completed epochs (model.checkpoint); `record` is the coordinator's, returned on resume. */
  checkpoint(epoch: number, record?: unknown): Promise<void>;
  /** Every party resumes from its checkpoint of `spec.resume` (model.resume); returns the records they kept, one per party. */
  resumeRecords(): Promise<unknown[]>;
  /** Every party keeps / goes back to its best epoch's model (early stopping). */
  snapshot(epoch: number): Promise<void>;
  restore(epoch: number): Promise<void>;
  /** Every party saves its model and signs its digest; the parts make the manifest. */
  exportModel(family: Pick<ModelManifest, 'model' | 'architecture' | 'objective'>): Promise<ModelManifest>;
  /** The label party's linear model (of the job's objective) on its own features: the uplift baseline. */
  baseline(): Promise<Baseline>;
}

export interface JobStrategy<Result> {
  readonly model: string;
  /** What alignment must produce: the shared rows (training), or only their number. */
  readonly alignment: 'intersection' | 'cardinality';
  /** The objectives the model trains (default: binary only); a job asking another is refused before any party is called. */
  readonly objectives?: readonly Objective[];
  /** Refuses a job this model cannot run (party counts, settings), before any party is called. */
  check?(spec: JobSpec): void;
  /** How every party splits, batches and clips its rows. */
  dataSettings(spec: JobSpec): DataSettings;
  /** The model's own settings in job.prepare (checked by its party hooks). */
  settings(spec: JobSpec): unknown;
  run(job: JobContext): Promise<Result>;
}

/** A training job's batches must not let a party solve its gradient for individual rows. */
export function checkBatchRows(job: JobContext, batchSize: number): void {
  const widest = Math.max(...[...job.prepared.values()].map((p) => p.columns));
  const smallest = Math.min(batchSize, job.alignment.trainRows);
  if (smallest < minimumBatchRows(widest)) {
    throw new RangeError(
      `batches of ${smallest} rows are too small: every batch needs at least ${minimumBatchRows(widest)} rows ` +
        `(twice the widest party's ${widest} columns, and at least ${MIN_BATCH_ROWS}) so that no party can solve its gradient for individual rows`,
    );
  }
}
