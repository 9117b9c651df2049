import { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys for the REST API (admin, operator, auditor); secrets are stored only as sha256. */
export class CreateApiKeys1763942400000 implements MigrationInterface {
  name = 'CreateApiKeys1763942400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        key_id char(12) PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'operator', 'auditor')),
        secret_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}
