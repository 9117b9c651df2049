/**
 * Recomputes audit chains straight from the database, streaming in keyset-paginated pages, so
 * that verifying millions of events needs memory for one page, not for the trail; then checks
 * every signed chain head against the events and the signer's key.
 */
import { DataSource } from 'typeorm';
import { ChainCursor, ChainedAuditEvent, checkpointMessage } from './audit-chain';
import { verifySignature } from '@vfl/crypto';

export interface TrailVerification {
  readonly valid: boolean;
  readonly events: number;
  readonly jobs: number;
  readonly checkpoints: number;
  /** Public keys that signed checkpoints in the verified range. */
  readonly signers: string[];
  /** How many of the verified signed heads each key signed. */
  readonly signedBy: Record<string, number>;
  readonly firstBroken: null | { jobId: string; seq: number; reason: string };
}

export interface VerifyOptions {
  readonly jobIds?: readonly string[];
  /** When given, checkpoints signed by any other key are a break. */
  readonly trustedKeys?: readonly string[];
  readonly pageSize?: number;
  readonly onProgress?: (events: number) => void;
}

interface Row {
  job_id: string;
  seq: number;
  step: string;
  sender: string;
  receiver: string | null;
  message_digest: string | null;
  byte_size: number;
  detail: Record<string, unknown>;
  occurred_at: Date;
  prev_hash: string;
  hash: string;
}

/**
 * Verifies every job's chain, or only `jobIds`. Stops at the first broken link and names it.
 */
export async function verifyTrail(ds: DataSource, options: VerifyOptions = {}): Promise<TrailVerification> {
  const chains = await verifyChains(ds, options);
  if (!chains.valid) return { ...chains, checkpoints: 0, signers: [], signedBy: {} };
  return verifyCheckpoints(ds, options, chains);
}

async function verifyChains(
  ds: DataSource,
  options: VerifyOptions,
): Promise<Omit<TrailVerification, 'checkpoints' | 'signers' | 'signedBy'>> {
  const pageSize = options.pageSize ?? 20_000;
  const filter = options.jobIds ? 'AND job_id = ANY($3::uuid[])' : '';
  const page = (after: { jobId: string; seq: number }): Promise<Row[]> => {
    const params: unknown[] = [after.jobId, after.seq];
    if (options.jobIds) params.push(options.jobIds);
    return ds.query(
      `SELECT job_id, seq, step, sender, receiver, message_digest, byte_size, detail, occurred_at, prev_hash, hash
         FROM audit_events WHERE (job_id, seq) > ($1::uuid, $2::int) ${filter}
         ORDER BY job_id, seq LIMIT ${pageSize}`,
      params,
    );
  };
  let events = 0;
  let jobs = 0;
  let current = { jobId: '', cursor: new ChainCursor() };
  let next: Promise<Row[]> | null = page({ jobId: '00000000-0000-0000-0000-000000000000', seq: -1 });
  while (next) {
    const rows: Row[] = await next;
    // Ask for the next page before hashing this one: the database and the hashing overlap.
    const last = rows[rows.length - 1];
    next = rows.length === pageSize ? page({ jobId: last.job_id, seq: last.seq }) : null;
    for (const row of rows) {
      if (row.job_id !== current.jobId) {
        current = { jobId: row.job_id, cursor: new ChainCursor() };
        jobs++;
      }
      const event: ChainedAuditEvent = {
        jobId: row.job_id,
        seq: row.seq,
        step: row.step,
        sender: row.sender,
        receiver: row.receiver,
        messageDigest: row.message_digest,
        byteSize: row.byte_size,
        detail: row.detail,
        occurredAt: row.occurred_at,
        prevHash: row.prev_hash,
        hash: row.hash,
      };
      const reason = current.cursor.check(event);
      if (reason) {
        await next?.catch(() => undefined);
        return { valid: false, events: events + 1, jobs, firstBroken: { jobId: row.job_id, seq: row.seq, reason } };
      }
      events++;
    }
    options.onProgress?.(events);
  }
  return { valid: true, events, jobs, firstBroken: null };
}

/** Runs after the chains verified, so each event's stored hash is known to match its content. */
async function verifyCheckpoints(
  ds: DataSource,
  options: VerifyOptions,
  chains: Omit<TrailVerification, 'checkpoints' | 'signers' | 'signedBy'>,
): Promise<TrailVerification> {
  const rows: {
    job_id: string;
    seq: number;
    head_hash: string;
    public_key: string;
    signature: string;
    event_hash: string | null;
  }[] = await ds.query(
    `SELECT c.job_id, c.seq, c.head_hash, c.public_key, c.signature, e.hash AS event_hash
       FROM audit_checkpoints c LEFT JOIN audit_events e ON e.job_id = c.job_id AND e.seq = c.seq
      ${options.jobIds ? 'WHERE c.job_id = ANY($1::uuid[])' : ''}
      ORDER BY c.job_id, c.seq`,
    options.jobIds ? [options.jobIds] : [],
  );
  const signedBy: Record<string, number> = {};
  const trusted = options.trustedKeys ? new Set(options.trustedKeys.map((k) => k.toLowerCase())) : undefined;
  for (const c of rows) {
    const broken = (reason: string): TrailVerification => ({
      ...chains,
      valid: false,
      checkpoints: rows.length,
      signers: Object.keys(signedBy),
      signedBy,
      firstBroken: { jobId: c.job_id, seq: c.seq, reason },
    });
    if (!verifySignature(c.public_key, checkpointMessage(c.job_id, c.seq, c.head_hash), c.signature))
      return broken('checkpoint signature is not valid');
    if (trusted && !trusted.has(c.public_key)) return broken(`checkpoint signed by untrusted key ${c.public_key}`);
    if (c.event_hash === null) return broken('a signed chain head has no event: the trail was truncated');
    if (c.event_hash !== c.head_hash)
      return broken('the event differs from the signed chain head: history was rewritten');
    signedBy[c.public_key] = (signedBy[c.public_key] ?? 0) + 1;
  }
  return { ...chains, checkpoints: rows.length, signers: Object.keys(signedBy), signedBy };
}
