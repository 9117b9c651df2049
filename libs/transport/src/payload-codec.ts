/**
 * Transport-specific treatment of large binary fields, applied by the app adapters on both ends
 * of every call. TCP carries any size (framed MessagePack), so its codec does nothing. NATS caps
 * a message at the server's max_payload (1 MiB by default), so its codec moves every large
 * Uint8Array into a JetStream object store and sends a claim ticket in its place ("claim check"),
 * which the receiver redeems and deletes.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection, ObjectStore } from 'nats';

/** Also the DI token the apps inject the codec by. */
export abstract class PayloadCodec {
  abstract outbound<T>(value: T): Promise<T>;
  abstract inbound<T>(value: T): Promise<T>;
  abstract close(): Promise<void>;
  /**
   * A call's failure that is the transport's own (its server gone), as the error to report, or
   * undefined when the failure is the called service's. TCP has no server between the services.
   */
  transportFailure(_e: unknown): Error | undefined {
    return undefined;
  }
}

class IdentityCodec extends PayloadCodec {
  async outbound<T>(value: T): Promise<T> {
    return value;
  }
  async inbound<T>(value: T): Promise<T> {
    return value;
  }
  async close(): Promise<void> {}
}

export const identityCodec: PayloadCodec = new IdentityCodec();

interface ClaimTicket {
  readonly __claim: string;
  readonly bytes: number;
}

function isTicket(v: unknown): v is ClaimTicket {
  return typeof v === 'object' && v !== null && typeof (v as ClaimTicket).__claim === 'string';
}

/** Who a failure of the NATS server itself is attributed to (a job's `failedParty`). */
export const NATS_SERVER_ID = 'nats';

export class NatsClaimCheckCodec extends PayloadCodec {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly store: ObjectStore,
    private readonly threshold: number,
    private readonly servers: string,
  ) {
    super();
  }

  /**
   * @param threshold byte length from which a Uint8Array travels through the object store.
   */
  static async connect(servers: string, bucket = 'vfl-payloads', threshold = 64 * 1024): Promise<NatsClaimCheckCodec> {
    const { connect } = await import('nats');
    const nc = await connect({ servers, name: `vfl-claim-check-${process.pid}` });
    // Unredeemed payloads (a receiver that died) expire after an hour.
    const store = await nc.jetstream().views.os(bucket, { ttl: 3_600_000_000_000 });
    return new NatsClaimCheckCodec(nc, store, threshold, servers);
  }

  async outbound<T>(value: T): Promise<T> {
    return (await this.walk(value, async (bytes) => {
      if (bytes.length < this.threshold) return bytes;
      const name = randomUUID();
      await this.jetStream('store a payload in', () => this.store.putBlob({ name }, bytes));
      return { __claim: name, bytes: bytes.length } satisfies ClaimTicket;
    })) as T;
  }

  async inbound<T>(value: T): Promise<T> {
    return (await this.walk(value, async (b) => b)) as T;
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }

  private async walk(value: unknown, onBytes: (b: Uint8Array) => Promise<unknown>): Promise<unknown> {
    if (value instanceof Uint8Array) return onBytes(value);
    if (isTicket(value)) return this.redeem(value);
    if (Array.isArray(value)) return Promise.all(value.map((v) => this.walk(v, onBytes)));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const entries = await Promise.all(
        Object.entries(value).map(async ([k, v]) => [k, await this.walk(v, onBytes)] as const),
      );
      return Object.fromEntries(entries);
    }
    return value;
  }

  private async redeem(ticket: ClaimTicket): Promise<Uint8Array> {
    const bytes = await this.jetStream('fetch a payload from', () => this.store.getBlob(ticket.__claim));
    if (!bytes) throw new Error(`claimed payload ${ticket.__claim} is missing from the object store`);
    if (bytes.length !== ticket.bytes)
      throw new Error(`claimed payload ${ticket.__claim} has ${bytes.length} bytes, ticket says ${ticket.bytes}`);
    // Best effort: the payload is redeemed, and one left behind expires with the bucket's TTL.
    await this.store.delete(ticket.__claim).catch(() => undefined);
    return bytes;
  }

  /** The NATS client lost its connection during a call: the server's failure, not the called party's. */
  override transportFailure(e: unknown): Error | undefined {
    // An Error, or (from Nest's client) a plain object with a message, or a string.
    const message = (e as { message?: unknown } | null)?.message;
    const text = typeof message === 'string' ? message : typeof e === 'string' ? e : '';
    if (!/connection (lost|closed|refused)|disconnect|trying to reconnect/i.test(text)) return undefined;
    return Object.assign(
      new Error(`the NATS server (${this.servers}) did not answer: ${text.slice(0, 200)}; is it down or restarting?`, {
        cause: e,
      }),
      { failedAt: NATS_SERVER_ID },
    );
  }

  /** A JetStream call whose failure names the NATS server (down, restarting, or without JetStream), not the party that called. */
  private async jetStream<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      const reason = e instanceof Error ? e.message.slice(0, 200) : String(e).slice(0, 200);
      throw Object.assign(
        new Error(
          `the NATS server (${this.servers}) did not answer: could not ${what} its JetStream object store (${reason}); is it down or restarting?`,
          { cause: e },
        ),
        // Carried back through every party to the coordinator, so the job names the server, not a party.
        { failedAt: NATS_SERVER_ID },
      );
    }
  }
}
