/**
 * A party's ECDH-PSI work spread over worker processes on other hosts through a NATS JetStream
 * work queue (no scheduler of our own): `NatsPsiEngine` publishes each chunk (hash-and-blind a
 * slice of IDs, or blind a slice of the peer's elements) to the work-queue stream; any number of
 * `runPsiWorker` processes pull from one shared durable consumer with explicit acks, compute the
 * chunk with libsodium and publish the result to the engine's reply subject, then ack. A worker
 * that dies before its ack leaves the chunk unacknowledged: JetStream delivers it again after
 * `ackWaitMs` to another worker. The engine keeps the first result per chunk and ignores repeats.
 *
 * Trust: tasks carry the party's job scalar and its IDs, so the workers, the NATS server and the
 * links between them belong to the party itself (its own hosts; NATS with TLS and credentials
 * beyond one machine). A peer never talks to them. deploy/README.md says how to add workers.
 */
import { randomUUID } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import { AckPolicy, connect, NatsConnection, nanos, RetentionPolicy, Subscription } from 'nats';
import {
  blindChunk,
  blindInChunks,
  hashAndBlindInChunks,
  hashAndBlindChunk,
  PSI_CHUNK_ELEMENTS,
  PSI_ELEMENT_BYTES,
  PsiEngine,
  PsiGroupError,
  PsiProgress,
  SodiumX25519Group,
} from '@vfl/crypto';

export const PSI_WORK_STREAM = 'VFL_PSI_WORK';
export const PSI_WORK_SUBJECT = 'vfl.psi.work';
export const PSI_WORK_CONSUMER = 'psi-workers';
const RESULT_SUBJECT = 'vfl.psi.result';

type Task =
  | { id: number; reply: string; op: 'hashAndBlind'; scalar: Uint8Array; dst: Uint8Array; ids: string[] }
  | { id: number; reply: string; op: 'blind'; scalar: Uint8Array; packed: Uint8Array; offset: number };
type TaskBody =
  | { op: 'hashAndBlind'; scalar: Uint8Array; dst: Uint8Array; ids: string[] }
  | { op: 'blind'; scalar: Uint8Array; packed: Uint8Array; offset: number };
type Result = { id: number; result?: Uint8Array; error?: { message: string; code?: 'INVALID_ELEMENT' | 'IDENTITY' } };

export interface PsiWorkQueueOptions {
  /** How long a worker may hold a chunk before JetStream gives it to another (default 30 s). */
  readonly ackWaitMs?: number;
  /** IDs or elements per task (default PSI_CHUNK_ELEMENTS). */
  readonly chunkElements?: number;
}

/** Creates the work-queue stream and the workers' shared consumer if they do not exist yet. */
export async function ensurePsiWorkQueue(nc: NatsConnection, options: PsiWorkQueueOptions = {}): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.info(PSI_WORK_STREAM).catch(() =>
    jsm.streams.add({
      name: PSI_WORK_STREAM,
      subjects: [`${PSI_WORK_SUBJECT}.>`],
      retention: RetentionPolicy.Workqueue,
    }),
  );
  await jsm.consumers.info(PSI_WORK_STREAM, PSI_WORK_CONSUMER).catch(() =>
    jsm.consumers.add(PSI_WORK_STREAM, {
      durable_name: PSI_WORK_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(options.ackWaitMs ?? 30_000),
      max_ack_pending: 1024,
    }),
  );
}

/** A PsiEngine whose chunks run on whichever worker processes pull the work queue. */
export class NatsPsiEngine implements PsiEngine {
  readonly name = 'x25519-ell2s-sodium (NATS JetStream work queue)';
  readonly threads = 1;
  private readonly engineId = randomUUID();
  private readonly pending = new Map<number, { resolve(r: Uint8Array): void; reject(e: Error): void }>();
  private readonly subscription: Subscription;
  private readonly chunk: number;
  private nextId = 1;

  constructor(
    private readonly nc: NatsConnection,
    options: PsiWorkQueueOptions = {},
  ) {
    this.chunk = options.chunkElements ?? PSI_CHUNK_ELEMENTS;
    this.subscription = nc.subscribe(`${RESULT_SUBJECT}.${this.engineId}`, {
      callback: (err, msg) => {
        if (err) return;
        const r = decode(msg.data) as Result;
        const waiting = this.pending.get(r.id);
        if (!waiting) return; // a repeat from a redelivered chunk: the first result stands
        this.pending.delete(r.id);
        if (r.result) waiting.resolve(r.result);
        else
          waiting.reject(
            r.error?.code ? new PsiGroupError(r.error.code, r.error.message) : new Error(r.error?.message ?? 'failed'),
          );
      },
    });
  }

