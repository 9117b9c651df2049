import { MigrationInterface, QueryRunner } from 'typeorm';

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
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        job_id uuid NOT NULL,
        seq integer NOT NULL,
        step text NOT NULL,
        sender text NOT NULL,
        receiver text,
        message_digest char(64),
        byte_size integer NOT NULL DEFAULT 0,
        detail jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_events_job_seq UNIQUE (job_id, seq)
      )`);
    await q.query(`CREATE INDEX audit_events_job_time ON audit_events (job_id, occurred_at)`);
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
    await q.query(`DROP TABLE jobs`);
  }
}
