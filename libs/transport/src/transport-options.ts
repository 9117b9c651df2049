/**
 * How the apps reach each other. TCP (default): every party listens on its own host:port with
 * MessagePack framing. NATS: every party's message patterns live under `vfl.<partyId>.`, so any
 * number of parties share one NATS server; large binary fields use the claim-check codec.
 */
import { ClientNats, ClientProxy, ClientTCP, MicroserviceOptions, ServerNats, Transport } from '@nestjs/microservices';
import type { NatsConnection, SubscriptionOptions } from 'nats';
import { MsgpackSocket } from './msgpack-socket';
import { NatsMsgpackDeserializer, NatsMsgpackSerializer } from './nats-msgpack';

export type TransportKind = 'tcp' | 'nats';

export interface TransportSettings {
  readonly transport: TransportKind;
  readonly natsUrl: string;
}

/** A NATS server that subscribes each handler's pattern under a party prefix. */
export class PartyScopedNatsServer extends ServerNats {
  constructor(
    private readonly prefix: string,
    options: ConstructorParameters<typeof ServerNats>[0],
  ) {
    super(options);
  }

  override bindEvents(client: NatsConnection): void {
    // Same as ServerNats.bindEvents, with the subject prefixed; handlers stay keyed by pattern.
    // (ServerNats keeps its subscription list private: its close() drains the connection anyway.)
    for (const channel of this.messageHandlers.keys()) {
      // Nest types the handler as a bare Function; it is the (err, msg) subscription callback ServerNats passes too.
      const callback = this.getMessageHandler(channel).bind(this) as SubscriptionOptions['callback'];
      client.subscribe(`${this.prefix}.${channel}`, { callback });
    }
  }
}

/** The matching client: publishes every pattern under the target party's prefix. */
export class PartyScopedNatsClient extends ClientNats {
  constructor(
    private readonly prefix: string,
    options: ConstructorParameters<typeof ClientNats>[0],
  ) {
    super(options);
  }

  protected override normalizePattern(pattern: unknown): string {
    return `${this.prefix}.${super.normalizePattern(pattern as string)}`;
  }
}

export function natsSubjectPrefix(partyId: string): string {
  return `vfl.${partyId}`;
}

export function partyServerOptions(
  transport: TransportSettings,
  partyId: string,
  listen: { host: string; port: number },
): MicroserviceOptions {
  if (transport.transport === 'nats') {
    return {
      strategy: new PartyScopedNatsServer(natsSubjectPrefix(partyId), {
        servers: transport.natsUrl,
        serializer: new NatsMsgpackSerializer(),
        deserializer: new NatsMsgpackDeserializer(),
      }),
    };
  }
  return { transport: Transport.TCP, options: { host: listen.host, port: listen.port, socketClass: MsgpackSocket } };
}

/** A TCP or NATS client proxy. ClientProxy is invariant in its status type, and the two differ: only `any` admits both. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyClientProxy = ClientProxy<Record<never, never>, any>;

export function partyClient(
  transport: TransportSettings,
  partyId: string,
  address: { host: string; port: number },
): AnyClientProxy {
  if (transport.transport === 'nats') {
    return new PartyScopedNatsClient(natsSubjectPrefix(partyId), {
      servers: transport.natsUrl,
      serializer: new NatsMsgpackSerializer(),
      deserializer: new NatsMsgpackDeserializer(),
    });
  }
  return new ClientTCP({ host: address.host, port: address.port, socketClass: MsgpackSocket });
}
