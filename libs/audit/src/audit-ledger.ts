/**
 * The system-wide ledger: one hash chain over the whole coordinator database, a row each time a
 * job (or a prediction) is created or ends, carrying the head of that job's own chain at that
 * moment, and a row each time the signing key is handed over. Every row is signed.
 *
 * A job's own chain and its signed heads can be cut or deleted whole by a database superuser
 * without breaking any other job's chain. The ledger's later rows still name the job and its
 * head, so the coordinator-only check catches it. What the ledger alone cannot show is its own
 * newest rows cut off: the parties' countersignatures (party-cross-check.ts) and a ledger head an
 * auditor noted down do.
 *
 * Appends are serialised by a transaction-scoped advisory lock, so several coordinator processes
 * on one database still write one gap-free chain.
 */
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { SigningIdentity } from '@vfl/crypto';
import { canonicalJson, GENESIS_HASH } from './audit-chain';

export type LedgerKind = 'job.created' | 'job.ended' | 'key.rotated';

export interface LedgerRow {
  readonly seq: number;
  readonly kind: LedgerKind;
  readonly jobId: string | null;
  readonly headSeq: number | null;
  readonly headHash: string | null;
  readonly detail: Record<string, unknown>;
  readonly occurredAt: Date;
  readonly prevHash: string;
  readonly hash: string;
  readonly publicKey: string;
  readonly signature: string;
}

/** An arbitrary constant: the advisory lock every ledger append takes. */
const LEDGER_LOCK = 0x76666c01;

export function hashLedgerRow(row: Omit<LedgerRow, 'hash' | 'publicKey' | 'signature'>): string {
  const canonical = canonicalJson({
    seq: row.seq,
    kind: row.kind,
    jobId: row.jobId,
    headSeq: row.headSeq,
    headHash: row.headHash,
    detail: row.detail,
    occurredAt: row.occurredAt.toISOString(),
    prevHash: row.prevHash,
  });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * What a ledger row's key signs. A handover's text names both keys: the old key signs
 * "rotate to <new public key>", bound to the row's place in the ledger.
 */
export function ledgerSigningText(row: Pick<LedgerRow, 'seq' | 'kind' | 'hash' | 'publicKey' | 'detail'>): string {
  if (row.kind === 'key.rotated')
    return `vfl-key-rotation-v1|from=${row.publicKey}|rotate to ${String(row.detail.to)}|seq=${row.seq}|row=${row.hash}`;
  return `vfl-audit-ledger-v1|seq=${row.seq}|row=${row.hash}`;
}

export class AuditLedger {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Records that a job's chain was opened or ended at `head`, signed by `signer`. */
  record(
    kind: 'job.created' | 'job.ended',
    head: { jobId: string; seq: number; hash: string },
    signer: SigningIdentity,
    detail: Record<string, unknown> = {},
  ): Promise<LedgerRow> {
    return this.append({ kind, jobId: head.jobId, headSeq: head.seq, headHash: head.hash, detail }, signer);
  }

  /** The old key hands over to `to`: from this row on, a verifier that trusts `from` trusts `to`. */
  rotate(from: SigningIdentity, to: string): Promise<LedgerRow> {
    if (!/^[0-9a-f]{64}$/.test(to)) throw new RangeError('the new public key must be 64 lowercase hex characters');
    return this.append({ kind: 'key.rotated', jobId: null, headSeq: null, headHash: null, detail: { to } }, from);
  }

  private append(
    entry: Pick<LedgerRow, 'kind' | 'jobId' | 'headSeq' | 'headHash' | 'detail'>,
    signer: SigningIdentity,
  ): Promise<LedgerRow> {
    return this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [LEDGER_LOCK]);
      const [last] = await m.query<{ seq: number; hash: string }[]>(
        'SELECT seq, hash FROM audit_ledger ORDER BY seq DESC LIMIT 1',
      );
      const unsigned = {
        ...entry,
        seq: last ? last.seq + 1 : 0,
        occurredAt: this.clock(),
        prevHash: last?.hash ?? GENESIS_HASH,
      };
      const hash = hashLedgerRow(unsigned);
      const publicKey = signer.publicKeyHex;
      const signature = signer.sign(ledgerSigningText({ ...unsigned, hash, publicKey }));
      const row: LedgerRow = { ...unsigned, hash, publicKey, signature };
      await m.query(
        `INSERT INTO audit_ledger (seq, kind, job_id, head_seq, head_hash, detail, occurred_at, prev_hash, hash, public_key, signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          row.seq,
          row.kind,
          row.jobId,
          row.headSeq,
          row.headHash,
          row.detail,
          row.occurredAt,
          row.prevHash,
          row.hash,
          row.publicKey,
          row.signature,
        ],
      );
      return row;
    });
  }
}

interface LedgerRecord {
  seq: number;
  kind: LedgerKind;
  job_id: string | null;
  head_seq: number | null;
  head_hash: string | null;
  detail: Record<string, unknown>;
  occurred_at: Date;
  prev_hash: string;
  hash: string;
  public_key: string;
  signature: string;
}

/** Ledger rows in order: all of them, or those of some jobs plus every handover. */
export async function readLedger(ds: DataSource, jobIds?: readonly string[]): Promise<LedgerRow[]> {
  const rows = await ds.query<LedgerRecord[]>(
    `SELECT seq, kind, job_id, head_seq, head_hash, detail, occurred_at, prev_hash, hash, public_key, signature
       FROM audit_ledger ${jobIds ? `WHERE job_id = ANY($1::uuid[]) OR kind = 'key.rotated'` : ''} ORDER BY seq`,
    jobIds ? [jobIds] : [],
  );
  return rows.map((r) => ({
    seq: r.seq,
    kind: r.kind,
    jobId: r.job_id,
    headSeq: r.head_seq,
    headHash: r.head_hash,
    detail: r.detail,
    occurredAt: r.occurred_at,
    prevHash: r.prev_hash,
    hash: r.hash,
    publicKey: r.public_key.trim(),
    signature: r.signature.trim(),
  }));
}
