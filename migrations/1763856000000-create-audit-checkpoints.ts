import { MigrationInterface, QueryRunner } from 'typeorm';

/** Signed chain heads, append-only like the events they vouch for. */
export class CreateAuditCheckpoints1763856000000 implements MigrationInterface {
  name = 'CreateAuditCheckpoints1763856000000';

  async up(q: QueryRunner): Promise<void> {
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
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_checkpoints`);
  }
}
