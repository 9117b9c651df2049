/** A training job as the coordinator tracks it: its request, state, progress and outcome. */
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type JobState = 'queued' | 'aligning' | 'training' | 'evaluating' | 'succeeded' | 'failed' | 'cancelled';

@Entity({ name: 'jobs' })
export class JobEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  state!: JobState;

  /** The validated request (parties, data references, model, hyperparameters). */
  @Column({ type: 'jsonb' })
  spec!: object;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  progress!: object;

  @Column({ type: 'jsonb', nullable: true })
  result!: object | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The party an error came from, when it came from one. */
  @Column({ name: 'failed_party', type: 'text', nullable: true })
  failedParty!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
