/** The coordinator's audit writer and reader: one hash chain per job in PostgreSQL. */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditEventInput, ChainedAuditEvent, ChainVerification } from '../../../../libs/audit/src/audit-chain';
import { AuditStore } from '../../../../libs/audit/src/audit-store';

@Injectable()
export class AuditService {
  private readonly store: AuditStore;

  constructor(ds: DataSource) {
    this.store = new AuditStore(ds);
  }

  record(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    return this.store.record(jobId, event);
  }

  events(jobId: string, page: { offset?: number; limit?: number }): Promise<ChainedAuditEvent[]> {
    return this.store.events(jobId, page);
  }

  verify(jobId: string): Promise<ChainVerification> {
    return this.store.verify(jobId);
  }
}
