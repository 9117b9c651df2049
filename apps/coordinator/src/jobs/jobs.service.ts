/**
 * Job lifecycle on the coordinator: validates a request against the registered parties, records
 * it, queues it (round-robin across the API keys that submitted, first come, first served within
 * one key; VFL_MAX_CONCURRENT_JOBS at once), runs it on libs/protocol's JobRunner with the
 * model's strategy, and keeps state, progress and outcome in PostgreSQL, with
 * every state change in the audit chain and on the job's live event stream.
 *
 *   queued -> aligning -> training -> evaluating -> succeeded | failed | cancelled
 */
import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { LrHyperparameters } from '@vfl/ml';
import {
  modelBytes,
  modelDigest,
  ModelManifest,
  signManifest,
  PredictionResult,
  SplitLrPrediction,
  COORDINATOR_ID,
  AnyEpochReport,
  epochFigures,
  JobCancelledError,
  JobProgress,
  PartyCallError,
  JobRunner,
  countersignHead,
  releaseJob,
  jobStrategies,
  JobResult,
  JobSpec,
  AlignmentSpec,
} from '@vfl/protocol';
import { type AuditEventInput, AuditWriteError, JobEntity, JobState, resultDigest } from '@vfl/audit';
import { Observable, Subject } from 'rxjs';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { CoordinatorConfig } from '../config/coordinator.config';
import { AuditService } from '../audit/audit.service';
import { PartyClients } from '../parties/party-clients.service';
import type { Principal } from '../auth/principal';
import { CreateJobDto, PredictDto } from './dto/create-job.dto';
import { FairJobQueue } from './fair-job-queue';
import { hasManifest, requestOf, requestProblems, specOf } from './job-request';
import { type JobListQuery, listJobs } from './job-list';
import { type CachedJobPage, JobListCache } from './job-list-cache';

export interface JobView {
  readonly id: string;
  readonly state: JobState;
  readonly model: JobSpec['model'];
  readonly parties: JobSpec['parties'];
  readonly hyperparameters: LrHyperparameters;
  readonly alignment: AlignmentSpec;
  readonly progress: JobProgress | Record<string, never>;
  readonly epochs: EpochSummary[];
  /** Epochs every party has checkpointed (split LR, split NN): `POST /jobs/:id/resume` continues after them. */
  readonly checkpointEpoch: number | null;
  /** A resumed job: the job and the epoch it continued from. */
  readonly resumedFrom: JobSpec['resume'] | null;
  readonly result: (JobResult & { seconds: number }) | null;
  readonly error: string | null;
  readonly failedParty: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One epoch's validation figures: AUC and KS (binary), R² and RMSE (regression), AUC and accuracy (multiclass). */
export interface EpochSummary {
  readonly epoch: number;
  readonly seconds: number;
  readonly validationLoss: number;
  readonly validationAuc?: number;
  readonly validationKs?: number;
  readonly validationR2?: number;
  readonly validationRmse?: number;
  readonly validationAccuracy?: number;
  /** Split NN: the mean training loss over the epoch's batches. */
  readonly trainLoss?: number;
}

/** What GET /jobs/:id/events streams. */
export interface JobEvent {
  readonly type: 'state' | 'progress' | 'epoch';
  readonly data: unknown;
}

interface LiveJob {
  progress: JobProgress;
  epochs: EpochSummary[];
  lastWrite: number;
  /** Progress writes run one after another, and the final write waits for them. */
  writes: Promise<unknown>;
  cancelRequested: boolean;
  /** Epochs every party has checkpointed (split LR, split NN): a failed job resumes after them. */
  checkpointEpoch?: number;
  /** The job's row while it runs; kept current by setState. */
  row?: JobEntity;
  /** Parties that acknowledged job.prepare (audited): they countersign the chain head at each state change. */
  prepared: Set<string>;
}

const TERMINAL: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];
/** How long a job's failure waits for the database to take it (the database itself may be what failed). */
const FAILURE_RECORD_RETRY_MS = 5 * 60_000;

