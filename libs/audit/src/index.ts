/** The audit library's public surface (what other libs, apps, scripts and tests import as @vfl/audit). */
export * from './audit-chain';
export * from './audit-checkpoint.entity';
export * from './audit-event.entity';
export * from './audit-store';
export * from './audit-verifier';
export * from './job.entity';
export * from './party-cross-check';
export * from './signed-audit-log';
export * from './audit-ledger';
export * from './coordinator-verifier';
export * from './key-handover';
export * from './result-digest';
