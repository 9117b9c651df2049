/** The config library's public surface (what other libs, apps, scripts and tests import as @vfl/config). */
export * from './validated-config';
