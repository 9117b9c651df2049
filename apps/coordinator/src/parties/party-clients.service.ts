/** The coordinator's channels to the registered parties (TCP or NATS): typed, and signed with the coordinator's key. */
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PartyChannel, partyHealth, psiCommands, signedPartyChannel, PARTY_COMMAND_PATTERN } from '@vfl/protocol';
import { PayloadCodec, rpcCall, AnyClientProxy, partyClient } from '@vfl/transport';
import { AuditService } from '../audit/audit.service';
import { CoordinatorConfig } from '../config/coordinator.config';

@Injectable()
export class PartyClients implements OnApplicationShutdown {
  private readonly clients = new Map<string, AnyClientProxy>();
  private readonly pinned = new Map<string, string>();

  constructor(
    private readonly config: CoordinatorConfig,
    private readonly codec: PayloadCodec,
    /** Its identity signs every command: the key each party pins as VFL_COORDINATOR_KEY. */
    private readonly audit: AuditService,
  ) {
    for (const p of config.registry()) {
      this.clients.set(p.partyId, partyClient(config, p.partyId, p));
      if (p.publicKey) this.pinned.set(p.partyId, p.publicKey);
    }
  }

  /** The party's signing key pinned in VFL_PARTIES, if any. */
  pinnedKey(partyId: string): string | undefined {
    return this.pinned.get(partyId);
  }

  knows(partyId: string): boolean {
    return this.clients.has(partyId);
  }

  channels(): Map<string, PartyChannel> {
    return new Map([...this.clients.keys()].map((id) => [id, this.channel(id)]));
  }

  /** The party's channel; every call is answered within `timeoutMs` (else the configured party or PSI timeout). */
  channel(partyId: string, timeoutMs?: number): PartyChannel {
    const client = this.clients.get(partyId);
    if (!client) throw new Error(`party ${partyId} is not registered`);
    return signedPartyChannel(partyId, this.audit.identity, (signed) =>
      rpcCall(
        client,
        this.codec,
        PARTY_COMMAND_PATTERN,
        signed,
        timeoutMs ??
          (signed.command === psiCommands.exchange.name ? this.config.psiTimeoutMs : this.config.partyTimeoutMs),
      ),
    );
  }

  /** One signed `party.health` call: the party's id, role, public key and open jobs, or an error after `timeoutMs`. */
  async health(partyId: string, timeoutMs: number) {
    return (await this.channel(partyId, timeoutMs).call(partyHealth, {})).reply;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c): unknown => c.close()));
  }
}
