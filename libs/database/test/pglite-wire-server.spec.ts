/**
 * The embedded PostgreSQL's loopback port takes junk (an HTTP request, random bytes, half a
 * startup packet, a connection closed mid-message, an unknown message type, a wrong password)
 * without PGlite seeing it: the database, and the process around it, keep answering.
 * (With @electric-sql/pglite-socket, the first of these aborted the process: RuntimeError: unreachable.)
 */
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EmbeddedPostgres, startEmbeddedPostgres } from '@vfl/database';

function startup(user = 'postgres'): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0postgres\0\0`);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** Sends `chunks` (one write each, a pause between) and resolves with what came back once the server closes or `waitMs` passes. */
function send(port: number, chunks: Buffer[], opts: { waitMs?: number; close?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    const done = () => {
      socket.destroy();
      resolve(Buffer.concat(got));
    };
    socket.on('data', (d) => got.push(d));
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      void (async () => {
        for (const c of chunks) {
          socket.write(c);
          await new Promise((r) => setTimeout(r, 20));
        }
        if (opts.close) done();
        else setTimeout(done, opts.waitMs ?? 500);
      })();
    });
  });
}

describe('embedded PostgreSQL behind the wire guard', () => {
  let pg: EmbeddedPostgres;
  let port: number;
  const refused: string[] = [];

  beforeAll(async () => {
    pg = await startEmbeddedPostgres(undefined, { onRefused: (r) => refused.push(r) });
    port = Number(new URL(pg.url).port);
  });
  afterAll(() => pg.stop());

  async function answers(): Promise<void> {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ x: number }>('SELECT $1::int + 1 AS x', [41]);
      expect(rows).toEqual([{ x: 42 }]);
      // A client that left mid-transaction left nothing behind: its transaction was rolled back.
      expect((await client.query(`SELECT to_regclass('public.leftover') AS t`)).rows).toEqual([{ t: null }]);
      // ...and the session is as PGlite set it up: tables of the public schema resolve unqualified.
      expect((await client.query(`SELECT current_setting('search_path') AS p`)).rows).toEqual([{ p: 'public' }]);
    } finally {
      await client.end();
    }
  }

  // Every row has all three fields: jest passes a shorter row's missing field as `done`.
  const junk: [string, Buffer[], { close?: boolean }][] = [
    ['an HTTP GET', [Buffer.from('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')], {}],
    ['random bytes', [randomBytes(4096)], {}],
    ['random bytes after a zero length prefix', [Buffer.concat([Buffer.from([0, 0, 0, 9]), randomBytes(64)])], {}],
    ['half a startup packet, then close', [startup().subarray(0, 11)], { close: true }],
    ['a startup packet of a huge length', [Buffer.from([0, 0x10, 0, 0, 0, 3, 0, 0])], {}],
    ['a CancelRequest', [Buffer.from([0, 0, 0, 16, 4, 210, 22, 46, 0, 0, 0, 1, 0, 0, 0, 2])], {}],
    ['protocol 2.0', [Buffer.concat([Buffer.from([0, 0, 0, 9, 0, 2, 0, 0]), Buffer.from([0])])], {}],
    ['a startup packet without a user', [Buffer.from([0, 0, 0, 9, 0, 3, 0, 0, 0])], {}],
    ['an unknown message type in place of the password', [startup(), message('G')], {}],
    ['a wrong password', [startup(), message('p', Buffer.from('md5' + '0'.repeat(32) + '\0'))], {}],
    [
      'an SSLRequest, then an HTTP GET',
      [Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]), Buffer.from('GET / HTTP/1.0\r\n\r\n')],
      {},
    ],
    ['a connection closed mid-startup-reply', [startup()], { close: true }],
  ];

  it.each(junk)('survives %s', async (_name, chunks, opts) => {
    const reply = await send(port, chunks, opts);
    // Nothing but 'N' (no SSL), PGlite's password request or an authentication error ever comes back.
    expect(reply.length === 0 || ['N', 'R', 'E'].includes(String.fromCharCode(reply[0]))).toBe(true);
    await answers();
  });

  it('a logged-in client that sends an unknown message type, or leaves mid-message or mid-transaction, leaves PGlite as it was', async () => {
    // A real client, then its socket used raw: junk after login.
    for (const tail of [
      message('G'),
      message('Q', Buffer.from('BEGIN; CREATE TABLE leftover (x int)\0')),
      Buffer.concat([message('Q', Buffer.from('BEGIN\0')), message('Q', Buffer.from('SELECT 1'))]).subarray(0, 20),
      message('P', Buffer.from([1, 2, 3])),
    ]) {
      const client = new Client({ connectionString: pg.url });
      await client.connect();
      const stream = (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
      const closed = new Promise((r) => stream.once('close', r));
      client.on('error', () => undefined);
      stream.write(tail);
      await new Promise((r) => setTimeout(r, 100));
      stream.destroy();
      await closed;
      await answers();
    }
  });

  it('answers every query whose messages end near a multiple of 8 KiB (PGlite lost the Sync there)', async () => {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      // Parameter lengths whose Parse/Bind/Describe/Execute/Sync put a boundary where PGlite 0.3,
      // fed them in one call, answered without ReadyForQuery; and their neighbours.
      for (const base of [8120, 8130, 8137, 16312, 16322, 16329])
        for (const size of [base - 1, base, base + 1]) {
          const { rows } = await client.query<{ n: number }>('select length($1::text) n', ['a'.repeat(size)]);
          expect(rows).toEqual([{ n: size }]);
        }
      // Notices as PostgreSQL sends them by default, not PGlite's debug3.
      expect((await client.query(`SELECT current_setting('client_min_messages') AS m`)).rows).toEqual([
        { m: 'notice' },
      ]);
    } finally {
      await client.end();
    }
  });

  it('a pool that closed its idle connection finds its tables on the next one (session settings kept)', async () => {
    const { Pool } = await import('pg');
    const pool = new Pool({ connectionString: pg.url, max: 1, idleTimeoutMillis: 50 });
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS public.kept (x int)');
      await pool.query('INSERT INTO public.kept VALUES (1)');
      await new Promise((r) => setTimeout(r, 300));
      expect(pool.totalCount).toBe(0);
      expect((await pool.query('SELECT count(*)::int AS n FROM kept')).rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('serves several connections a unit of work at a time: an idle one holds nothing, an open transaction holds the others', async () => {
    const a = new Client({ connectionString: pg.url });
    const b = new Client({ connectionString: pg.url });
    await a.connect();
    // b logs in and queries while a is connected (and idle), as a CLI beside a running service.
    await b.connect();
    expect((await b.query('SELECT 2 AS x')).rows).toEqual([{ x: 2 }]);
    await a.query('CREATE TABLE IF NOT EXISTS public.units (x int)');
    await a.query('BEGIN');
    await a.query('INSERT INTO public.units VALUES (1)');
    // b's statement waits for a's transaction: it never runs inside it or sees its rows early.
    let bDone = false;
    const bCount = b.query('SELECT count(*)::int AS n FROM public.units').then((r) => {
      bDone = true;
      return r.rows;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(bDone).toBe(false);
    await a.query('INSERT INTO public.units VALUES (2)');
    await a.query('COMMIT');
    expect(await bCount).toEqual([{ n: 2 }]);
    // A transaction left open by a client that goes away is rolled back, and the others go on.
    await a.query('BEGIN');
    await a.query('INSERT INTO public.units VALUES (3)');
    const stream = (a as unknown as { connection: { stream: net.Socket } }).connection.stream;
    a.on('error', () => undefined);
    stream.destroy();
    expect((await b.query('SELECT count(*)::int AS n FROM public.units')).rows).toEqual([{ n: 2 }]);
    await b.end();
  });

  it('holds nothing for a client that never logs in', async () => {
    // A startup packet and no password: PGlite has not seen it, and nobody waits for it.
    const stalled = net.connect(port, '127.0.0.1');
    stalled.on('error', () => undefined);
    await new Promise((r) => stalled.once('connect', r));
    stalled.write(startup());
    await new Promise((r) => setTimeout(r, 100));
    const client = new Client({ connectionString: pg.url });
    const started = Date.now();
    await client.connect();
    try {
      expect((await client.query('SELECT 3 AS x')).rows).toEqual([{ x: 3 }]);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await client.end();
      stalled.destroy();
    }
  });

  it('refuses a client without the password, and names what it refused', async () => {
    const url = new URL(pg.url);
    url.password = 'guess';
    const client = new Client({ connectionString: url.toString() });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
    expect(refused).toEqual(
      expect.arrayContaining([expect.stringMatching(/password/), expect.stringMatching(/length/)]),
    );
    await answers();
  });
});
