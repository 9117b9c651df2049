/**
 * PGlite served on a loopback port over the PostgreSQL wire protocol, guarded: what replaces
 * `@electric-sql/pglite-socket`, which hands every TCP chunk straight to PGlite.
 *
 * Why a guard: PGlite is PostgreSQL compiled to WebAssembly, in this process. Bytes that are not
 * the protocol (an HTTP GET from a health probe or a port scan, a message type PostgreSQL does not
 * define) make its backend abort with `RuntimeError: unreachable`, which takes the whole process
 * down with it. So PGlite only ever sees what this server has framed and checked:
 *
 *  1. Only loopback peers are served.
 *  2. Startup: an SSLRequest or GSSENCRequest is answered 'N' here (no encryption on loopback); a
 *     StartupMessage must be protocol 3.0, at most 10,000 bytes (PostgreSQL's own limit), made of
 *     NUL-terminated name/value pairs with a `user`, and complete within `startupTimeoutMs`.
 *     Anything else (a CancelRequest, an HTTP request, random bytes) closes the connection.
 *  3. Authentication: the URL carries a password drawn at start; this server asks for it (MD5)
 *     and checks the answer itself (28P01 and close when wrong), since PGlite would take any. Only
 *     a holder of the URL, in practice the process that started the database, gets a session.
 *  4. Then whole messages only (a type byte, a length of 4 to `maxMessageBytes`), of the frontend
 *     types PostgreSQL defines; Terminate, or any other type byte, closes the connection.
 *
 * PGlite has one session, which connections share a unit of work at a time: a connection takes
 * PGlite's exclusive lock when it sends something and gives it back when PGlite answers
 * ReadyForQuery idle (not in a transaction). So a service's pool may keep its connection open
 * while a tool (`vfl audit verify`) reads the same database, a transaction is never interleaved
 * with another connection's statements, and a connection that has not logged in holds nothing
 * (it is refused after `startupTimeoutMs`). When a connection ends the session is
 * reset (Sync, ROLLBACK, DISCARD ALL) under the lock, so a client that left mid-message or
 * mid-transaction leaves nothing behind. DISCARD ALL also resets what
 * PGlite itself set in its one session when it started (`search_path = public`; the backend's own
 * default is `pg_catalog`, where no table of ours is): those settings, read at start, are set
 * again after every reset. (Without that, the first connection after a pool closed an idle one
 * found "relation ... does not exist" for every table, and the service's audit writes failed.)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const PROTOCOL_3_0 = 196608;
/** PostgreSQL's MAX_STARTUP_PACKET_LENGTH (src/include/libpq/pqcomm.h). */
const MAX_STARTUP_BYTES = 10_000;
/** Frontend message types (PostgreSQL docs, "Message Formats"), Terminate ('X') handled apart. */
const FRONTEND_TYPES = new Set([...'BCdcfDEHFpPQS'].map((c) => c.charCodeAt(0)));
const TERMINATE = 'X'.charCodeAt(0);
const PASSWORD = 'p'.charCodeAt(0);
const AUTHENTICATION = 'R'.charCodeAt(0);
const READY_FOR_QUERY = 'Z'.charCodeAt(0);
const IDLE = 'I'.charCodeAt(0);
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface PgliteWireServerOptions {
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly startupTimeoutMs?: number;
  readonly maxMessageBytes?: number;
  /** Called with what was refused or failed; nothing here throws out of a socket handler. */
  readonly onRefused?: (reason: string) => void;
}

export class PgliteWireServer {
  /** The password clients must present (in the URL that `url` returns). */
  readonly password = randomBytes(18).toString('base64url');
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private port = 0;
  /** What the reset sends after DISCARD ALL: PGlite's own session settings, as it started. */
  private restoreSettings: Uint8Array | undefined;

