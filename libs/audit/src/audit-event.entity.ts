/**
 * One audited event: a job state change, a protocol step, or one cross-party message described
 * by its digest and size (never its content). Rows form a hash chain per job.
 */
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'audit_events' })
@Index(['jobId', 'seq'], { unique: true })
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  /** Position in the job's chain, from 0. */
  @Column({ type: 'integer' })
  seq!: number;

  /** What happened, `<phase>.<verb>`: `job.state`, `psi.blinded`, `lr.forward`, ... */
  @Column({ type: 'text' })
  step!: string;

  @Column({ type: 'text' })
  sender!: string;

  @Column({ type: 'text', nullable: true })
  receiver!: string | null;

  /** sha256 (hex) of the message bytes, when the event is a message. */
  @Column({ name: 'message_digest', type: 'char', length: 64, nullable: true })
  messageDigest!: string | null;

  @Column({ name: 'byte_size', type: 'integer', default: 0 })
  byteSize!: number;

  /** Small metadata (epoch, batch, state, counts): never IDs, features or labels. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  detail!: Record<string, unknown>;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'prev_hash', type: 'char', length: 64 })
  prevHash!: string;

  @Column({ type: 'char', length: 64 })
  hash!: string;

  @CreateDateColumn({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;
}
