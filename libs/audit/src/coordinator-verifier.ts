/**
 * The coordinator-only check (`vfl audit verify`, `GET /jobs/:id/audit`): every job's chain and
 * signed heads (audit-verifier.ts), then what no single job's chain can show on its own:
 * - the ledger (audit-ledger.ts): its rows link and are signed, and every job head it recorded is
 *   still in that job's trail, so a job's trail deleted whole, or cut below the head recorded when
 *   it ended, is caught;
 * - a job asked for by id that has no trail at all is a break, not a usage error;
 * - each job's result in the `jobs` table has the digest its trail recorded (`job.result`);
 * - with trusted root keys, the keys they handed over to in the ledger are trusted too, and the
 *   report says which key signed how many heads and ledger rows, and how each came to be trusted.
 */
import { DataSource } from 'typeorm';
import { verifySignature } from '@vfl/crypto';
import { hashLedgerRow, ledgerSigningText, readLedger, type LedgerRow } from './audit-ledger';
import { TrailVerification, verifyTrail, VerifyOptions } from './audit-verifier';
import { handovers, trustedKeyChain, TrustedKey } from './key-handover';
import { resultDigest } from './result-digest';

export interface KeyReport {
  readonly publicKey: string;
  /** Signed chain heads of job trails in the verified range. */
  readonly heads: number;
  readonly ledgerRows: number;
  /** Only when trusted root keys were given: `root`, or the handover it was trusted through. */
  readonly trusted?: TrustedKey['via'] | false;
}

export interface CoordinatorVerification extends Omit<TrailVerification, 'firstBroken'> {
  readonly ledgerRows: number;
  readonly results: number;
  readonly keys: KeyReport[];
  readonly handovers: { ledgerSeq: number; from: string; to: string }[];
  readonly firstBroken: null | { jobId: string | null; seq: number | null; ledgerSeq?: number; reason: string };
}

type Broken = NonNullable<CoordinatorVerification['firstBroken']>;

export async function verifyCoordinatorTrail(
  ds: DataSource,
  options: VerifyOptions = {},
): Promise<CoordinatorVerification> {
  const ledger = await readLedger(ds, options.jobIds);
  const trust = options.trustedKeys ? trustedKeyChain(ledger, options.trustedKeys) : undefined;
  const trail = await verifyTrail(ds, { ...options, trustedKeys: trust ? [...trust.keys()] : undefined });
  let results = 0;
  let broken: Broken | null = trail.firstBroken;
  if (!broken && options.jobIds) broken = await missingTrail(ds, options.jobIds);
  if (!broken) broken = await checkLedger(ds, ledger, !options.jobIds, trust);
  if (!broken) ({ broken, results } = await checkResults(ds, options.jobIds));
  const ledgerRows: Record<string, number> = {};
  for (const r of ledger) ledgerRows[r.publicKey] = (ledgerRows[r.publicKey] ?? 0) + 1;
  const keys = [...new Set([...Object.keys(trail.signedBy), ...Object.keys(ledgerRows)])].map((k) => ({
    publicKey: k,
    heads: trail.signedBy[k] ?? 0,
    ledgerRows: ledgerRows[k] ?? 0,
    ...(trust ? { trusted: trust.get(k)?.via ?? (false as const) } : {}),
  }));
  return {
    ...trail,
    valid: broken === null,
    ledgerRows: ledger.length,
    results,
    keys,
    handovers: handovers(ledger),
    firstBroken: broken,
  };
}

async function missingTrail(ds: DataSource, jobIds: readonly string[]): Promise<Broken | null> {
  const present = await ds.query<{ job_id: string }[]>(
    `SELECT DISTINCT job_id FROM audit_events WHERE job_id = ANY($1::uuid[])`,
    [jobIds],
  );
  const missing = jobIds.find((id) => !present.some((p) => p.job_id === id.toLowerCase()));
  return missing
    ? { jobId: missing, seq: null, reason: 'no audit event of this job is stored: its trail is missing' }
    : null;
}

async function checkLedger(
  ds: DataSource,
  ledger: readonly LedgerRow[],
  whole: boolean,
  trust: Map<string, TrustedKey> | undefined,
): Promise<Broken | null> {
  const heads = ledger.filter((r) => r.jobId !== null && r.headSeq !== null);
  const stored = await ds.query<{ job_id: string; seq: number; hash: string }[]>(
    `SELECT e.job_id, e.seq, e.hash FROM audit_events e
       JOIN unnest($1::uuid[], $2::int[]) AS h(job_id, seq) ON e.job_id = h.job_id AND e.seq = h.seq`,
    [heads.map((r) => r.jobId), heads.map((r) => r.headSeq)],
  );
  const events = new Map(stored.map((e) => [`${e.job_id}:${e.seq}`, e.hash]));
  let prev: LedgerRow | undefined;
  for (const row of ledger) {
    const at = (reason: string): Broken => ({ jobId: row.jobId, seq: row.headSeq, ledgerSeq: row.seq, reason });
    if (whole && row.seq !== (prev ? prev.seq + 1 : 0))
      return at('a ledger row is missing or reordered: the ledger was cut or rewritten');
    if (whole && row.prevHash !== (prev?.hash ?? '0'.repeat(64)))
      return at('the ledger row does not link to the one before it: the ledger was rewritten');
    if (hashLedgerRow(row) !== row.hash) return at('the ledger row was altered');
    if (!verifySignature(row.publicKey, ledgerSigningText(row), row.signature))
      return at('the ledger row signature is not valid');
    if (trust && !trust.has(row.publicKey))
      return at('the ledger row is signed by a key that no trusted key handed over to');
    if (row.jobId !== null && row.headSeq !== null) {
      const hash = events.get(`${row.jobId}:${row.headSeq}`);
      if (hash === undefined)
        return at(
          `the ledger records this job's chain head (${row.kind}), but the trail no longer has it: the trail was deleted or cut`,
        );
      if (hash !== row.headHash)
        return at('the trail differs from the chain head the ledger recorded: history was rewritten');
    }
    prev = row;
  }
  return null;
}

/** Every result in `jobs` must be the one whose digest the job's trail recorded. */
async function checkResults(
  ds: DataSource,
  jobIds: readonly string[] | undefined,
): Promise<{ broken: Broken | null; results: number }> {
  const rows = await ds.query<{ id: string; result: unknown; digest: string | null }[]>(
    `SELECT j.id, j.result, e.message_digest AS digest FROM jobs j
       LEFT JOIN LATERAL (SELECT message_digest FROM audit_events
                           WHERE job_id = j.id AND step = 'job.result' ORDER BY seq DESC LIMIT 1) e ON true
      WHERE j.result IS NOT NULL ${jobIds ? 'AND j.id = ANY($1::uuid[])' : ''}`,
    jobIds ? [jobIds] : [],
  );
  for (const row of rows) {
    if (row.digest === null)
      return {
        broken: { jobId: row.id, seq: null, reason: 'the job has a result, but its trail records no result digest' },
        results: rows.length,
      };
    if (resultDigest(row.result).digest !== row.digest)
      return {
        broken: {
          jobId: row.id,
          seq: null,
          reason: "the job's stored result differs from the digest its trail recorded: the result was rewritten",
        },
        results: rows.length,
      };
  }
  return { broken: null, results: rows.length };
}
