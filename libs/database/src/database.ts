/**
 * Database wiring shared by the coordinator and the tools: TypeORM DataSource options on `pg`
 * with the checked-in migrations (never `synchronize`), and an embedded real PostgreSQL
 * (PGlite, served over the wire protocol behind a guard: pglite-wire-server.ts) for when no DATABASE_URL is given,
 * so the same pg/TypeORM code runs either way.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AuditEventEntity, AuditCheckpointEntity, JobEntity } from '@vfl/audit';
import { CreateJobsAndAudit1763769600000 } from '../migrations/1763769600000-create-jobs-and-audit';
import { CreateAuditCheckpoints1763856000000 } from '../migrations/1763856000000-create-audit-checkpoints';
import { CreateApiKeys1763942400000 } from '../migrations/1763942400000-create-api-keys';
import { GrantAppendOnlyRole1764547200000 } from '../migrations/1764547200000-grant-append-only-role';
import { CreatePartyAuditLog1764547200001 } from '../migrations/1764547200001-create-party-audit-log';
import { IndexJobList1765152000000 } from '../migrations/1765152000000-index-job-list';
import { AuditLedgerAndResultOnce1767225600000 } from '../migrations/1767225600000-audit-ledger-and-result-once';
import { ApiKeyEntity } from './api-key.entity';
import { PgliteWireServer } from './pglite-wire-server';

export const ENTITIES = [JobEntity, AuditEventEntity, AuditCheckpointEntity, ApiKeyEntity];
export const MIGRATIONS = [
  CreateJobsAndAudit1763769600000,
  CreateAuditCheckpoints1763856000000,
  CreateApiKeys1763942400000,
  GrantAppendOnlyRole1764547200000,
  IndexJobList1765152000000,
  AuditLedgerAndResultOnce1767225600000,
];

/** A party's own database holds only its audit log. */
export const PARTY_ENTITIES = [AuditEventEntity, AuditCheckpointEntity];
export const PARTY_MIGRATIONS = [CreatePartyAuditLog1764547200001];

export type Schema = 'coordinator' | 'party';

export function dataSourceOptions(
  url: string,
  options: { singleConnection?: boolean; schema?: Schema } = {},
): DataSourceOptions {
  const party = options.schema === 'party';
  return {
    type: 'postgres',
    url,
    entities: party ? PARTY_ENTITIES : ENTITIES,
    migrations: party ? PARTY_MIGRATIONS : MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    // PGlite serves one connection at a time.
    extra: options.singleConnection ? { max: 1 } : { max: 10 },
  };
}

/**
 * Opens a DataSource and applies pending migrations. A party's log and the coordinator's trail
 * must live in different databases (one chain per job in each); opening one as the other fails.
 */
export async function openDatabase(
  url: string,
  options: { singleConnection?: boolean; schema?: Schema } = {},
): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(url, options));
  await ds.initialize();
  try {
    const [{ jobs, events, migrations }] = await ds.query<{ jobs: boolean; events: boolean; migrations: boolean }[]>(
      `SELECT to_regclass('public.jobs') IS NOT NULL AS jobs, to_regclass('public.audit_events') IS NOT NULL AS events, to_regclass('public.migrations') IS NOT NULL AS migrations`,
    );
    if (options.schema === 'party' && jobs) {
      throw new Error(
        `${redactUrl(url)} is a coordinator's database: a party keeps its audit log in a database of its own`,
      );
    }
    if (options.schema !== 'party' && events && !jobs && migrations) {
      throw new Error(`${redactUrl(url)} is a party's audit database: the coordinator needs a database of its own`);
    }
    await ds.runMigrations({ transaction: 'each' });
  } catch (e) {
    await ds.destroy();
    throw e;
  }
  return ds;
}

/** A database URL without its password, for error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(malformed database URL)';
  }
}

/**
 * Creates a fresh database on the server behind `serverUrl` and returns its URL and a drop
 * function: for tests and benchmarks that need databases of their own (a party's audit log).
 */
export async function createScratchDatabase(
  serverUrl: string,
  name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name))
    throw new RangeError(`scratch database name ${name} must be a lowercase SQL identifier`);
  const { Client } = await import('pg');
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite on `dataDir` (or in memory when omitted) behind a guarded loopback socket
 * (PgliteWireServer: only the PostgreSQL protocol, with the password in `url`, reaches PGlite).
 */
export async function startEmbeddedPostgres(
  dataDir?: string,
  options: { onRefused?: (reason: string) => void } = {},
): Promise<EmbeddedPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const server = new PgliteWireServer(db, { onRefused: options.onRefused });
  await server.start();
  return {
    url: server.url,
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
