import { MigrationInterface, QueryRunner } from 'typeorm';
import { createAuditCheckpoints } from './audit-schema';

/** Signed chain heads, append-only like the events they vouch for. */
export class CreateAuditCheckpoints1763856000000 implements MigrationInterface {
  name = 'CreateAuditCheckpoints1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await createAuditCheckpoints(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_checkpoints`);
  }
}
