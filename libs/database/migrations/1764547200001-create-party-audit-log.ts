import { MigrationInterface, QueryRunner } from 'typeorm';
import { createAuditCheckpoints, createAuditEvents, grantAppendOnly, revokeAppendOnly } from './audit-schema';

/**
 * A party's own audit log, in the party's own database: the coordinator's audit schema without
 * jobs or keys, so verification can cross-check each party's record against the coordinator's.
 */
export class CreatePartyAuditLog1764547200001 implements MigrationInterface {
  name = 'CreatePartyAuditLog1764547200001';

  async up(q: QueryRunner): Promise<void> {
    await createAuditEvents(q);
    await createAuditCheckpoints(q);
    await grantAppendOnly(q, []);
  }

  async down(q: QueryRunner): Promise<void> {
    await revokeAppendOnly(q, []);
    await q.query(`DROP TABLE audit_checkpoints`);
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
  }
}
