/**
 * `vfl audit verify`: the coordinator-only check (every job's chain and signed heads, the ledger,
 * each result against its digest, keys trusted through handovers from the --trust-key roots),
 * then, with --party, each party's own log cross-checked against the coordinator's trail.
 * Exit status 0 when valid, 1 when anything is broken (a job asked for whose trail is gone included).
 */
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataSourceOptions, readEndpointRecord, startEmbeddedPostgres } from '@vfl/database';
import { crossCheckParties, PartyLog, verifyCoordinatorTrail, type CoordinatorVerification } from '@vfl/audit';
import { UsageError } from './cli-usage';

/** The coordinator's verification, or a party's mismatch in its place. */
type Report = Omit<CoordinatorVerification, 'firstBroken'> & {
  firstBroken: (NonNullable<CoordinatorVerification['firstBroken']> & { party?: string }) | null;
};

export async function auditVerify(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      job: { type: 'string' },
      'trust-key': { type: 'string', multiple: true },
      'database-url': { type: 'string' },
      party: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  const partyUrls = (values.party ?? []).map((p) => {
    const m = /^([A-Za-z0-9_-]{1,64})=(postgres(?:ql)?:\/\/.+)$/.exec(p);
    if (!m)
      throw new UsageError(
        `--party expects ID=postgres://… (a party's own audit database), got "${p.replace(/:[^:@/]*@/, ':***@')}"`,
      );
    return { partyId: m[1], url: m[2] };
  });
  const trustedKeys = values['trust-key']?.map((k) => k.toLowerCase());
  for (const key of trustedKeys ?? [])
    if (!/^[0-9a-f]{64}$/.test(key)) throw new UsageError(`--trust-key expects 64 hex characters, got "${key}"`);
  const given = values['database-url'] ?? process.env.DATABASE_URL;
  // No URL: the embedded database `npm start` keeps in .vfl/ (through the running coordinator's record, or opened here).
  const local = given ? undefined : await localDatabase();
  const url = given ?? local?.url;
  if (!url)
    throw new UsageError(
      `set DATABASE_URL or --database-url to the coordinator's audit database (no embedded database under ${stateDir()} either)`,
    );
  try {
    return await verify(url, values, partyUrls, trustedKeys);
  } finally {
    await local?.stop();
  }
}

/** The state directory `npm start` uses (VFL_STATE_DIR, else .vfl at the repository root). */
function stateDir(): string {
  if (process.env.VFL_STATE_DIR) return path.resolve(process.env.VFL_STATE_DIR);
  const root = path.resolve(__dirname, path.basename(path.resolve(__dirname, '..')) === 'dist' ? '../..' : '..');
  return path.join(root, '.vfl');
}

/** The coordinator's embedded database: a running one's recorded URL, or its directory opened here. */
async function localDatabase(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const dir = path.join(stateDir(), 'pgdata');
  const running = readEndpointRecord(dir);
  if (running) {
    console.error(`audit database: the running coordinator's embedded PostgreSQL (${dir})`);
    return { url: running.url, stop: async () => undefined };
  }
  if (!fs.existsSync(dir)) return undefined;
  console.error(`audit database: the embedded PostgreSQL in ${dir} (no coordinator running)`);
  return startEmbeddedPostgres(dir);
}

