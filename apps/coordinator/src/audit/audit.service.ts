/** The coordinator's audit writer and reader: one hash chain per job, signed at state changes. */
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditEventInput, ChainedAuditEvent } from '../../../../libs/audit/src/audit-chain';
import { AuditFilter, AuditStore } from '../../../../libs/audit/src/audit-store';
import type { TrailVerification } from '../../../../libs/audit/src/audit-verifier';
import { SigningIdentity } from '../../../../libs/crypto/src/signing-identity';
import { CoordinatorConfig } from '../config/coordinator.config';

@Injectable()
export class AuditService {
  private readonly store: AuditStore;
  readonly identity: SigningIdentity;

  constructor(ds: DataSource, config: CoordinatorConfig) {
    this.store = new AuditStore(ds);
    if (config.signingKey) {
      this.identity = SigningIdentity.fromSeedHex('coordinator', config.signingKey);
    } else {
      this.identity = SigningIdentity.generate('coordinator');
      new Logger(AuditService.name).warn(
        `no VFL_SIGNING_KEY: chain heads are signed with a key generated for this process (public key ${this.identity.publicKeyHex})`,
      );
    }
  }

  record(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    return this.store.record(jobId, event);
  }

  /** Records the event and signs the chain head it creates. */
  async recordSigned(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    const recorded = await this.store.record(jobId, event);
    await this.store.checkpoint(recorded, this.identity);
    return recorded;
  }

  events(jobId: string, page: { offset?: number; limit?: number }): Promise<ChainedAuditEvent[]> {
    return this.store.events(jobId, page);
  }

  search(filter: AuditFilter, page: { offset?: number; limit?: number }): Promise<ChainedAuditEvent[]> {
    return this.store.search(filter, page);
  }

  verify(jobId: string): Promise<TrailVerification> {
    return this.store.verify(jobId, [this.identity.publicKeyHex]);
  }
}
