/**
 * Database wiring shared by the coordinator and the tools: TypeORM DataSource options on `pg`
 * with the checked-in migrations (never `synchronize`), and an embedded real PostgreSQL
 * (PGlite, served over the wire protocol by pglite-socket) for when no DATABASE_URL is given,
 * so the same pg/TypeORM code runs either way.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity';
import { AuditCheckpointEntity } from './audit-checkpoint.entity';
import { JobEntity } from './job.entity';
import { CreateJobsAndAudit1763769600000 } from '../../../migrations/1763769600000-create-jobs-and-audit';
import { CreateAuditCheckpoints1763856000000 } from '../../../migrations/1763856000000-create-audit-checkpoints';
import { CreateApiKeys1763942400000 } from '../../../migrations/1763942400000-create-api-keys';
import { ApiKeyEntity } from '../../access/src/api-key.entity';

export const ENTITIES = [JobEntity, AuditEventEntity, AuditCheckpointEntity, ApiKeyEntity];
export const MIGRATIONS = [CreateJobsAndAudit1763769600000, CreateAuditCheckpoints1763856000000, CreateApiKeys1763942400000];

export function dataSourceOptions(url: string, options: { singleConnection?: boolean } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    // PGlite serves one connection at a time.
    extra: options.singleConnection ? { max: 1 } : { max: 10 },
  };
}

/** Opens a DataSource and applies pending migrations. */
export async function openDatabase(url: string, options: { singleConnection?: boolean } = {}): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(url, options));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite on `dataDir` (or in memory when omitted) behind a loopback socket.
 */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
