/**
 * Persists audit chains: appends are queued per job and written in multi-row INSERTs, and a
 * caller's `record` resolves only once its event is durable, so a protocol step that awaits it
 * never runs ahead of its audit trail.
 */
import { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditChain, AuditEventInput, ChainedAuditEvent, checkpointMessage, GENESIS_HASH } from './audit-chain';
import { AuditCheckpointEntity } from './audit-checkpoint.entity';
import { AuditEventEntity } from './audit-event.entity';
import { TrailVerification, verifyTrail } from './audit-verifier';
import { SigningIdentity } from '@vfl/crypto';

export interface AuditFilter {
  readonly jobId?: string;
  /** Events this party sent or received. */
  readonly party?: string;
  readonly step?: string;
  readonly from?: Date;
  readonly to?: Date;
}

/** An audit write the database did not take: the step it records must not go ahead. */
export class AuditWriteError extends Error {
  constructor(jobId: string, cause: unknown) {
    super(
      `audit write for job ${jobId} failed, so the step it records did not go ahead: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'AuditWriteError';
  }
}

interface Pending {
  event: ChainedAuditEvent;
  resolve(): void;
  reject(e: unknown): void;
}

export class AuditStore {
  private readonly chains = new Map<string, AuditChain>();
  private readonly pending = new Map<string, Pending[]>();
  private readonly writing = new Map<string, Promise<void>>();
  /** The newest durable event of each job this store wrote, and the newest seq signed for it. */
  private readonly durableHeads = new Map<string, ChainedAuditEvent>();
  private readonly signedSeqs = new Map<string, number>();

  constructor(private readonly ds: DataSource) {}

  /** Appends one event to the job's chain; resolves when it is in the database. */
  async record(jobId: string, input: AuditEventInput): Promise<ChainedAuditEvent> {
    let chain: AuditChain;
    try {
      chain = await this.chainFor(jobId);
    } catch (e) {
      throw new AuditWriteError(jobId, e);
    }
    const event = chain.append(input);
    await new Promise<void>((resolve, reject) => {
      const queue = this.pending.get(jobId) ?? [];
      queue.push({ event, resolve, reject });
      this.pending.set(jobId, queue);
      this.scheduleWrite(jobId);
    });
    return event;
  }

  async events(jobId: string, page: { offset?: number; limit?: number } = {}): Promise<ChainedAuditEvent[]> {
    const rows = await this.ds.getRepository(AuditEventEntity).find({
      where: { jobId },
      order: { seq: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
    return rows.map(toChained);
  }

  /** Events matching a filter, oldest first (job, then seq), for auditors. */
  async search(filter: AuditFilter, page: { offset?: number; limit?: number } = {}): Promise<ChainedAuditEvent[]> {
    const q = this.ds.getRepository(AuditEventEntity).createQueryBuilder('e');
    if (filter.jobId) q.andWhere('e.job_id = :jobId', { jobId: filter.jobId });
    if (filter.party) q.andWhere('(e.sender = :party OR e.receiver = :party)', { party: filter.party });
    if (filter.step) q.andWhere('e.step = :step', { step: filter.step });
    if (filter.from) q.andWhere('e.occurred_at >= :from', { from: filter.from });
    if (filter.to) q.andWhere('e.occurred_at < :to', { to: filter.to });
    const rows = await q
      .orderBy('e.occurred_at', 'ASC')
      .addOrderBy('e.job_id', 'ASC')
      .addOrderBy('e.seq', 'ASC')
      .offset(page.offset ?? 0)
      .limit(page.limit ?? 1000)
      .getMany();
    return rows.map(toChained);
  }

  /** Signs the chain head at `event` (which must already be recorded). */
  async checkpoint(event: ChainedAuditEvent, signer: SigningIdentity): Promise<void> {
    if ((this.signedSeqs.get(event.jobId) ?? -1) < event.seq) this.signedSeqs.set(event.jobId, event.seq);
    await this.ds.getRepository(AuditCheckpointEntity).insert({
      jobId: event.jobId,
      seq: event.seq,
      headHash: event.hash,
      signer: signer.id,
      publicKey: signer.publicKeyHex,
      signature: signer.sign(checkpointMessage(event.jobId, event.seq, event.hash)),
    });
  }

  /**
   * Signs the head of every chain that has grown since it was last signed (the periodic
   * checkpoint: a long job's trail is vouched for while it runs, not only at state changes).
   * Returns how many heads it signed.
   */
  async signMovedHeads(signer: SigningIdentity): Promise<number> {
    let signed = 0;
    for (const jobId of [...this.durableHeads.keys()]) if (await this.signHead(jobId, signer)) signed++;
    return signed;
  }

  /** Signs the job's newest durable event unless it is signed already; false when there was nothing to sign. */
  async signHead(jobId: string, signer: SigningIdentity): Promise<boolean> {
    await this.writing.get(jobId);
    const head = this.durableHeads.get(jobId);
    if (!head || head.seq <= (this.signedSeqs.get(jobId) ?? -1)) return false;
    await this.checkpoint(head, signer);
    return true;
  }

  /** Drops what this store keeps in memory about a finished job (its chain continues from the database). */
  forget(jobId: string): void {
    if (this.pending.has(jobId) || this.writing.has(jobId)) return;
    this.chains.delete(jobId);
    this.durableHeads.delete(jobId);
    this.signedSeqs.delete(jobId);
  }

  verify(jobId: string, trustedKeys?: readonly string[]): Promise<TrailVerification> {
    return verifyTrail(this.ds, { jobIds: [jobId], trustedKeys });
  }

  private async chainFor(jobId: string): Promise<AuditChain> {
    let chain = this.chains.get(jobId);
    if (!chain) {
      const last = await this.ds.getRepository(AuditEventEntity).findOne({ where: { jobId }, order: { seq: 'DESC' } });
      chain = new AuditChain(jobId, last ? { seq: last.seq + 1, head: last.hash } : { seq: 0, head: GENESIS_HASH });
      if (this.chains.has(jobId)) return this.chains.get(jobId)!;
      this.chains.set(jobId, chain);
    }
    return chain;
  }

  private scheduleWrite(jobId: string): void {
    if (this.writing.has(jobId)) return;
    const run = (async () => {
      // Let concurrent callers of this tick join the same INSERT.
      await new Promise((r) => setImmediate(r));
      for (;;) {
        const batch = this.pending.get(jobId) ?? [];
        this.pending.delete(jobId);
        if (batch.length === 0) break;
        try {
          await this.ds
            .getRepository(AuditEventEntity)
            .insert(batch.map((p) => p.event) as QueryDeepPartialEntity<AuditEventEntity>[]);
          this.durableHeads.set(jobId, batch[batch.length - 1].event);
          batch.forEach((p) => p.resolve());
        } catch (e) {
          // Everything queued behind the failed rows was chained onto them: fail it all and drop
          // the chain, so the next append continues from what the database really holds.
          const behind = this.pending.get(jobId) ?? [];
          this.pending.delete(jobId);
          this.chains.delete(jobId);
          const error = new AuditWriteError(jobId, e);
          [...batch, ...behind].forEach((p) => p.reject(error));
        }
      }
    })().finally(() => this.writing.delete(jobId));
    this.writing.set(jobId, run);
  }
}

function toChained(row: AuditEventEntity): ChainedAuditEvent {
  return {
    jobId: row.jobId,
    seq: row.seq,
    step: row.step,
    sender: row.sender,
    receiver: row.receiver,
    messageDigest: row.messageDigest,
    byteSize: row.byteSize,
    detail: row.detail,
    occurredAt: row.occurredAt,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
