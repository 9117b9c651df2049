/**
 * An audit store whose owner vouches for it: chain heads signed with the owner's ed25519 identity
 * when asked (a job state change, a job closing at a party) and, while chains grow, every
 * `signIntervalMs`, so a long job's trail is covered by a signature before it ends.
 */
import { DataSource } from 'typeorm';
import type { AuditEventInput, ChainedAuditEvent } from './audit-chain';
import { AuditStore } from './audit-store';
import { SigningIdentity } from '@vfl/crypto';

export class SignedAuditLog {
  readonly store: AuditStore;
  private timer?: NodeJS.Timeout;
  private signing: Promise<unknown> = Promise.resolve();

  constructor(
    ds: DataSource,
    readonly identity: SigningIdentity,
    private readonly onSignError: (e: unknown) => void = () => undefined,
  ) {
    this.store = new AuditStore(ds);
  }

  record(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    return this.store.record(jobId, event);
  }

  /** Records the event and signs the chain head it creates. */
  async recordSigned(jobId: string, event: AuditEventInput): Promise<ChainedAuditEvent> {
    const recorded = await this.store.record(jobId, event);
    await this.store.checkpoint(recorded, this.identity);
    return recorded;
  }

  /** Signs the job's head now, unless it is signed already. */
  async sign(jobId: string): Promise<void> {
    await this.store.signHead(jobId, this.identity);
  }

  /** Signs the job's head for the last time and lets go of its in-memory chain state. */
  async close(jobId: string): Promise<void> {
    await this.store.signHead(jobId, this.identity);
    this.store.forget(jobId);
  }

  /** Starts signing moved heads every `intervalMs` (0 leaves periodic signing off). */
  startPeriodicSigning(intervalMs: number): void {
    if (this.timer) clearInterval(this.timer);
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => {
      // One round at a time; a failed round (database down) is reported and retried next tick.
      this.signing = this.signing.then(() => this.store.signMovedHeads(this.identity)).catch(this.onSignError);
    }, intervalMs);
    this.timer.unref();
  }

  async stopPeriodicSigning(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.signing;
  }
}
