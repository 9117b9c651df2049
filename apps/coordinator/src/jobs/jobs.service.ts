/**
 * Job lifecycle on the coordinator: validates a request against the registered parties, records
 * it, runs the split-LR protocol (libs/protocol SplitLrJob) in the background, and keeps state,
 * progress and outcome in PostgreSQL, with every state change in the audit chain.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestException, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { JobEntity, JobState } from '../../../../libs/audit/src/job.entity';
import { DEFAULT_LR_HYPERPARAMETERS, LrHyperparameters } from '../../../../libs/ml/src/logistic';
import { COORDINATOR_ID, EpochReport, JobProgress, PartyCallError, SplitLrJob, SplitLrJobResult, SplitLrJobSpec } from '../../../../libs/protocol/src/split-lr-job';
import { AuditService } from '../audit/audit.service';
import { PartyClients } from '../parties/party-clients.service';
import type { Principal } from '../auth/principal';
import { CreateJobDto } from './dto/create-job.dto';

export interface JobView {
  readonly id: string;
  readonly state: JobState;
  readonly model: string;
  readonly parties: SplitLrJobSpec['parties'];
  readonly hyperparameters: LrHyperparameters;
  readonly progress: JobProgress | Record<string, never>;
  readonly epochs: EpochSummary[];
  readonly result: (SplitLrJobResult & { seconds: number }) | null;
  readonly error: string | null;
  readonly failedParty: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface EpochSummary {
  readonly epoch: number;
  readonly seconds: number;
  readonly validationAuc: number;
  readonly validationLoss: number;
  readonly validationKs: number;
}

interface LiveJob {
  progress: JobProgress;
  epochs: EpochSummary[];
  lastWrite: number;
  /** Progress writes run one after another, and the final write waits for them. */
  writes: Promise<unknown>;
}

@Injectable()
export class JobsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(JobsService.name);
  private readonly live = new Map<string, LiveJob>();

  constructor(
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    private readonly audit: AuditService,
    private readonly parties: PartyClients,
  ) {}

  /** Jobs that were running when the coordinator stopped cannot resume yet: mark them failed, audited. */
  async onApplicationBootstrap(): Promise<void> {
    const orphans = await this.jobs.find({ where: { state: In(['queued', 'aligning', 'training', 'evaluating']) } });
    for (const job of orphans) {
      const reason = `the coordinator restarted while the job was ${job.state}`;
      await this.jobs.update({ id: job.id }, { error: reason });
      await this.setState(job.id, 'failed', { reason });
    }
    if (orphans.length) this.logger.warn(`marked ${orphans.length} interrupted job(s) as failed`);
  }

  async create(dto: CreateJobDto, principal: Principal): Promise<JobView> {
    this.checkParties(dto);
    const id = randomUUID();
    const spec: SplitLrJobSpec = {
      jobId: id,
      model: dto.model,
      parties: dto.parties.map((p) => ({ partyId: p.partyId, role: p.role, data: { ...p.data }, publicKey: this.parties.pinnedKey(p.partyId) })),
      hyperparameters: { ...DEFAULT_LR_HYPERPARAMETERS, ...stripUndefined(dto.hyperparameters ?? {}) },
    };
    await this.jobs.insert({ id, state: 'queued', spec, progress: {} });
    await this.audit.recordSigned(id, {
      step: 'job.created',
      sender: 'api',
      receiver: COORDINATOR_ID,
      detail: { startedBy: { keyId: principal.keyId, name: principal.name, role: principal.role }, model: spec.model, parties: spec.parties.map((p) => ({ partyId: p.partyId, role: p.role, data: p.data })), hyperparameters: spec.hyperparameters },
    });
    void this.execute(spec);
    return this.get(id);
  }

  async get(id: string): Promise<JobView> {
    const row = await this.jobs.findOneBy({ id });
    if (!row) throw new NotFoundException(`job ${id} does not exist`);
    const spec = row.spec as unknown as SplitLrJobSpec;
    const live = this.live.get(id);
    const stored = row.progress as { progress?: JobProgress; epochs?: EpochSummary[] };
    return {
      id: row.id,
      state: row.state,
      model: spec.model,
      parties: spec.parties,
      hyperparameters: spec.hyperparameters,
      progress: live?.progress ?? stored.progress ?? {},
      epochs: live?.epochs ?? stored.epochs ?? [],
      result: row.result as JobView['result'],
      error: row.error,
      failedParty: row.failedParty,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  private checkParties(dto: CreateJobDto): void {
    const problems: string[] = [];
    const seen = new Set<string>();
    dto.parties.forEach((p, i) => {
      if (!this.parties.knows(p.partyId)) problems.push(`parties.${i}.partyId: unknown party "${p.partyId}"`);
      if (seen.has(p.partyId)) problems.push(`parties.${i}.partyId: "${p.partyId}" is listed twice`);
      seen.add(p.partyId);
      if (p.role === 'label' && !p.data.labelColumn) problems.push(`parties.${i}.data.labelColumn: required for the label party`);
      if (p.role === 'feature' && p.data.labelColumn) problems.push(`parties.${i}.data.labelColumn: a feature party holds no labels`);
    });
    const labels = dto.parties.filter((p) => p.role === 'label').length;
    if (labels !== 1) problems.push(`parties: exactly one party must have role "label", got ${labels}`);
    if (problems.length) throw new BadRequestException(problems);
  }

  private async execute(spec: SplitLrJobSpec): Promise<void> {
    const id = spec.jobId;
    const live: LiveJob = { progress: { phase: 'aligning' }, epochs: [], lastWrite: 0, writes: Promise.resolve() };
    this.live.set(id, live);
    const started = Date.now();
    const hooks = {
      audit: (event: Parameters<AuditService['record']>[1]) => this.audit.record(id, event),
      phase: (phase: JobState) => this.setState(id, phase),
      progress: (progress: JobProgress, epoch?: EpochReport) => {
        live.progress = progress;
        if (epoch) {
          live.epochs.push({
            epoch: epoch.epoch,
            seconds: epoch.seconds,
            validationAuc: epoch.validation.auc,
            validationLoss: epoch.validation.logLoss,
            validationKs: epoch.validation.ks,
          });
        }
        if (epoch || Date.now() - live.lastWrite > 1000) {
          live.lastWrite = Date.now();
          const snapshot = { progress: live.progress, epochs: [...live.epochs] };
          live.writes = live.writes.then(() => this.jobs.update({ id }, { progress: snapshot })).catch(() => undefined);
        }
      },
    };
    try {
      const result = await new SplitLrJob(spec, this.parties.channels(), hooks).run();
      await live.writes;
      const seconds = (Date.now() - started) / 1000;
      await this.jobs.update({ id }, { result: { ...result, seconds }, progress: { progress: live.progress, epochs: live.epochs } });
      await this.setState(id, 'succeeded', { seconds, trainAuc: result.train.auc });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const failedParty = e instanceof PartyCallError ? e.partyId : null;
      this.logger.warn(`job ${id} failed: ${message}`);
      await live.writes;
      await this.jobs.update({ id }, { error: message, failedParty, progress: { progress: live.progress, epochs: live.epochs } }).catch(() => undefined);
      await this.setState(id, 'failed', { reason: message, party: failedParty }).catch((err) => this.logger.error(`could not record failure of ${id}: ${err}`));
    } finally {
      this.live.delete(id);
    }
  }

  private async setState(id: string, state: JobState, detail: Record<string, unknown> = {}): Promise<void> {
    await this.audit.recordSigned(id, { step: 'job.state', sender: COORDINATOR_ID, detail: { state, ...detail } });
    await this.jobs.update({ id }, { state });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
