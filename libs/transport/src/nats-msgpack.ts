/**
 * MessagePack (de)serializers for Nest's NATS transport, replacing its JSON codec so binary
 * fields stay binary on the wire.
 */
import { decode, Encoder } from '@msgpack/msgpack';
import type { Deserializer, Serializer } from '@nestjs/microservices';

export class NatsMsgpackSerializer implements Serializer {
  private readonly encoder = new Encoder({ ignoreUndefined: true });

  serialize(packet: Record<string, unknown>): { data: Uint8Array; headers?: unknown } {
    const { headers, ...rest } = packet ?? {};
    return { data: this.encoder.encode(rest), headers };
  }
}

export class NatsMsgpackDeserializer implements Deserializer {
  deserialize(value: Uint8Array): unknown {
    return decode(value);
  }
}
