/**
 * TypeORM on `pg` with the checked-in migrations applied at start. With DATABASE_URL, a real
 * PostgreSQL server; without, an embedded PGlite served on a guarded loopback port, so the same code runs.
 */
import { Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  dataSourceOptions,
  EmbeddedPostgres,
  removeEndpointRecord,
  startEmbeddedPostgres,
  writeEndpointRecord,
} from '@vfl/database';
import { CoordinatorConfig } from '../config/coordinator.config';

@Injectable()
export class DatabaseEndpoint implements OnApplicationShutdown {
  private constructor(
    readonly url: string,
    readonly embedded: EmbeddedPostgres | undefined,
    private readonly pgliteDir?: string,
  ) {}

  static async open(config: CoordinatorConfig): Promise<DatabaseEndpoint> {
    if (config.databaseUrl) return new DatabaseEndpoint(config.databaseUrl, undefined);
    const logger = new Logger('Database');
    const embedded = await startEmbeddedPostgres(config.pgliteDir, {
      onRefused: (reason) => logger.warn(`embedded PostgreSQL refused a connection: ${reason}`),
    });
    // Kept on disk, `vfl audit verify` finds the database with no flags (docs: README "Running the services yourself").
    if (config.pgliteDir) writeEndpointRecord(config.pgliteDir, embedded.url);
    return new DatabaseEndpoint(embedded.url, embedded, config.pgliteDir || undefined);
  }

  get description(): string {
    return this.embedded ? 'embedded PostgreSQL (PGlite)' : 'PostgreSQL server';
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.pgliteDir) removeEndpointRecord(this.pgliteDir);
    await this.embedded?.stop();
  }
}

@Module({
  providers: [
    {
      provide: DatabaseEndpoint,
      inject: [CoordinatorConfig],
      useFactory: (config: CoordinatorConfig) => DatabaseEndpoint.open(config),
    },
  ],
  exports: [DatabaseEndpoint],
})
class DatabaseEndpointModule {}

@Module({
  exports: [DatabaseEndpointModule],
  imports: [
    DatabaseEndpointModule,
    TypeOrmModule.forRootAsync({
      imports: [DatabaseEndpointModule],
      inject: [DatabaseEndpoint],
      useFactory: (db: DatabaseEndpoint) => ({
        ...dataSourceOptions(db.url, { singleConnection: Boolean(db.embedded) }),
        migrationsRun: true,
        migrationsTransactionMode: 'each' as const,
      }),
    }),
  ],
})
export class DatabaseModule {}