  /** An engine on a connection of its own (closed with the engine), the work queue created if missing. */
  static async connect(servers: string, options: PsiWorkQueueOptions = {}): Promise<NatsPsiEngine> {
    const nc = await connect({ servers, name: 'vfl-psi-engine', maxReconnectAttempts: -1 });
    await ensurePsiWorkQueue(nc, options);
    const engine = new NatsPsiEngine(nc, options);
    engine.ownsConnection = true;
    return engine;
  }
  private ownsConnection = false;

  randomScalar(): Uint8Array {
    return new SodiumX25519Group().randomScalar();
  }

  async hashAndBlind(
    scalar: Uint8Array,
    ids: readonly string[],
    dst: Uint8Array,
    onProgress?: PsiProgress,
  ): Promise<Uint8Array> {
    return hashAndBlindInChunks(
      ids,
      this.chunk,
      (slice) => this.run({ op: 'hashAndBlind', scalar, dst, ids: [...slice] }),
      onProgress,
    );
  }

  async blind(scalar: Uint8Array, packed: Uint8Array, firstIndex = 0): Promise<Uint8Array> {
    if (packed.length % PSI_ELEMENT_BYTES !== 0)
      throw new PsiGroupError('INVALID_ELEMENT', `element list length ${packed.length} is not a multiple of 32`);
    return blindInChunks(packed, this.chunk, firstIndex, (slice, offset) =>
      this.run({ op: 'blind', scalar, packed: slice, offset }),
    );
  }

  async close(): Promise<void> {
    this.subscription.unsubscribe();
    for (const p of this.pending.values()) p.reject(new Error('PSI engine closed'));
    this.pending.clear();
    if (this.ownsConnection) await this.nc.drain();
  }

  private async run(body: TaskBody): Promise<Uint8Array> {
    const id = this.nextId++;
    const result = new Promise<Uint8Array>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    const task = { ...body, id, reply: `${RESULT_SUBJECT}.${this.engineId}` };
    await this.nc.jetstream().publish(`${PSI_WORK_SUBJECT}.${this.engineId}`, encode(task));
    return result;
  }
}

/** Checks a task's shape at the door: a malformed one is acknowledged and answered with an error. */
function checkTask(t: unknown): Task {
  const task = t as Partial<Task> & Record<string, unknown>;
  const ok =
    typeof task === 'object' &&
    task !== null &&
    Number.isInteger(task.id) &&
    typeof task.reply === 'string' &&
    task.reply.startsWith(`${RESULT_SUBJECT}.`) &&
    task.scalar instanceof Uint8Array &&
    task.scalar.length === 32 &&
    ((task.op === 'hashAndBlind' &&
      task.dst instanceof Uint8Array &&
      Array.isArray(task.ids) &&
      task.ids.every((x) => typeof x === 'string')) ||
      (task.op === 'blind' && task.packed instanceof Uint8Array && Number.isInteger(task.offset)));
  if (!ok) throw new TypeError('PSI work task is malformed (id, reply, op, scalar and the op fields)');
  return task as Task;
}

/**
 * A worker process's loop: pulls chunks one at a time, computes, replies, acknowledges.
 * Resolves when `signal` aborts (the chunk in hand is finished first).
 */
export async function runPsiWorker(nc: NatsConnection, signal?: AbortSignal): Promise<number> {
  const group = new SodiumX25519Group();
  const consumer = await nc.jetstream().consumers.get(PSI_WORK_STREAM, PSI_WORK_CONSUMER);
  const messages = await consumer.consume({ max_messages: 1 });
  signal?.addEventListener('abort', () => void messages.close());
  let done = 0;
  for await (const m of messages) {
    let raw: unknown;
    try {
      raw = decode(m.data);
    } catch {
      raw = undefined;
    }
    const replyTo = (raw as { reply?: unknown } | undefined)?.reply;
    let reply: Result;
    try {
      const task = checkTask(raw);
      const result =
        task.op === 'hashAndBlind'
          ? hashAndBlindChunk(group, task.scalar, task.ids, task.dst)
          : blindChunk(group, task.scalar, task.packed, task.offset);
      task.scalar.fill(0);
      reply = { id: task.id, result };
    } catch (e) {
      const id = (raw as { id?: unknown } | undefined)?.id;
      reply = {
        id: Number.isInteger(id) ? (id as number) : -1,
        error: { message: (e as Error).message, code: e instanceof PsiGroupError ? e.code : undefined },
      };
    }
    if (typeof replyTo === 'string' && replyTo.startsWith(`${RESULT_SUBJECT}.`)) nc.publish(replyTo, encode(reply));
    m.ack();
    done++;
  }
  return done;
}
