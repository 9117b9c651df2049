/**
 * Each registered party's reachability, for GET /health: a signed `party.health` call per party,
 * all at once, each time-boxed, and the answers kept for a short while, so that a health probe
 * hammering the coordinator costs the parties at most one call each per `cacheMs`, and a party
 * that died shows as unreachable within `cacheMs + timeoutMs`.
 */
import { Injectable } from '@nestjs/common';
import { PartyClients } from './party-clients.service';

export interface PartyReachability {
  readonly reachable: boolean;
  /** Round trip of the signed party.health call. */
  readonly latencyMs?: number;
  readonly role?: string;
  /** Jobs the party holds open. */
  readonly jobs?: number;
  /** Why it is unreachable, or what is wrong with its answer. */
  readonly error?: string;
  readonly checkedAt: string;
}

@Injectable()
export class PartyHealth {
  /** Probe answers are reused this long. */
  static readonly CACHE_MS = 2_000;
  /** A party that has not answered by then counts as unreachable. */
  static readonly TIMEOUT_MS = 1_500;
  private last: { at: number; parties: Record<string, PartyReachability> } | undefined;
  private pending: Promise<Record<string, PartyReachability>> | undefined;

  constructor(private readonly parties: PartyClients) {}

  /** Every registered party, by id. Concurrent callers share one round of probes. */
  async reachability(): Promise<Record<string, PartyReachability>> {
    if (this.last && Date.now() - this.last.at < PartyHealth.CACHE_MS) return this.last.parties;
    this.pending ??= this.probeAll().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async probeAll(): Promise<Record<string, PartyReachability>> {
    const ids = [...this.parties.channels().keys()];
    const results = await Promise.all(ids.map((id) => this.probe(id)));
    const parties = Object.fromEntries(ids.map((id, i) => [id, results[i]]));
    this.last = { at: Date.now(), parties };
    return parties;
  }

  private async probe(partyId: string): Promise<PartyReachability> {
    const started = Date.now();
    try {
      const reply = await this.parties.health(partyId, PartyHealth.TIMEOUT_MS);
      const pinned = this.parties.pinnedKey(partyId);
      return {
        reachable: true,
        latencyMs: Date.now() - started,
        role: reply.role,
        jobs: reply.jobs,
        ...(reply.partyId !== partyId ? { error: `answers as ${reply.partyId}` } : {}),
        ...(pinned && pinned !== reply.publicKey ? { error: 'answers with another key than the one pinned' } : {}),
        checkedAt: new Date().toISOString(),
      };
    } catch (e) {
      return {
        reachable: false,
        error: e instanceof Error ? e.message : String(e),
        checkedAt: new Date().toISOString(),
      };
    }
  }
}
