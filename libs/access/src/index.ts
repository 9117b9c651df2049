/** The access library's public surface (what other libs, apps, scripts and tests import as @vfl/access). */
export * from './api-key';
