/**
 * Test wiring: a coordinator-side SplitLrJob and real PartyNodes in one process. Every command,
 * reply and peer envelope is MessagePack-encoded exactly as the transports do and recorded, so
 * tests can inspect every byte that crossed a party boundary.
 */
import { decode, encode } from '@msgpack/msgpack';
import { NodeX25519Group } from '../../crypto/src/psi-group';
import { initTensorflow } from '../../ml/src/tf-backend';
import type { PeerEnvelope, PartyRole } from '../src/messages';
import { PartyModel, PartyNode } from '../src/party-node';
import { PartyChannel } from '../src/split-lr-job';

export interface RecordedMessage {
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly bytes: Uint8Array;
}

export interface InProcessFederation {
  readonly nodes: Map<string, PartyNode>;
  readonly channels: Map<string, PartyChannel>;
  readonly wire: RecordedMessage[];
  readonly models: Map<string, PartyModel>;
}

export async function inProcessFederation(parties: { partyId: string; role: PartyRole }[], dataRoot: string): Promise<InProcessFederation> {
  const tensorflow = await initTensorflow();
  const wire: RecordedMessage[] = [];
  const nodes = new Map<string, PartyNode>();
  const models = new Map<string, PartyModel>();
  const psiGroup = new NodeX25519Group();
  for (const p of parties) {
    nodes.set(
      p.partyId,
      new PartyNode({
        partyId: p.partyId,
        role: p.role,
        psiGroup,
        tensorflow,
        dataRoot,
        saveModel: (_jobId, model) => void models.set(p.partyId, model),
        peers: {
          async request(to: string, envelope: PeerEnvelope) {
            const bytes = encode(envelope);
            wire.push({ from: p.partyId, to, kind: envelope.type, bytes });
            const reply = await nodes.get(to)!.handlePeer(decode(bytes) as PeerEnvelope);
            if (reply) wire.push({ from: to, to: p.partyId, kind: `${envelope.type}.reply`, bytes: encode(reply) });
            return reply;
          },
        },
      }),
    );
  }
  const channels = new Map<string, PartyChannel>();
  for (const p of parties) {
    channels.set(p.partyId, {
      partyId: p.partyId,
      async call(command, body) {
        const request = encode({ command, body });
        wire.push({ from: 'coordinator', to: p.partyId, kind: command, bytes: request });
        const decoded = decode(request) as { command: string; body: Record<string, unknown> };
        const reply = encode(await nodes.get(p.partyId)!.handleCommand(decoded.command, decoded.body));
        wire.push({ from: p.partyId, to: 'coordinator', kind: `${command}.reply`, bytes: reply });
        return decode(reply) as Record<string, unknown>;
      },
    });
  }
  return { nodes, channels, wire, models };
}

/**
 * Searches recorded traffic for planted values in one pass per kind: float64 values through a
 * set of their 8-byte patterns checked at every byte offset; numbers written as text through the
 * set of number-like tokens in the traffic; short byte runs with Buffer.indexOf.
 */
export class WireScanner {
  constructor(private readonly wire: readonly RecordedMessage[]) {}

  /** Messages containing any of `values` as little-endian float64 bytes at any offset. */
  float64(values: Iterable<number>): { value: number; message: RecordedMessage }[] {
    const wanted = new Map<bigint, number>();
    const cell = new Float64Array(1);
    const bits = new BigUint64Array(cell.buffer);
    for (const v of values) {
      cell[0] = v;
      wanted.set(bits[0], v);
    }
    const hits: { value: number; message: RecordedMessage }[] = [];
    for (const message of this.wire) {
      const b = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
      for (let i = 0; i + 8 <= b.length; i++) {
        const hit = wanted.get(b.readBigUInt64LE(i));
        if (hit !== undefined) hits.push({ value: hit, message });
      }
    }
    return hits;
  }

  /** Messages containing any of `texts` as a whole number-like token. */
  tokens(texts: Iterable<string>): { text: string; message: RecordedMessage }[] {
    const wanted = new Set(texts);
    const hits: { text: string; message: RecordedMessage }[] = [];
    for (const message of this.wire) {
      const text = Buffer.from(message.bytes).toString('latin1');
      for (const token of text.match(/[0-9.eE+-]{2,}/g) ?? []) if (wanted.has(token)) hits.push({ text: token, message });
    }
    return hits;
  }

  bytes(needle: Uint8Array): RecordedMessage[] {
    return this.wire.filter((m) => Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength).indexOf(Buffer.from(needle)) !== -1);
  }
}
