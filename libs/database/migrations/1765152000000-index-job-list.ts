import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /jobs reads jobs newest first, all of them or by state, a page at a time from a cursor on
 * (created_at, id): these indexes serve both orders (scanned backward) without sorting the history.
 */
export class IndexJobList1765152000000 implements MigrationInterface {
  name = 'IndexJobList1765152000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX jobs_created_at_id ON jobs (created_at, id)`);
    await q.query(`CREATE INDEX jobs_state_created_at_id ON jobs (state, created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_state_created_at_id`);
    await q.query(`DROP INDEX jobs_created_at_id`);
  }
}
