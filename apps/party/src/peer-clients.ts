/** The party's PeerTransport: one Nest client per other party, created on first use. */
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { type PeerEnvelope, type PeerTransport, PARTY_PEER_PATTERN } from '@vfl/protocol';
import { PayloadCodec, rpcCall, AnyClientProxy, partyClient } from '@vfl/transport';
import { PartyConfig } from './party.config';

@Injectable()
export class PeerClients implements PeerTransport, OnApplicationShutdown {
  private readonly clients = new Map<string, AnyClientProxy>();

  constructor(
    private readonly config: PartyConfig,
    private readonly codec: PayloadCodec,
  ) {}

  async request(to: string, envelope: PeerEnvelope): Promise<Uint8Array | null> {
    const reply = await rpcCall<{ body: Uint8Array | null }>(
      this.client(to),
      this.codec,
      PARTY_PEER_PATTERN,
      envelope,
      this.config.peerTimeoutMs,
    );
    return reply.body ?? null;
  }

  private client(partyId: string): AnyClientProxy {
    let client = this.clients.get(partyId);
    if (!client) {
      const endpoint = this.config.registry().find((p) => p.partyId === partyId);
      if (!endpoint && this.config.transport === 'tcp')
        throw new Error(`no address for party ${partyId} in VFL_PARTIES`);
      client = partyClient(this.config, partyId, endpoint ?? { host: '', port: 0 });
      this.clients.set(partyId, client);
    }
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c): unknown => c.close()));
  }
}
