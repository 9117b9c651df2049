#!/usr/bin/env node
/**
 * `npm run vfl -- <command>`: the operator's and auditor's command line.
 *
 *   audit verify [--job ID] [--trust-key HEX ...] [--database-url URL] [--json]
 *       Recomputes the audit hash chains in the coordinator's database (DATABASE_URL), checks the
 *       coordinator's signed chain heads (only keys given with --trust-key count, when any are
 *       given: see GET /health for the coordinator's key) and names the first broken link.
 *       Exit status 0 when valid, 1 when broken, 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../libs/audit/src/database';
import { verifyTrail } from '../libs/audit/src/audit-verifier';

const HELP = `usage: npm run vfl -- audit verify [--job ID] [--trust-key HEX ...] [--database-url URL] [--json]`;

class UsageError extends Error {}

async function auditVerify(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { job: { type: 'string' }, 'trust-key': { type: 'string', multiple: true }, 'database-url': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const trustedKeys = values['trust-key'];
  for (const key of trustedKeys ?? []) if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new UsageError(`--trust-key expects 64 hex characters, got "${key}"`);
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url) throw new UsageError('set DATABASE_URL or --database-url to the coordinator\'s audit database');
  if (values.job && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.job)) {
    throw new UsageError(`--job expects a job id (UUID), got "${values.job}"`);
  }
  const ds = new DataSource(dataSourceOptions(url));
  await ds.initialize();
  try {
    const started = Date.now();
    const result = await verifyTrail(ds, { jobIds: values.job ? [values.job] : undefined, trustedKeys });
    const seconds = (Date.now() - started) / 1000;
    if (values.job && result.events === 0) throw new UsageError(`no audit events for job ${values.job}`);
    if (!values.json || process.stdout.isTTY) {
      console.log(`audit trail: ${result.valid ? 'valid' : 'BROKEN'}`);
      console.log(`  jobs     ${result.jobs}`);
      console.log(`  events   ${result.events}${result.valid ? '' : ' (checked up to the break)'}`);
      console.log(`  signed chain heads  ${result.checkpoints}${result.signers.length ? ` by ${result.signers.join(', ')}` : ''}`);
      console.log(`  seconds  ${seconds.toFixed(2)}`);
      if (result.firstBroken) console.log(`  first broken link: job ${result.firstBroken.jobId}, seq ${result.firstBroken.seq}: ${result.firstBroken.reason}`);
    }
    if (values.json) {
      const { valid, events, jobs, checkpoints, signers, firstBroken } = result;
      console.log(JSON.stringify({ valid, events, jobs, checkpoints, signers, firstBroken }));
    }
    return result.valid ? 0 : 1;
  } finally {
    await ds.destroy();
  }
}

async function main(): Promise<number> {
  const [group, command, ...rest] = process.argv.slice(2);
  if (group === 'audit' && command === 'verify') return auditVerify(rest);
  throw new UsageError(group ? `unknown command "${[group, command].filter(Boolean).join(' ')}"` : 'no command given');
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof UsageError ? `${e.message}\n${HELP}` : `vfl: ${e instanceof Error ? e.message : e}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
