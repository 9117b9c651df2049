/**
 * The coordinator's audit writer and reader: one hash chain per job, signed at state changes and
 * periodically, and the system-wide ledger of jobs opened and ended (libs/audit/src/audit-ledger.ts).
 */
import * as path from 'node:path';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  type AuditEventInput,
  type ChainedAuditEvent,
  type AuditFilter,
  type CoordinatorVerification,
  AuditCheckpointEntity,
  AuditEventEntity,
  AuditLedger,
  SignedAuditLog,
  verifyCoordinatorTrail,
} from '@vfl/audit';
import { loadOrCreateKeyFile, previousKeys, SigningIdentity } from '@vfl/crypto';
import { CoordinatorConfig } from '../config/coordinator.config';

/** A signed chain head as GET /jobs/:id/audit/checkpoints shows it. */
export interface SignedHead {
  readonly seq: number;
  readonly headHash: string;
  readonly signer: string;
  readonly publicKey: string;
  readonly signature: string;
  readonly signedAt: Date;
}

/** The key file's name under VFL_KEY_DIR (`vfl keys rotate` uses the same). */
export const COORDINATOR_KEY_NAME = 'coordinator';

@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  private readonly log: SignedAuditLog;
  private readonly ledger: AuditLedger;
  /** Keys this coordinator signed with before a rotation: its own verification trusts them. */
  private readonly earlierKeys: string[];

  constructor(
    private readonly ds: DataSource,
    private readonly config: CoordinatorConfig,
  ) {
    const identity = this.signingIdentity();
    this.earlierKeys = previousKeys(path.resolve(config.keyDir), COORDINATOR_KEY_NAME);
    this.logger.log(`coordinator public key ${identity.publicKeyHex} (the parties' VFL_COORDINATOR_KEY)`);
    this.log = new SignedAuditLog(ds, identity, (e) =>
      this.logger.error(`periodic chain-head signing failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    this.ledger = new AuditLedger(ds);
  }

  /** VFL_SIGNING_KEY when set; otherwise the key kept under VFL_KEY_DIR, created on first start. */
  private signingIdentity(): SigningIdentity {
    if (this.config.signingKey) return SigningIdentity.fromSeedHex('coordinator', this.config.signingKey);
    const kept = loadOrCreateKeyFile(path.resolve(this.config.keyDir), COORDINATOR_KEY_NAME);
    this.logger.log(`signing key ${kept.created ? 'created in' : 'read from'} ${kept.file}`);
    return kept.identity;
  }

  get identity(): SigningIdentity {
    return this.log.identity;
  }

  onModuleInit(): void {
    this.log.startPeriodicSigning(this.config.auditSignIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.log.stopPeriodicSigning();
  }

  record(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    return this.log.record(jobId, event);
  }

  /** Records the event and signs the chain head it creates. */
  recordSigned(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    return this.log.recordSigned(jobId, event);
  }

  /** The first event of a job's (or a prediction's) chain: signed, and its head entered in the ledger. */
  async recordOpened(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    const recorded = await this.log.recordSigned(jobId, event);
    await this.ledger.record('job.created', recorded, this.identity);
    return recorded;
  }

  /** The last event of a job's (or a prediction's) chain: signed, and its head entered in the ledger. */
  async recordEnded(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    const recorded = await this.log.recordSigned(jobId, event);
    await this.ledger.record('job.ended', recorded, this.identity);
    return recorded;
  }

  /**
   * recordEnded again after it failed part way (the database went away under it): the event, its
   * signed head and its ledger row are each written once, whichever of them the database already took.
   */
  async recordEndedAgain(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    const newest = await this.ds.getRepository(AuditEventEntity).findOne({ where: { jobId }, order: { seq: 'DESC' } });
    const state = (e: { detail?: Record<string, unknown> }) => e.detail?.state;
    if (!newest || newest.step !== event.step || state(newest) !== state(event) || newest.sender !== event.sender)
      return this.recordEnded(jobId, event);
    const [recorded] = await this.log.store.events(jobId, { offset: newest.seq, limit: 1 });
    if (!(await this.ds.getRepository(AuditCheckpointEntity).exists({ where: { jobId, seq: recorded.seq } })))
      await this.log.store.checkpoint(recorded, this.identity);
    const [{ n }] = await this.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_ledger WHERE kind = 'job.ended' AND job_id = $1 AND head_seq = $2`,
      [jobId, recorded.seq],
    );
    if (n === 0) await this.ledger.record('job.ended', recorded, this.identity);
    return recorded;
  }

  /** The job's signed chain heads, oldest first: what each signature covers (seq, head hash) and whose key made it. */
  async checkpoints(jobId: string): Promise<SignedHead[]> {
    const rows = await this.ds
      .getRepository(AuditCheckpointEntity)
      .find({ where: { jobId }, order: { seq: 'ASC', id: 'ASC' }, take: 10_000 });
    return rows.map((c) => ({
      seq: c.seq,
      headHash: c.headHash,
      signer: c.signer,
      publicKey: c.publicKey,
      signature: c.signature,
      signedAt: c.signedAt,
    }));
  }

  events(jobId: string, page: { offset?: number; limit?: number }): Promise<ChainedAuditEvent[]> {
    return this.log.store.events(jobId, page);
  }

  search(filter: AuditFilter, page: { offset?: number; limit?: number }): Promise<ChainedAuditEvent[]> {
    return this.log.store.search(filter, page);
  }

  /** The job's trail, ledger rows and result, trusting this coordinator's key and the keys it rotated from. */
  verify(jobId: string): Promise<CoordinatorVerification> {
    return verifyCoordinatorTrail(this.ds, {
      jobIds: [jobId],
      trustedKeys: [...this.earlierKeys, this.identity.publicKeyHex],
    });
  }
}