@Injectable()
export class JobsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(JobsService.name);
  private readonly live = new Map<string, LiveJob>();
  /** Lanes by the submitting API key (principal.keyId). */
  private readonly queue = new FairJobQueue<JobSpec>();
  private readonly streams = new Map<string, Subject<JobEvent>>();

  constructor(
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    private readonly audit: AuditService,
    private readonly parties: PartyClients,
    private readonly config: CoordinatorConfig,
    private readonly listCache: JobListCache,
  ) {}

  /**
   * Jobs that were running when the coordinator stopped: marked failed (audited, naming the
   * restart, resumable from their last checkpoint), and closed at every party still holding them.
   */
  async onApplicationBootstrap(): Promise<void> {
    const orphans = await this.jobs.find({ where: { state: In(['queued', 'aligning', 'training', 'evaluating']) } });
    for (const job of orphans) {
      const reason = `the coordinator restarted while the job was ${job.state}`;
      await this.jobs.update({ id: job.id }, { error: reason, failedParty: COORDINATOR_ID });
      await this.setState(job.id, 'failed', { reason, party: COORDINATOR_ID });
    }
    if (orphans.length) this.logger.warn(`marked ${orphans.length} interrupted job(s) as failed`);
    // In the background: a party that is down too must not hold the coordinator's start-up.
    void this.releaseAtParties(orphans.filter((j) => j.state !== 'queued'));
  }

  private async releaseAtParties(orphans: readonly JobEntity[]): Promise<void> {
    const channels = this.parties.channels();
    for (const job of orphans) {
      const parties = (job.spec as JobSpec).parties.flatMap((p) => channels.get(p.partyId) ?? []);
      for (const m of await releaseJob(parties, job.id))
        this.logger.warn({
          message: `${m.partyId} could not be told to close the interrupted job: ${m.reason}`,
          jobId: job.id,
        });
    }
  }

  async create(dto: CreateJobDto, principal: Principal): Promise<JobView> {
    const problems = requestProblems(dto, (partyId) => this.parties.knows(partyId));
    if (problems.length) throw new BadRequestException(problems);
    return this.submit(dto, principal);
  }

  /** A new job with the request of a failed or cancelled one. */
  async retry(id: string, principal: Principal): Promise<JobView> {
    const row = await this.jobs.findOneBy({ id });
    if (!row) throw new NotFoundException(`job ${id} does not exist`);
    if (row.state !== 'failed' && row.state !== 'cancelled')
      throw new ConflictException(`job ${id} is ${row.state}; only failed or cancelled jobs can be retried`);
    return this.submit(requestOf(row.spec as JobSpec), principal, id);
  }

  /** Stops a queued job at once and a running one at its next protocol step. */
  async cancel(id: string, principal: Principal): Promise<JobView> {
    const job = await this.get(id);
    if (TERMINAL.includes(job.state)) throw new ConflictException(`job ${id} already ${job.state}`);
    if (this.queue.remove((s) => s.jobId === id)) {
      await this.setState(id, 'cancelled', { by: principal.name });
      this.close(id);
    } else {
      const live = this.live.get(id);
      if (live) live.cancelRequested = true;
      await this.audit.record(id, {
        step: 'job.cancel_requested',
        sender: 'api',
        receiver: COORDINATOR_ID,
        detail: { by: principal.name },
      });
    }
    return this.get(id);
  }

  /** A page of job summaries, newest first (job-list.ts), read once per change of the jobs table (job-list-cache.ts). */
  list(query: JobListQuery): Promise<CachedJobPage> {
    const key = JSON.stringify([query.state, query.limit, query.cursor, query.offset, query.include]);
    return this.listCache.get(key, () => listJobs(this.jobs.manager, query));
  }

  /** State, progress and epoch events until the job ends; a finished job's stream ends at once. */
  async events(id: string): Promise<Observable<JobEvent>> {
    const job = await this.get(id);
    return new Observable<JobEvent>((subscriber) => {
      subscriber.next({ type: 'state', data: { state: job.state, progress: job.progress, epochs: job.epochs.length } });
      if (TERMINAL.includes(job.state)) {
        subscriber.complete();
        return undefined;
      }
      const subscription = this.stream(id).subscribe(subscriber);
      return () => subscription.unsubscribe();
    });
  }

  private stream(id: string): Subject<JobEvent> {
    let subject = this.streams.get(id);
    if (!subject) {
      subject = new Subject<JobEvent>();
      this.streams.set(id, subject);
    }
    return subject;
  }

  private close(id: string): void {
    this.streams.get(id)?.complete();
    this.streams.delete(id);
  }

  /**
   * A new job that continues a failed split-LR or split-NN job from its parties' last per-epoch checkpoint,
   * with the same request: it aligns again, then every party loads its checkpoint.
   */
  async resume(id: string, principal: Principal): Promise<JobView> {
    const row = await this.jobs.findOneBy({ id });
    if (!row) throw new NotFoundException(`job ${id} does not exist`);
    const spec = row.spec as JobSpec;
    if (row.state !== 'failed') throw new ConflictException(`job ${id} is ${row.state}; only a failed job can resume`);
    const epoch = (row.progress as { checkpointEpoch?: number }).checkpointEpoch;
    if (spec.model === 'psi-cardinality' || !epoch)
      throw new ConflictException(
        `job ${id} left no checkpoint (it failed before its first epoch or tree ended, or is a psi-cardinality check): retry it instead`,
      );
    return this.submit(requestOf(spec), principal, id, { fromJobId: id, epoch });
  }

  private async submit(
    dto: CreateJobDto,
    principal: Principal,
    retryOf?: string,
    resume?: JobSpec['resume'],
  ): Promise<JobView> {
    const id = randomUUID();
    const spec = specOf(dto, id, (partyId) => this.parties.pinnedKey(partyId), resume);
    await this.jobs.insert({ id, state: 'queued', spec, progress: {} });
    await this.audit.recordOpened(id, {
      step: 'job.created',
      sender: 'api',
      receiver: COORDINATOR_ID,
      detail: {
        startedBy: { keyId: principal.keyId, name: principal.name, role: principal.role },
        ...(retryOf ? { retryOf } : {}),
        ...(resume ? { resume } : {}),
        model: spec.model,
        parties: spec.parties.map((p) => ({ partyId: p.partyId, role: p.role, data: p.data })),
        hyperparameters: spec.hyperparameters,
        alignment: spec.alignment,
        ...(spec.nn ? { nn: spec.nn } : {}),
        ...(spec.secureboost ? { secureboost: spec.secureboost } : {}),
      },
    });
    this.queue.push(principal.keyId, spec);
    this.pump();
    return this.get(id);
  }

  /** Starts queued jobs, submitters taking turns, while fewer than the configured number run. */
  private pump(): void {
    while (this.live.size < this.config.maxConcurrentJobs && this.queue.size > 0) {
      const spec = this.queue.shift()!;
      this.live.set(spec.jobId, {
        progress: { phase: 'aligning' },
        epochs: [],
        lastWrite: 0,
        writes: Promise.resolve(),
        cancelRequested: false,
        prepared: new Set(),
      });
      void this.execute(spec).finally(() => {
        this.live.delete(spec.jobId);
        this.close(spec.jobId);
        this.pump();
      });
    }
  }

  async get(id: string): Promise<JobView> {
    // A running job's row is kept in memory (its state changes go through setState), so status
    // polling during training costs no query.
    const row = this.live.get(id)?.row ?? (await this.jobs.findOneBy({ id }));
    if (!row) throw new NotFoundException(`job ${id} does not exist`);
    const spec = row.spec as JobSpec;
    const live = this.live.get(id);
    const stored = row.progress as { progress?: JobProgress; epochs?: EpochSummary[]; checkpointEpoch?: number };
    return {
      id: row.id,
      state: row.state,
      model: spec.model,
      parties: spec.parties,
      hyperparameters: spec.hyperparameters,
      alignment: spec.alignment ?? { idRules: [] },
      progress: live?.progress ?? stored.progress ?? {},
      epochs: live?.epochs ?? stored.epochs ?? [],
      checkpointEpoch: live?.checkpointEpoch ?? stored.checkpointEpoch ?? null,
      resumedFrom: spec.resume ?? null,
      result: row.result as JobView['result'],
      error: row.error,
      failedParty: row.failedParty,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  /**
   * Scores IDs with a succeeded split-LR job's model: every party with its own weights, the label
   * party combining. Audited under the prediction's own id (and noted in the job's trail).
   */
  async predict(id: string, dto: PredictDto, principal: Principal): Promise<PredictionResult> {
    const row = await this.jobs.findOneBy({ id });
    if (!row) throw new NotFoundException(`job ${id} does not exist`);
    const spec = row.spec as JobSpec;
    const result = row.result as (JobResult & { manifest?: ModelManifest }) | null;
    if (row.state !== 'succeeded' || !scoresApplicants(spec) || !result)
      throw new ConflictException(
        `job ${id} is a ${spec.model} job in state ${row.state}; only a succeeded split-lr, split-nn, secureboost or scorecard pipeline job can predict`,
      );
    if (!result.manifest)
      throw new ConflictException(
        `job ${id} was trained before models were exported with a manifest: retrain it to predict`,
      );
    const problems: string[] = [];
    for (const [partyId, ref] of Object.entries(dto.data ?? {})) {
      if (!spec.parties.some((p) => p.partyId === partyId)) problems.push(`data.${partyId}: not a party of job ${id}`);
      if (typeof ref?.path !== 'string' || ref.path.length === 0 || ref.path.length > 512)
        problems.push(`data.${partyId}.path: a file path of 1 to 512 characters is required`);
      if (ref?.idColumn !== undefined && (typeof ref.idColumn !== 'string' || ref.idColumn.length > 128))
        problems.push(`data.${partyId}.idColumn: a column name of up to 128 characters`);
    }
    if (problems.length) throw new BadRequestException(problems);
    const predictionId = randomUUID();
    await this.audit.record(id, {
      step: 'predict.request',
      sender: COORDINATOR_ID,
      detail: { predictionId, ids: dto.ids.length, by: { keyId: principal.keyId, name: principal.name } },
    });
    const audit = (e: AuditEventInput) => this.audit.record(predictionId, e);
    await this.audit.recordOpened(predictionId, {
      step: 'predict.created',
      sender: COORDINATOR_ID,
      detail: { modelJobId: id, ids: dto.ids.length, by: { keyId: principal.keyId, name: principal.name } },
    });
    try {
      const out = await new SplitLrPrediction(
        {
          predictionId,
          modelJobId: id,
          parties: spec.parties,
          manifest: result.manifest,
          ids: dto.ids,
          data: dto.data,
        },
        this.parties.channels(),
        audit,
      ).run();
      await this.audit.recordEnded(predictionId, {
        step: 'predict.done',
        sender: COORDINATOR_ID,
        detail: { rows: out.scores.length },
      });
      return out;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await this.audit
        .recordEnded(predictionId, { step: 'predict.failed', sender: COORDINATOR_ID, detail: { reason: message } })
        .catch(() => undefined);
      // A party's refusal (unknown IDs, other columns) is the request's fault: 422 with the party's words.
      if (e instanceof PartyCallError) throw new UnprocessableEntityException(message);
      throw e;
    }
  }

  private async execute(spec: JobSpec): Promise<void> {
    const id = spec.jobId;
    const live = this.live.get(id)!;
    live.row = (await this.jobs.findOneBy({ id })) ?? undefined;
    const emit = (event: JobEvent) => this.streams.get(id)?.next(event);
    const started = Date.now();
    const hooks = {
      audit: (event: AuditEventInput) => {
        if (event.step === 'job.prepare' && event.receiver === COORDINATOR_ID) live.prepared.add(event.sender);
        return this.audit.record(id, event);
      },
      phase: (phase: JobState) => this.setState(id, phase),
      cancelled: () => live.cancelRequested,
      checkpointed: async (epoch: number) => {
        live.checkpointEpoch = epoch;
        // Behind the queued progress writes, so none of them overwrites it with an older state.
        live.writes = live.writes
          .then(() =>
            this.jobs.update(
              { id },
              { progress: { progress: live.progress, epochs: [...live.epochs], checkpointEpoch: epoch } },
            ),
          )
          .catch(() => undefined);
        await live.writes;
      },
      progress: (progress: JobProgress, epoch?: AnyEpochReport) => {
        live.progress = progress;
        emit({ type: 'progress', data: progress });
        if (epoch) {
          live.epochs.push({
            epoch: epoch.epoch,
            seconds: epoch.seconds,
            ...(epochFigures(epoch.validation) as Omit<EpochSummary, 'epoch' | 'seconds'>),
            ...(epoch.trainLoss !== undefined ? { trainLoss: epoch.trainLoss } : {}),
          });
          emit({ type: 'epoch', data: live.epochs[live.epochs.length - 1] });
        }
        if (epoch || Date.now() - live.lastWrite > 1000) {
          live.lastWrite = Date.now();
          const snapshot = { progress: live.progress, epochs: [...live.epochs], checkpointEpoch: live.checkpointEpoch };
          live.writes = live.writes.then(() => this.jobs.update({ id }, { progress: snapshot })).catch(() => undefined);
        }
      },
    };
    try {
      const result = await new JobRunner(spec, this.parties.channels(), hooks, { strategies: jobStrategies() }).run();
      live.row = undefined; // from here on the outcome is written to the database: read it there
      await live.writes;
      const seconds = (Date.now() - started) / 1000;
      // The coordinator signs the manifest of the parts the parties signed: GET /jobs/:id shows it.
      const stored = hasManifest(result)
        ? { ...result, manifest: signManifest(result.manifest, this.audit.identity) }
        : result;
      if (hasManifest(stored))
        await this.audit.record(id, {
          step: 'model.manifest',
          sender: COORDINATOR_ID,
          messageDigest: modelDigest(stored.manifest),
          byteSize: modelBytes(stored.manifest),
          detail: { parts: stored.manifest.parts.length },
        });
      const outcome = { ...stored, seconds };
      // The result is written once (a trigger refuses rewriting it); its digest goes in the trail first.
      const digest = resultDigest(outcome);
      await this.audit.record(id, {
        step: 'job.result',
        sender: COORDINATOR_ID,
        messageDigest: digest.digest,
        byteSize: digest.bytes,
      });
      await this.jobs.update(
        { id },
        {
          result: outcome,
          progress: { progress: live.progress, epochs: live.epochs, checkpointEpoch: live.checkpointEpoch },
        },
      );
      await this.setState(
        id,
        'succeeded',
        hasManifest(result)
          ? { seconds, ...('auc' in result.train ? { trainAuc: result.train.auc } : {}) }
          : { seconds, intersection: result.intersection },
      );
    } catch (e) {
      live.row = undefined;
      await live.writes;
      const progress = { progress: live.progress, epochs: live.epochs, checkpointEpoch: live.checkpointEpoch };
      if (e instanceof JobCancelledError) {
        await this.jobs.update({ id }, { progress }).catch(() => undefined);
        await this.setState(id, 'cancelled').catch((err) =>
          this.logger.error({ message: `could not record the cancellation: ${err}`, jobId: id }),
        );
        return;
      }
      const message =
        e instanceof AuditWriteError
          ? `the coordinator's audit database went away: ${e.message}`
          : e instanceof Error
            ? e.message
            : String(e);
      const failedParty = e instanceof PartyCallError ? e.partyId : null;
      await this.recordFailure(id, message, failedParty, progress);
    }
  }

  /**
   * A failure is recorded even when the database is what failed: the job waits (retrying, up to
   * FAILURE_RECORD_RETRY_MS) until the database answers again, rather than staying in a running
   * state; a retry writes none of the failure's audit records twice.
   */
  private async recordFailure(
    id: string,
    message: string,
    failedParty: string | null,
    progress: Record<string, unknown>,
  ): Promise<void> {
    const deadline = Date.now() + FAILURE_RECORD_RETRY_MS;
    for (let attempt = 0, delay = 250; ; attempt++, delay = Math.min(delay * 2, 2_000)) {
      try {
        await this.jobs.update({ id }, { error: message, failedParty, progress });
        await this.setState(id, 'failed', { reason: message, party: failedParty }, attempt > 0);
        return;
      } catch (e) {
        const err = e instanceof Error ? e.message : String(e);
        if (Date.now() + delay > deadline) {
          this.logger.error({ message: `could not record the failure: ${err}`, jobId: id });
          return;
        }
        if (attempt === 0)
          this.logger.warn({ message: `the database did not take the job's failure, retrying: ${err}`, jobId: id });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Records the state change (signed; a job's end goes in the ledger too), has the parties that
   * took the job countersign that head, then moves the row.
   */
  private async setState(
    id: string,
    state: JobState,
    detail: Record<string, unknown> = {},
    again = false,
  ): Promise<void> {
    const event = { step: 'job.state', sender: COORDINATOR_ID, detail: { state, ...detail } };
    const head = !TERMINAL.includes(state)
      ? await this.audit.recordSigned(id, event)
      : again
        ? await this.audit.recordEndedAgain(id, event)
        : await this.audit.recordEnded(id, event);
    const prepared = [...(this.live.get(id)?.prepared ?? [])];
    if (prepared.length > 0) {
      const channels = this.parties.channels();
      const missing = await countersignHead(
        prepared.flatMap((p) => channels.get(p) ?? []),
        head,
        state,
      );
      for (const m of missing)
        this.logger.warn({ message: `${m.partyId} did not countersign the chain head: ${m.reason}`, jobId: id });
    }
    await this.jobs.update({ id }, { state });
    this.logger.log({ message: `job ${state}`, jobId: id, state, ...detail });
    const live = this.live.get(id);
    if (live?.row) live.row = { ...live.row, state, updatedAt: new Date() };
    this.streams.get(id)?.next({ type: 'state', data: { state, ...detail } });
  }
}

/** Whether a job's model scores new IDs: a trained model, or a pipeline that ends in a scorecard. */
function scoresApplicants(spec: JobSpec): boolean {
  if (spec.model === 'pipeline') return spec.pipeline?.includes('scorecard') ?? false;
  return !['psi-cardinality', 'statistics', 'binning'].includes(spec.model);
}
