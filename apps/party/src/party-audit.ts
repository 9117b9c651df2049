/**
 * The party's own audit log, in its own database (DATABASE_URL, or an embedded PGlite), signed
 * with the party's identity: what lets an auditor cross-check the coordinator's trail.
 */
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EmbeddedPostgres, openDatabase, startEmbeddedPostgres } from '@vfl/database';
import { SignedAuditLog } from '@vfl/audit';
import type { SigningIdentity } from '@vfl/crypto';
import { PartyConfig } from './party.config';

export class PartyAudit {
  private constructor(
    readonly log: SignedAuditLog,
    private readonly ds: DataSource,
    private readonly embedded: EmbeddedPostgres | undefined,
  ) {}

  static async open(config: PartyConfig, identity: SigningIdentity): Promise<PartyAudit> {
    const logger = new Logger('PartyAudit');
    const embedded = config.databaseUrl
      ? undefined
      : await startEmbeddedPostgres(config.pgliteDir, {
          onRefused: (reason) => logger.warn(`embedded PostgreSQL refused a connection: ${reason}`),
        });
    try {
      const ds = await openDatabase(config.databaseUrl || embedded!.url, {
        schema: 'party',
        singleConnection: Boolean(embedded),
      });
      const log = new SignedAuditLog(ds, identity, (e) =>
        logger.error(`periodic chain-head signing failed: ${e instanceof Error ? e.message : String(e)}`),
      );
      log.startPeriodicSigning(config.auditSignIntervalMs);
      logger.log(
        `${config.partyId} keeps its audit log in ${embedded ? 'an embedded PostgreSQL (PGlite)' : 'its PostgreSQL database'}`,
      );
      return new PartyAudit(log, ds, embedded);
    } catch (e) {
      await embedded?.stop();
      throw new Error(
        `${config.partyId} could not open its audit database: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }

  /** Empty when the log's database answers. */
  async problems(): Promise<string[]> {
    try {
      await this.ds.query('SELECT 1');
      return [];
    } catch (e) {
      return [`audit database unreachable: ${e instanceof Error ? e.message : String(e)}`];
    }
  }

  async close(): Promise<void> {
    await this.log.stopPeriodicSigning();
    await this.ds.destroy().catch(() => undefined);
    await this.embedded?.stop();
  }
}
