/**
 * PSI work on worker processes in other network namespaces (hosts the test makes itself with
 * `ip netns` and veth pairs) through a NATS JetStream work queue on a nats-server of its own:
 * the same bytes as the in-process engine, and a worker killed mid-run loses nothing (JetStream
 * redelivers its unacknowledged chunk). Needs root (ip netns), nats-server on PATH and the build
 * (`npm run build`: the workers run dist/scripts/psi-worker.js).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, NatsConnection } from 'nats';
import { InlinePsiEngine, SodiumX25519Group } from '@vfl/crypto';
import { ensurePsiWorkQueue, NatsPsiEngine } from '../src/psi-work-queue';

const WORKER = path.resolve(__dirname, '../../../dist/scripts/psi-worker.js');
const TAG = `vq${process.pid % 10000}`;
const HOSTS = [1, 2, 3].map((k) => ({ ns: `${TAG}-h${k}`, host: `${TAG}h${k}`, peer: `${TAG}p${k}`, k }));
const SUBNET = 60 + (process.pid % 100);
const ACK_WAIT_MS = 1500;

function sh(...args: string[]): void {
  execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('PSI work on worker hosts through a NATS JetStream work queue', () => {
  let server: ChildProcess;
  let nc: NatsConnection;
  let port: number;
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-psi-js-'));
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(WORKER)) throw new Error(`${WORKER} is missing: run npm run build first`);
    port = await freePort();
    server = spawn('nats-server', ['-js', '-sd', store, '-a', '0.0.0.0', '-p', String(port)], { stdio: 'ignore' });
    for (const h of HOSTS) {
      sh('ip', 'netns', 'add', h.ns);
      sh('ip', 'link', 'add', h.host, 'type', 'veth', 'peer', 'name', h.peer);
      sh('ip', 'link', 'set', h.peer, 'netns', h.ns);
      sh('ip', 'addr', 'add', `10.${SUBNET}.${h.k}.1/24`, 'dev', h.host);
      sh('ip', 'link', 'set', h.host, 'up');
      sh('ip', 'netns', 'exec', h.ns, 'ip', 'addr', 'add', `10.${SUBNET}.${h.k}.2/24`, 'dev', h.peer);
      sh('ip', 'netns', 'exec', h.ns, 'ip', 'link', 'set', h.peer, 'up');
      sh('ip', 'netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    for (let attempt = 0; ; attempt++) {
      try {
        nc = await connect({ servers: `nats://127.0.0.1:${port}` });
        break;
      } catch (e) {
        if (attempt > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await ensurePsiWorkQueue(nc, { ackWaitMs: ACK_WAIT_MS });
    // One worker per namespace, reaching the server over its veth link only.
    for (const h of HOSTS) {
      const w = spawn('ip', ['netns', 'exec', h.ns, process.execPath, WORKER], {
        env: { ...process.env, NATS_URL: `nats://10.${SUBNET}.${h.k}.1:${port}` },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      workers.push(w);
      await new Promise<void>((resolve, reject) => {
        w.stdout.once('data', () => resolve());
        w.once('exit', (code) => reject(new Error(`worker in ${h.ns} exited with ${code}`)));
      });
    }
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await nc?.close();
    server?.kill();
    for (const h of HOSTS) {
      try {
        sh('ip', 'link', 'del', h.host);
      } catch {
        /* already gone with its namespace */
      }
      try {
        sh('ip', 'netns', 'del', h.ns);
      } catch {
        /* never created */
      }
    }
    fs.rmSync(store, { recursive: true, force: true });
  });

  const ids = Array.from({ length: 6000 }, (_, i) => `1${3_000_000_000 + i}`);
  const dst = new TextEncoder().encode('vfl-ecdh-psi-v2|job=work-queue-test');
  const reference = new InlinePsiEngine(new SodiumX25519Group());
  const scalar = reference.randomScalar();

  it('gives the same hash-and-blind and blind bytes as the in-process engine, with three worker hosts', async () => {
    const engine = new NatsPsiEngine(nc, { chunkElements: 250 });
    try {
      const blinded = await engine.hashAndBlind(scalar, ids, dst);
      expect(Buffer.from(blinded).equals(Buffer.from(await reference.hashAndBlind(scalar, ids, dst)))).toBe(true);
      const other = reference.randomScalar();
      const twice = await engine.blind(other, blinded);
      expect(Buffer.from(twice).equals(Buffer.from(await reference.blind(other, blinded)))).toBe(true);
    } finally {
      await engine.close();
    }
  }, 120_000);

  it('loses nothing when a worker host is killed mid-run', async () => {
    const engine = new NatsPsiEngine(nc, { chunkElements: 100 });
    let killed = false;
    try {
      const run = engine.hashAndBlind(scalar, ids, dst, (done) => {
        if (!killed && done >= 1000) {
          killed = true;
          workers[0].kill('SIGKILL');
        }
      });
      const blinded = await run;
      expect(killed).toBe(true);
      expect(workers[0].exitCode !== null || workers[0].signalCode !== null).toBe(true);
      expect(Buffer.from(blinded).equals(Buffer.from(await reference.hashAndBlind(scalar, ids, dst)))).toBe(true);
    } finally {
      await engine.close();
    }
  }, 120_000);

  it('refuses a peer element that is not canonical, naming its index, through the workers', async () => {
    const engine = new NatsPsiEngine(nc, { chunkElements: 100 });
    try {
      const bad = new Uint8Array(32 * 150);
      bad.set(await reference.hashAndBlind(scalar, ids.slice(0, 150), dst));
      bad[32 * 120 + 31] = 0x80;
      await expect(engine.blind(scalar, bad)).rejects.toThrow('peer element 120');
    } finally {
      await engine.close();
    }
  }, 60_000);
});
