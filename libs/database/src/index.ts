/** The database library's public surface (what other libs, apps, scripts and tests import as @vfl/database). */
export * from './api-key.entity';
export * from './database';
export * from './embedded-endpoint';
