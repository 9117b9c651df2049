/**
 * The hash chain that makes a job's audit trail tamper-evident:
 *   hash_i = sha256(canonical(event_i without hash) ), where event_i includes prevHash = hash_{i-1}
 * and the genesis prevHash is 64 zeros. Changing, removing or reordering any event breaks every
 * later link; `verifyChain` names the first broken one.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** The chain a party records refused envelopes in when they name a job it does not know. */
export const UNATTRIBUTED_JOB_ID = '00000000-0000-0000-0000-000000000000';

/** What the coordinator signs for a chain head: bound to the protocol version, job, position and hash. */
export function checkpointMessage(jobId: string, seq: number, headHash: string): string {
  return `vfl-audit-checkpoint-v1|job=${jobId}|seq=${seq}|head=${headHash}`;
}

export interface AuditEventInput {
  readonly step: string;
  readonly sender: string;
  readonly receiver?: string | null;
  readonly messageDigest?: string | null;
  readonly byteSize?: number;
  readonly detail?: Record<string, unknown>;
}

export interface ChainedAuditEvent {
  readonly jobId: string;
  readonly seq: number;
  readonly step: string;
  readonly sender: string;
  readonly receiver: string | null;
  readonly messageDigest: string | null;
  readonly byteSize: number;
  readonly detail: Record<string, unknown>;
  readonly occurredAt: Date;
  readonly prevHash: string;
  readonly hash: string;
}

export function hashEvent(event: Omit<ChainedAuditEvent, 'hash'>): string {
  const canonical = canonicalJson({
    jobId: event.jobId,
    seq: event.seq,
    step: event.step,
    sender: event.sender,
    receiver: event.receiver,
    messageDigest: event.messageDigest,
    byteSize: event.byteSize,
    detail: event.detail,
    occurredAt: event.occurredAt.toISOString(),
    prevHash: event.prevHash,
  });
  // node:crypto rather than @noble/hashes here: same digest, ~3.5x faster, and verification
  // hashes every row of the trail.
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** Extends a job's chain: the caller persists what this returns, in order. */
export class AuditChain {
  private seq: number;
  private head: string;

  constructor(
    readonly jobId: string,
    start: { seq: number; head: string } = { seq: 0, head: GENESIS_HASH },
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.seq = start.seq;
    this.head = start.head;
  }

  append(input: AuditEventInput): ChainedAuditEvent {
    const unsigned = {
      jobId: this.jobId,
      seq: this.seq,
      step: input.step,
      sender: input.sender,
      receiver: input.receiver ?? null,
      messageDigest: input.messageDigest ?? null,
      byteSize: input.byteSize ?? 0,
      detail: input.detail ?? {},
      occurredAt: this.clock(),
      prevHash: this.head,
    };
    const event = { ...unsigned, hash: hashEvent(unsigned) };
    this.seq++;
    this.head = event.hash;
    return event;
  }
}

export interface ChainVerification {
  readonly valid: boolean;
  readonly events: number;
  readonly firstBroken: null | { seq: number; reason: string };
}

/** Walks one job's events in seq order and says why an event breaks the chain, if it does. */
export class ChainCursor {
  private expected = 0;
  private prev = GENESIS_HASH;

  /** Returns null and advances when `e` extends the chain; otherwise the reason it does not. */
  check(e: ChainedAuditEvent): string | null {
    if (e.seq !== this.expected)
      return `expected seq ${this.expected}, found ${e.seq} (an event is missing or reordered)`;
    if (e.prevHash !== this.prev) return 'prev_hash does not match the previous event';
    if (hashEvent(e) !== e.hash) return 'hash does not match the event content (the row was altered)';
    this.prev = e.hash;
    this.expected++;
    return null;
  }
}

/** Recomputes every link of one job's chain (events sorted by seq). */
export function verifyChain(events: readonly ChainedAuditEvent[]): ChainVerification {
  const cursor = new ChainCursor();
  for (const e of events) {
    const reason = cursor.check(e);
    if (reason) return { valid: false, events: events.length, firstBroken: { seq: e.seq, reason } };
  }
  return { valid: true, events: events.length, firstBroken: null };
}

/** JSON with object keys sorted, so the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
