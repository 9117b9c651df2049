import { MigrationInterface, QueryRunner } from 'typeorm';
import { createAuditEvents } from './audit-schema';

/**
 * Jobs and the audit trail. audit_events is append-only: a trigger refuses UPDATE and DELETE,
 * and a statement trigger refuses TRUNCATE, for every role (a superuser must drop or disable
 * the trigger to rewrite history, which verification then detects through the hash chain).
 */
export class CreateJobsAndAudit1763769600000 implements MigrationInterface {
  name = 'CreateJobsAndAudit1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY,
        state text NOT NULL,
        spec jsonb NOT NULL,
        progress jsonb NOT NULL DEFAULT '{}',
        result jsonb,
        error text,
        failed_party text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await createAuditEvents(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
    await q.query(`DROP TABLE jobs`);
  }
}