async function verify(
  url: string,
  values: { job?: string; json: boolean },
  partyUrls: { partyId: string; url: string }[],
  trustedKeys: string[] | undefined,
): Promise<number> {
  if (values.job && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.job)) {
    throw new UsageError(`--job expects a job id (UUID), got "${values.job}"`);
  }
  const ds = new DataSource(dataSourceOptions(url));
  await ds.initialize();
  const partyLogs: PartyLog[] = [];
  try {
    for (const p of partyUrls) {
      const partyDs = new DataSource(dataSourceOptions(p.url, { schema: 'party' }));
      await partyDs.initialize();
      partyLogs.push({ partyId: p.partyId, ds: partyDs });
    }
    const started = Date.now();
    const jobIds = values.job ? [values.job] : undefined;
    const trail = await verifyCoordinatorTrail(ds, { jobIds, trustedKeys });
    const crossCheck = partyLogs.length > 0 && trail.valid ? await crossCheckParties(ds, partyLogs, { jobIds }) : null;
    const seconds = (Date.now() - started) / 1000;
    const mismatch = crossCheck?.firstMismatch;
    const result: Report = mismatch
      ? {
          ...trail,
          valid: false,
          firstBroken: { jobId: mismatch.jobId, party: mismatch.partyId, seq: null, reason: mismatch.reason },
        }
      : trail;
    if (!values.json || process.stdout.isTTY) printSummary(result, crossCheck, seconds);
    if (values.json) {
      const { valid, events, jobs, checkpoints, signers, keys, handovers, ledgerRows, results, firstBroken } = result;
      const parties = crossCheck
        ? {
            parties: {
              jobs: crossCheck.jobs,
              logs: crossCheck.parties,
              unreported: crossCheck.unreported,
              notReached: crossCheck.notReached,
            },
          }
        : {};
      console.log(
        JSON.stringify({
          valid,
          events,
          jobs,
          checkpoints,
          signers,
          keys,
          handovers,
          ledgerRows,
          results,
          ...parties,
          firstBroken,
        }),
      );
    }
    return result.valid ? 0 : 1;
  } finally {
    await ds.destroy();
    await Promise.all(partyLogs.map((p) => p.ds.destroy()));
  }
}

function printSummary(
  result: Report,
  crossCheck: Awaited<ReturnType<typeof crossCheckParties>> | null,
  seconds: number,
): void {
  console.log(`audit trail: ${result.valid ? 'valid' : 'BROKEN'}`);
  console.log(`  jobs     ${result.jobs}`);
  console.log(`  events   ${result.events}${result.valid ? '' : ' (checked up to the break)'}`);
  console.log(`  signed chain heads  ${result.checkpoints}`);
  console.log(`  ledger rows  ${result.ledgerRows}; results checked  ${result.results}`);
  for (const k of result.keys) {
    const trust =
      k.trusted === undefined
        ? ''
        : k.trusted === false
          ? ', NOT trusted'
          : k.trusted === 'root'
            ? ', trusted root'
            : `, trusted through the handover from ${k.trusted.from.slice(0, 16)}… (ledger row ${k.trusted.ledgerSeq})`;
    console.log(`  key ${k.publicKey}: ${k.heads} signed heads, ${k.ledgerRows} ledger rows${trust}`);
  }
  for (const h of result.handovers)
    console.log(`  handover at ledger row ${h.ledgerSeq}: ${h.from.slice(0, 16)}… -> ${h.to.slice(0, 16)}…`);
  console.log(`  seconds  ${seconds.toFixed(2)}`);
  for (const p of crossCheck?.parties ?? [])
    console.log(`  ${p.partyId}'s own log  ${p.events} events, ${p.checkpoints} signed heads, cross-checked`);
  if (crossCheck?.unreported)
    console.log(
      `  ${crossCheck.unreported} party records of failed or cancelled jobs that the coordinator never heard of`,
    );
  if (crossCheck?.notReached)
    console.log(`  ${crossCheck.notReached} job and party pairs where the party refused or never got job.prepare`);
  const broken = result.firstBroken;
  if (broken?.party) console.log(`  first mismatch: job ${broken.jobId}, ${broken.party}: ${broken.reason}`);
  else if (broken)
    console.log(
      `  first broken link: ${broken.jobId ? `job ${broken.jobId}` : 'the ledger'}${broken.seq !== null ? `, seq ${broken.seq}` : ''}${broken.ledgerSeq !== undefined ? `, ledger row ${broken.ledgerSeq}` : ''}: ${broken.reason}`,
    );
}