  constructor(
    private readonly db: PGlite,
    private readonly options: PgliteWireServerOptions = {},
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  get url(): string {
    return `postgres://postgres:${this.password}@${this.options.host ?? '127.0.0.1'}:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    // PGlite starts its backend with client_min_messages = debug3: every statement's replies
    // carry debug notices. PostgreSQL's default for clients is notice.
    await this.db.exec('SET client_min_messages TO notice');
    const { rows } = await this.db.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE source = 'session' ORDER BY name`,
    );
    this.restoreSettings = rows.length
      ? query(`SELECT ${rows.map((r) => `set_config(${literal(r.name)}, ${literal(r.setting)}, false)`).join(', ')}`)
      : undefined;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    if (!LOOPBACK.has(socket.remoteAddress ?? '')) {
      this.refuse(socket, `a connection from ${socket.remoteAddress} (only loopback is served)`);
      return;
    }
    new WireSession(this, this.db, socket, this.options).run();
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** @internal The messages that hand PGlite's session to the next connection as new. */
  resetMessages(): Uint8Array[] {
    const reset = [message('S'), query('ROLLBACK'), query('DISCARD ALL')];
    return this.restoreSettings ? [...reset, this.restoreSettings] : reset;
  }

  /** @internal */
  refuse(socket: net.Socket, reason: string): void {
    this.options.onRefused?.(reason);
    socket.destroy();
  }
}

/** One connection: startup, authentication, then framed messages, each unit of work under PGlite's exclusive lock. */
class WireSession {
  private buffer = Buffer.alloc(0);
  private phase: 'startup' | 'session' | 'closed' = 'startup';
  /** Set while this connection holds PGlite's lock: from a message sent until ReadyForQuery idle. */
  private release: (() => void) | undefined;
  /** Something of this connection reached PGlite: its end must reset the session. */
  private touched = false;
  /** The salt of the MD5 password request this server sent, until the password is checked. */
  private salt: Buffer | undefined;
  private authenticated = false;
  /** The client's startup packet: PGlite sees it only once the password has been checked. */
  private startup: Buffer | undefined;
  /** The user of the startup packet: part of what the MD5 answer hashes. */
  private user = '';
  /** Messages go to PGlite one batch at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly maxMessageBytes: number;

  constructor(
    private readonly server: PgliteWireServer,
    private readonly db: PGlite,
    private readonly socket: net.Socket,
    options: PgliteWireServerOptions,
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? 256 * 1024 * 1024;
    const timer = setTimeout(() => {
      if (this.phase !== 'closed' && !this.authenticated) this.refuse('no completed login in time');
    }, options.startupTimeoutMs ?? 10_000);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.close();
    });
  }

  run(): void {
    this.socket.on('data', (chunk: Buffer) => {
      if (this.phase === 'closed') return;
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      if (this.phase === 'startup') this.readStartup();
      else if (this.phase === 'session') this.readMessages();
    });
  }

  private refuse(reason: string): void {
    this.phase = 'closed';
    this.server.refuse(this.socket, reason);
  }

  private readStartup(): void {
    while (this.phase === 'startup' && this.buffer.length >= 8) {
      const length = this.buffer.readInt32BE(0);
      const code = this.buffer.readInt32BE(4);
      if (length < 8 || length > MAX_STARTUP_BYTES) return this.refuse(`a startup packet of length ${length}`);
      if (this.buffer.length < length) return;
      const packet = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      if ((code === SSL_REQUEST || code === GSSENC_REQUEST) && length === 8) {
        this.socket.write('N');
        continue;
      }
      if (code !== PROTOCOL_3_0) return this.refuse(`a startup packet with code ${code}`);
      const params = parseStartupParameters(packet.subarray(8));
      const user = params?.get('user');
      if (!user) return this.refuse('a malformed startup packet');
      this.user = user;
      this.phase = 'session';
      // The password is asked for and checked here, before PGlite (or its lock) is involved.
      this.startup = Buffer.from(packet);
      this.salt = randomBytes(4);
      this.socket.write(md5Request(this.salt));
      this.readMessages();
    }
  }

  /** PGlite's exclusive lock: resolves with its release once this connection has it. */
  private acquire(): Promise<() => void> {
    return new Promise<() => void>((acquired) => {
      void this.db.runExclusive(() => new Promise<void>((release) => acquired(release)));
    });
  }

  private readMessages(): void {
    const batch: Buffer[] = [];
    while (this.buffer.length >= 5) {
      const type = this.buffer[0];
      const length = this.buffer.readInt32BE(1);
      if (type === TERMINATE) {
        this.flush(batch);
        this.phase = 'closed';
        this.socket.end();
        return;
      }
      if (!FRONTEND_TYPES.has(type)) return this.refuse(`a message of type 0x${type.toString(16)}`);
      if (length < 4 || length > this.maxMessageBytes) return this.refuse(`a message of length ${length}`);
      if (this.buffer.length < length + 1) break;
      const message = this.buffer.subarray(0, length + 1);
      this.buffer = this.buffer.subarray(length + 1);
      if (!this.authenticated) {
        if (type !== PASSWORD || !this.passwordMatches(message.subarray(5))) {
          this.socket.write(authFailed());
          return this.refuse('a wrong or missing password');
        }
        this.authenticated = true;
        this.login();
        continue;
      }
      batch.push(message);
    }
    this.flush(batch);
  }

  /**
   * One message per call into PGlite: given several, PGlite 0.3 loses its place when a message
   * boundary falls at certain offsets around each 8 KiB of the input (a 3-message batch whose
   * Sync started there got no ReadyForQuery, and the client waited for ever: the SecureBoost
   * demo's stall). Its files are synced once, after the batch's last message.
   */
  private flush(batch: Buffer[]): void {
    batch.forEach((m, i) => this.forward(m, i === batch.length - 1));
  }

