/**
 * A signed chain head: the coordinator's ed25519 signature over (job, seq, hash) of the event at
 * the head of a job's chain, taken at every job state change. A rewrite of the trail that
 * recomputes every hash consistently still cannot reproduce these signatures.
 */
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'audit_checkpoints' })
export class AuditCheckpointEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  @Column({ type: 'integer' })
  seq!: number;

  @Column({ name: 'head_hash', type: 'char', length: 64 })
  headHash!: string;

  @Column({ type: 'text' })
  signer!: string;

  @Column({ name: 'public_key', type: 'char', length: 64 })
  publicKey!: string;

  @Column({ type: 'char', length: 128 })
  signature!: string;

  @CreateDateColumn({ name: 'signed_at', type: 'timestamptz' })
  signedAt!: Date;
}
