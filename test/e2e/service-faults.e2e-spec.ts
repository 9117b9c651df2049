/**
 * `npm start` as a user runs it (dist/scripts/start.js: a coordinator and two parties, each with
 * its embedded PostgreSQL), then faults from outside:
 *  - junk bytes (an HTTP GET, random bytes, half a startup packet, a connection closed
 *    mid-message, an unknown message type) on every port each service listens on, the embedded
 *    databases' included: every process stays up and still does a job;
 *  - kill -9 of a party: the launcher says at once which service died, and the coordinator's
 *    GET /health shows it unreachable within a few seconds.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { issueApiKey } from '@vfl/access';
import { freePort } from '@vfl/database';

const START = path.resolve(__dirname, '../../dist/scripts/start.js');

/** The inodes of a process's open sockets. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Listening TCP sockets on this host: port → inode (from /proc/net/tcp and tcp6). */
function listeningSockets(): Map<number, string> {
  const out = new Map<number, string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      out.set(parseInt(cols[1].split(':')[1], 16), cols[9]);
    }
  }
  return out;
}

function listeningPorts(pid: number): number[] {
  const mine = socketInodes(pid);
  return [...listeningSockets()].filter(([, inode]) => mine.has(inode)).map(([port]) => port);
}

function pidListeningOn(port: number): number {
  const inode = listeningSockets().get(port);
  for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (inode && socketInodes(Number(entry)).has(inode)) return Number(entry);
    } catch {
      // not ours to read, or gone
    }
  }
  throw new Error(`no process listens on port ${port}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pgStartup(): Buffer {
  const body = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

const JUNK: [string, Buffer[]][] = [
  ['an HTTP GET', [Buffer.from('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')]],
  ['random bytes', [randomBytes(8192)]],
  ['half a PostgreSQL startup packet', [pgStartup().subarray(0, 12)]],
  ['a startup packet, then an unknown message type', [pgStartup(), Buffer.from([0x47, 0, 0, 0, 4])]],
  ['a length prefix promising more than is sent', [Buffer.from([0, 0, 0, 200, 0, 3, 0, 0, 1, 2, 3])]],
];

/** Writes the chunks, then closes the connection (mid-message for most) after a moment. */
function sendJunk(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      void (async () => {
        for (const c of chunks) {
          socket.write(c);
          await new Promise((r) => setTimeout(r, 30));
        }
        setTimeout(done, 200);
      })();
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Health {
  status: string;
  parties: Record<string, { reachable: boolean; error?: string }>;
}

describe('npm start under faults from outside', () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-start-faults-'));
  const adminKey = issueApiKey().key;
  let launcher: ChildProcess;
  let stdout = '';
  let stderr = '';
  let api: string;
  let bankPort: number;
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    const [port, bank, shop] = [await freePort(), await freePort(), await freePort()];
    bankPort = bank;
    api = `http://127.0.0.1:${port}`;
    launcher = spawn(process.execPath, [START], {
      env: {
        ...process.env,
        VFL_STATE_DIR: state,
        PORT: String(port),
        VFL_BANK_PORT: String(bank),
        VFL_ECOMMERCE_PORT: String(shop),
        VFL_ADMIN_KEY: adminKey,
        DATABASE_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    launcher.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(
      'npm start up',
      async () => {
        if (launcher.exitCode !== null) throw new Error(`start.js exited: ${stderr}`);
        return stdout.includes('Ctrl-C stops all three') ? true : undefined;
      },
      120_000,
    );
  }, 150_000);

  afterAll(async () => {
    if (launcher.exitCode === null) {
      const exited = new Promise((r) => launcher.once('exit', r));
      launcher.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(state, { recursive: true, force: true });
  });

  async function health(): Promise<Health> {
    const res = await fetch(`${api}/health`);
    expect(res.status).toBe(200);
    return (await res.json()) as Health;
  }

  it('every service takes junk on every port it listens on, and still runs a job', async () => {
    const services = {
      coordinator: pidListeningOn(Number(new URL(api).port)),
      bank: pidListeningOn(bankPort),
    };
    // The coordinator: its API and its embedded PostgreSQL; a party: its command port, its HTTP
    // health port and its embedded PostgreSQL.
    const expectedPorts: Record<string, number> = { coordinator: 2, bank: 3 };
    for (const [name, pid] of Object.entries(services)) {
      const ports = listeningPorts(pid);
      expect({ name, ports: ports.length }).toEqual({ name, ports: expectedPorts[name] });
      for (const port of ports) for (const [, chunks] of JUNK) await sendJunk(port, chunks);
      expect({ name, alive: alive(pid) }).toEqual({ name, alive: true });
    }
    expect(await health()).toMatchObject({
      status: 'ok',
      parties: { bank: { reachable: true }, ecommerce: { reachable: true } },
    });
    // Each database still works: a job writes the coordinator's trail and each party's own log.
    const example = JSON.parse(fs.readFileSync(path.join(state, 'example-job.json'), 'utf8')) as { parties: unknown };
    const created = await fetch(`${api}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'psi-cardinality', parties: example.parties }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const ended = await until(
      'the job ends',
      async () => {
        const job = (await (await fetch(`${api}/jobs/${id}`, { headers })).json()) as { state: string };
        return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job.state : undefined;
      },
      60_000,
    );
    expect(ended).toBe('succeeded');
    const trail = (await (await fetch(`${api}/jobs/${id}/audit`, { headers })).json()) as {
      verification: { valid: boolean };
    };
    expect(trail.verification.valid).toBe(true);
    for (const [, pid] of Object.entries(services)) expect(alive(pid)).toBe(true);
  });

  it('kill -9 of a party: the launcher names it at once, and /health shows it unreachable within seconds', async () => {
    expect((await health()).parties.bank.reachable).toBe(true);
    const pid = pidListeningOn(bankPort);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await until(
      'the launcher reports it',
      async () => (stderr.includes(`bank (pid ${pid})`) ? true : undefined),
      2_000,
    );
    expect(stderr).toMatch(new RegExp(`bank DIED: bank \\(pid ${pid}\\) was killed by SIGKILL`));
    const degraded = await until(
      '/health shows bank unreachable',
      async () => {
        const h = await health();
        return h.parties.bank.reachable ? undefined : h;
      },
      5_000,
    );
    expect(degraded.status).toBe('degraded');
    expect(degraded.parties.bank.error).toEqual(expect.any(String));
    expect(degraded.parties.ecommerce.reachable).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    // The launcher and the rest keep running.
    expect(launcher.exitCode).toBeNull();
  });
});
