import { MigrationInterface, QueryRunner } from 'typeorm';
import { grantAppendOnly, revokeAppendOnly } from './audit-schema';

/**
 * The application role `vfl_app`: a service connecting as a login role in it can append to the
 * audit tables and read them, but UPDATE, DELETE and TRUNCATE are refused by permissions (and,
 * for the owner, still by the triggers).
 */
export class GrantAppendOnlyRole1764547200000 implements MigrationInterface {
  name = 'GrantAppendOnlyRole1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await grantAppendOnly(q, ['jobs', 'api_keys']);
  }

  async down(q: QueryRunner): Promise<void> {
    await revokeAppendOnly(q, ['jobs', 'api_keys']);
  }
}