  private forward(bytes: Buffer, syncToFs = true): void {
    this.queue = this.queue.then(async () => {
      if (this.phase !== 'session') return;
      this.release ??= await this.acquire();
      // Gone while waiting: close() (queued behind this) resets and releases.
      if (this.phase !== 'session') return;
      this.touched = true;
      try {
        this.answer(await this.db.execProtocolRaw(new Uint8Array(bytes), { syncToFs }));
      } catch (e) {
        this.refuse(`PGlite failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  /**
   * PGlite's side of the login, as one unit of work: the client's startup packet, then (PGlite
   * asks for an MD5 password and takes any) a password; the client gets the rest of the login
   * (AuthenticationOk, parameters, ReadyForQuery), its own password having been checked here.
   */
  private login(): void {
    const startup = this.startup!;
    this.startup = undefined;
    this.queue = this.queue.then(async () => {
      if (this.phase !== 'session') return;
      this.release ??= await this.acquire();
      if (this.phase !== 'session') return;
      this.touched = true;
      try {
        let reply = await this.db.execProtocolRaw(new Uint8Array(startup));
        if (md5Salt(reply)) reply = await this.db.execProtocolRaw(message('p', Buffer.from(`md5${'0'.repeat(32)}\0`)));
        if (!endsIdle(reply)) return this.refuse('PGlite did not complete the login');
        this.answer(reply);
      } catch (e) {
        this.refuse(`PGlite failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  /** Sends PGlite's reply on; at ReadyForQuery idle the unit of work is over and another connection may have the session. */
  private answer(reply: Uint8Array): void {
    if (reply.length && this.socket.writable) this.socket.write(reply);
    if (this.release && endsIdle(reply)) {
      this.release();
      this.release = undefined;
    }
  }

  private passwordMatches(body: Buffer): boolean {
    if (!this.salt) return false;
    // PostgreSQL's MD5 scheme: "md5" + md5(md5(password + user) + salt), NUL-terminated.
    const inner = createHash('md5').update(`${this.server.password}${this.user}`).digest('hex');
    const expected = Buffer.from(`md5${createHash('md5').update(inner).update(this.salt).digest('hex')}\0`);
    return body.length === expected.length && timingSafeEqual(body, expected);
  }

  /** The connection is gone: reset PGlite's session under the lock, then let the others have it. */
  private close(): void {
    this.phase = 'closed';
    this.queue = this.queue.then(async () => {
      const held = this.release;
      this.release = undefined;
      if (!this.touched) return held?.();
      const release = held ?? (await this.acquire());
      try {
        for (const m of this.server.resetMessages()) await this.db.execProtocolRaw(m);
      } catch {
        // PGlite itself failed; the next connection's first query says so.
      } finally {
        release();
      }
    });
  }
}

/** Whether a reply ends with ReadyForQuery, status idle ('Z', length 5, 'I'): no transaction is open. */
function endsIdle(reply: Uint8Array): boolean {
  const n = reply.length;
  return n >= 6 && reply[n - 6] === READY_FOR_QUERY && reply[n - 2] === 5 && reply[n - 1] === IDLE;
}

/** Name/value pairs of a StartupMessage body, or undefined when malformed. */
function parseStartupParameters(body: Buffer): Map<string, string> | undefined {
  const params = new Map<string, string>();
  let at = 0;
  for (;;) {
    const end = body.indexOf(0, at);
    if (end < 0) return undefined;
    if (end === at) return end === body.length - 1 ? params : undefined;
    const name = body.toString('utf8', at, end);
    const valueEnd = body.indexOf(0, end + 1);
    if (valueEnd < 0) return undefined;
    params.set(name, body.toString('utf8', end + 1, valueEnd));
    at = valueEnd + 1;
  }
}

/** The salt of an AuthenticationMD5Password ('R', length 12, code 5, 4 bytes) at the start of a reply. */
function md5Salt(reply: Uint8Array): Buffer | undefined {
  const b = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  if (b.length < 13 || b[0] !== AUTHENTICATION || b.readInt32BE(1) !== 12 || b.readInt32BE(5) !== 5) return undefined;
  return Buffer.from(b.subarray(9, 13));
}

function message(type: string, body: Buffer = Buffer.alloc(0)): Uint8Array {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return new Uint8Array(Buffer.concat([head, body]));
}

/** A SQL string literal. */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function query(sql: string): Uint8Array {
  return message('Q', Buffer.from(`${sql}\0`));
}

/** AuthenticationMD5Password with this salt. */
function md5Request(salt: Buffer): Uint8Array {
  const body = Buffer.alloc(8);
  body.writeInt32BE(5, 0);
  salt.copy(body, 4);
  return message('R', body);
}

/** ErrorResponse: FATAL 28P01 password authentication failed. */
function authFailed(): Buffer {
  const fields = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "postgres"\0\0');
  return Buffer.from(message('E', fields));
}
