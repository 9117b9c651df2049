import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE, appendOnlyTriggers } from './audit-schema';

/**
 * What the coordinator's operator alone could otherwise rewrite unseen:
 * - `audit_ledger`, one system-wide hash chain with a signed row per job (and prediction) created
 *   and ended, and per signing-key handover: deleting a whole job's trail, or cutting its tail
 *   below the head the ledger recorded, is caught by the coordinator-only check.
 * - `jobs.result` is written once: a trigger refuses changing a result that is set (for every
 *   role), and the application role may UPDATE only the columns a running job moves (not `spec`).
 *   The result's digest is in the job's trail, so a superuser who drops the trigger is caught too.
 */
export class AuditLedgerAndResultOnce1767225600000 implements MigrationInterface {
  name = 'AuditLedgerAndResultOnce1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_ledger (
        seq integer PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('job.created', 'job.ended', 'key.rotated')),
        job_id uuid,
        head_seq integer,
        head_hash char(64),
        detail jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL,
        public_key char(64) NOT NULL,
        signature char(128) NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_ledger_job ON audit_ledger (job_id)`);
    await appendOnlyTriggers(q, 'audit_ledger');
    await q.query(`
      CREATE FUNCTION jobs_result_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.result IS NOT NULL AND NEW.result IS DISTINCT FROM OLD.result THEN
          RAISE EXCEPTION 'jobs.result is written once: a job''s result may not be changed';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER jobs_result_once BEFORE UPDATE ON jobs
      FOR EACH ROW EXECUTE FUNCTION jobs_result_once()`);
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
          REVOKE ALL ON audit_ledger FROM PUBLIC;
          GRANT SELECT, INSERT ON audit_ledger TO ${APP_ROLE};
          REVOKE UPDATE ON jobs FROM ${APP_ROLE};
          GRANT UPDATE (state, progress, result, error, failed_party, updated_at) ON jobs TO ${APP_ROLE};
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
          REVOKE UPDATE (state, progress, result, error, failed_party, updated_at) ON jobs FROM ${APP_ROLE};
          GRANT UPDATE ON jobs TO ${APP_ROLE};
        END IF;
      END $$`);
    await q.query(`DROP TRIGGER jobs_result_once ON jobs`);
    await q.query(`DROP FUNCTION jobs_result_once()`);
    await q.query(`DROP TABLE audit_ledger`);
  }
}
