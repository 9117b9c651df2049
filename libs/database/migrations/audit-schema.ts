/**
 * The audit tables' DDL, shared by the coordinator's migrations and each party's own audit log
 * (a party keeps the same tables in its own database), so both are one schema.
 */
import type { QueryRunner } from 'typeorm';

/** The role services connect as in production: it may read and append to the audit tables, never rewrite them. */
export const APP_ROLE = 'vfl_app';

export async function createAuditEvents(q: QueryRunner): Promise<void> {
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
  await appendOnlyTriggers(q, 'audit_events');
}

export async function createAuditCheckpoints(q: QueryRunner): Promise<void> {
  await q.query(`
    CREATE TABLE audit_checkpoints (
      id bigserial PRIMARY KEY,
      job_id uuid NOT NULL,
      seq integer NOT NULL,
      head_hash char(64) NOT NULL,
      signer text NOT NULL,
      public_key char(64) NOT NULL,
      signature char(128) NOT NULL,
      signed_at timestamptz NOT NULL DEFAULT now()
    )`);
  await q.query(`CREATE INDEX audit_checkpoints_job ON audit_checkpoints (job_id, seq)`);
  await appendOnlyTriggers(q, 'audit_checkpoints');
}

export async function appendOnlyTriggers(q: QueryRunner, table: string): Promise<void> {
  await q.query(`
    CREATE TRIGGER ${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table}
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
  await q.query(`
    CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
}

/**
 * Creates the application role when the migrating user may (it is cluster-wide, so it may
 * already exist, or be created by a concurrent migration of another database), then grants it
 * only SELECT and INSERT on the audit tables: UPDATE, DELETE and TRUNCATE fail on permissions
 * before the triggers are even reached. `readWrite` tables (jobs, keys) get UPDATE as well.
 */
export async function grantAppendOnly(q: QueryRunner, readWrite: readonly string[]): Promise<void> {
  await q.query(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
        CREATE ROLE ${APP_ROLE} NOLOGIN;
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`);
  await q.query(`REVOKE ALL ON audit_events, audit_checkpoints FROM PUBLIC`);
  await q.query(`GRANT SELECT, INSERT ON audit_events, audit_checkpoints TO ${APP_ROLE}`);
  await q.query(`GRANT USAGE ON SEQUENCE audit_events_id_seq, audit_checkpoints_id_seq TO ${APP_ROLE}`);
  // TypeORM reads its migrations table at start to see that nothing is pending.
  await q.query(`GRANT SELECT ON migrations TO ${APP_ROLE}`);
  if (readWrite.length > 0) await q.query(`GRANT SELECT, INSERT, UPDATE ON ${readWrite.join(', ')} TO ${APP_ROLE}`);
}

export async function revokeAppendOnly(q: QueryRunner, readWrite: readonly string[]): Promise<void> {
  const tables = ['audit_events', 'audit_checkpoints', 'migrations', ...readWrite].join(', ');
  await q.query(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
        REVOKE ALL ON ${tables} FROM ${APP_ROLE};
        REVOKE ALL ON SEQUENCE audit_events_id_seq, audit_checkpoints_id_seq FROM ${APP_ROLE};
      END IF;
    END $$`);
}
