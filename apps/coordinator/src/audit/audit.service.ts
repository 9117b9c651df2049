/** The coordinator's audit writer and reader: one hash chain per job, signed at state changes and periodically. */
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  type AuditEventInput,
  type ChainedAuditEvent,
  type AuditFilter,
  type TrailVerification,
  SignedAuditLog,
} from '@vfl/audit';
import { SigningIdentity } from '@vfl/crypto';
import { CoordinatorConfig } from '../config/coordinator.config';

@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  private readonly log: SignedAuditLog;

  constructor(
    ds: DataSource,
    private readonly config: CoordinatorConfig,
  ) {
    let identity: SigningIdentity;
    if (config.signingKey) {
      identity = SigningIdentity.fromSeedHex('coordinator', config.signingKey);
    } else {
      identity = SigningIdentity.generate('coordinator');
      this.logger.warn(
        `no VFL_SIGNING_KEY: chain heads and commands are signed with a key generated for this process (public key ${identity.publicKeyHex}); parties refuse its commands unless they pin it (VFL_COORDINATOR_KEY)`,
      );
    }
    this.logger.log(`coordinator public key ${identity.publicKeyHex} (the parties' VFL_COORDINATOR_KEY)`);
    this.log = new SignedAuditLog(ds, identity, (e) =>
      this.logger.error(`periodic chain-head signing failed: ${e instanceof Error ? e.message : String(e)}`),
    );
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

  events(jobId: string, page: { offset?: number; limit?: number }): Promise<ChainedAuditEvent[]> {
    return this.log.store.events(jobId, page);
  }

  search(filter: AuditFilter, page: { offset?: number; limit?: number }): Promise<ChainedAuditEvent[]> {
    return this.log.store.search(filter, page);
  }

  verify(jobId: string): Promise<TrailVerification> {
    return this.log.store.verify(jobId, [this.identity.publicKeyHex]);
  }
}
