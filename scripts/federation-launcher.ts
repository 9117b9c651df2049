/**
 * Starts a coordinator and its parties as separate OS processes (the compiled apps in dist/),
 * waits until each is ready, and stops them again. Used by the demo and by the e2e tests.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { nodeRuntimeFlags } from './node-runtime';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { issueApiKey } from '@vfl/access';
import { SigningIdentity } from '@vfl/crypto';
import { freePort } from '@vfl/database';

export interface LaunchedParty {
  readonly partyId: string;
  readonly role: 'label' | 'feature';
  readonly dataRoot: string;
  /** The party's own audit database; unset, the party starts an embedded one (in `pgliteDir`, or in memory). */
  readonly databaseUrl?: string;
  readonly pgliteDir?: string;
}

export interface LaunchOptions {
  readonly parties: readonly LaunchedParty[];
  readonly transport?: 'tcp' | 'nats';
  readonly natsUrl?: string;
  readonly databaseUrl?: string;
  readonly workDir: string;
  /** Parties listed in the coordinator's registry but not started (to test a party that is down). */
  readonly absentParties?: readonly string[];
  /** Extra environment for the coordinator (VFL_MAX_CONCURRENT_JOBS, ...). */
  readonly coordinatorEnv?: Record<string, string>;
  /** Extra environment for every party. */
  readonly partyEnv?: Record<string, string>;
  /** Fixed ports (coordinator, then parties by id); free ports are picked otherwise. */
  readonly ports?: { coordinator?: number; parties?: Record<string, number> };
  /** The first admin API key; a fresh one otherwise. */
  readonly adminKey?: string;
  /**
   * Called at once when a service exits that was not asked to stop (a crash, kill -9, the OOM
   * killer), with a message naming it, how it ended and the end of its log.
   */
  readonly onUnexpectedExit?: (exit: ServiceExit) => void;
}

export interface ServiceExit {
  /** 'coordinator' or a party id. */
  readonly name: string;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** One line and the log's tail, for a console. */
  readonly message: string;
}

export interface Federation {
  readonly coordinatorUrl: string;
  /** The admin API key the coordinator was started with. */
  readonly adminKey: string;
  /** Each started party's HTTP base URL (health and readiness). */
  readonly partyUrls: Record<string, string>;
  /** Each started party's command port (TCP). */
  readonly partyPorts: Record<string, number>;
  /** The seed the coordinator signs with (its parties pin the public key): for tests that act as the coordinator. */
  readonly coordinatorSigningKey: string;
  readonly logDir: string;
  /** The OS process id of a running service ('coordinator' or a party id). */
  pid(name: string): number | undefined;
  stopParty(partyId: string): Promise<void>;
  /** Starts a stopped party again, with the same port, key, data, models and audit database. */
  startParty(partyId: string): Promise<void>;
  /** kill -9 of a service ('coordinator' or a party id), awaited; its exit is expected (no onUnexpectedExit). */
  kill(name: string): Promise<void>;
  /** Starts a stopped or killed service again ('coordinator' or a party id) with its same settings, and waits until it is ready. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

// Compiled: this file is dist/scripts/*.js. From the TS sources (jest), the build sits in dist/.
const DIST =
  path.basename(path.resolve(__dirname, '..')) === 'dist'
    ? path.resolve(__dirname, '..')
    : path.resolve(__dirname, '../dist');

export async function launchFederation(o: LaunchOptions): Promise<Federation> {
  const coordinatorMain = path.join(DIST, 'apps/coordinator/src/main.js');
  const partyMain = path.join(DIST, 'apps/party/src/main.js');
  for (const f of [coordinatorMain, partyMain]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run "npm run build" first`);
  }
  const logDir = path.join(o.workDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const names = [...o.parties.map((p) => p.partyId), ...(o.absentParties ?? [])];
  // Every port distinct: the OS may hand a just-released port out again, and two services of
  // this federation would then race for it (EADDRINUSE at start-up).
  const taken = new Set<number>([
    ...Object.values(o.ports?.parties ?? {}),
    ...(o.ports?.coordinator ? [o.ports.coordinator] : []),
  ]);
  const pickPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  const ports = new Map<string, number>();
  for (const id of names) ports.set(id, o.ports?.parties?.[id] ?? (await pickPort()));
  // Every party gets a signing key, and every service pins every party's public key.
  const identities = new Map(names.map((id) => [id, randomBytes(32).toString('hex')]));
  const registry = names
    .map(
      (id) => `${id}@127.0.0.1:${ports.get(id)}#${SigningIdentity.fromSeedHex(id, identities.get(id)!).publicKeyHex}`,
    )
    .join(',');
  // The coordinator signs every command; every party pins its public key.
  const coordinatorSeed =
    o.coordinatorEnv?.VFL_SIGNING_KEY ?? process.env.VFL_SIGNING_KEY ?? randomBytes(32).toString('hex');
  const coordinatorKey = SigningIdentity.fromSeedHex('coordinator', coordinatorSeed).publicKeyHex;
  const transport = o.transport ?? 'tcp';
  const common = {
    NO_COLOR: '1',
    VFL_TRANSPORT: transport,
    NATS_URL: o.natsUrl ?? 'nats://127.0.0.1:4222',
    VFL_PARTIES: registry,
  };
  const children = new Map<string, ChildProcess>();
  /** Children asked to stop: their exit is expected. */
  const stopping = new Set<ChildProcess>();

  const start = (name: string, main: string, env: Record<string, string>) => {
    const logFile = path.join(logDir, `${name}.log`);
    const log = fs.openSync(logFile, 'w');
    const child = spawn(process.execPath, [...nodeRuntimeFlags(), main], {
      env: { ...process.env, ...common, ...env },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    children.set(name, child);
    child.once('exit', (code, signal) => {
      if (stopping.has(child)) return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      o.onUnexpectedExit?.({
        name,
        pid: child.pid,
        code,
        signal,
        message: `${name} (pid ${child.pid}) ${how}; the end of ${logFile}:\n${tail(logFile, 10)}`,
      });
    });
    return child;
  };

  const stopChild = async (name: string) => {
    const child = children.get(name);
    if (child) stopping.add(child);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const stop = async () => {
    await Promise.all([...children.keys()].map(stopChild));
  };

  const partyUrls: Record<string, string> = {};
  const partyEnvs = new Map<string, Record<string, string>>();
  const startParty = async (partyId: string) => {
    const env = partyEnvs.get(partyId);
    if (!env) throw new Error(`no party ${partyId} in this federation`);
    const child = start(partyId, partyMain, env);
    await (transport === 'tcp'
      ? waitFor(() => portOpen(ports.get(partyId)!), child, logDir, partyId)
      : waitFor(() => logSays(logDir, partyId, 'listening on'), child, logDir, partyId));
  };
  try {
    for (const p of o.parties) {
      const httpPort = await pickPort();
      partyUrls[p.partyId] = `http://127.0.0.1:${httpPort}`;
      partyEnvs.set(p.partyId, {
        PARTY_HTTP_PORT: String(httpPort),
        PARTY_ID: p.partyId,
        PARTY_ROLE: p.role,
        PARTY_PORT: String(ports.get(p.partyId)),
        PARTY_SIGNING_KEY: identities.get(p.partyId)!,
        VFL_COORDINATOR_KEY: coordinatorKey,
        VFL_DATA_ROOT: p.dataRoot,
        VFL_MODEL_DIR: path.join(o.workDir, 'models', p.partyId),
        // Set even when empty: a party must not inherit the coordinator's database settings.
        DATABASE_URL: p.databaseUrl ?? '',
        VFL_PGLITE_DIR: p.pgliteDir ?? '',
        ...o.partyEnv,
      });
      start(p.partyId, partyMain, partyEnvs.get(p.partyId)!);
    }
    const coordinatorPort = o.ports?.coordinator ?? (await pickPort());
    const adminKey = o.adminKey ?? issueApiKey().key;
    const coordinatorEnv = {
      PORT: String(coordinatorPort),
      VFL_ADMIN_KEY: adminKey,
      VFL_SIGNING_KEY: coordinatorSeed,
      ...o.coordinatorEnv,
      ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
    };
    start('coordinator', coordinatorMain, coordinatorEnv);
    const coordinatorUrl = `http://127.0.0.1:${coordinatorPort}`;
    const coordinatorReady = (child: ChildProcess) =>
      waitFor(
        async () => (await fetch(`${coordinatorUrl}/health`).catch(() => null))?.ok === true,
        child,
        logDir,
        'coordinator',
      );
    const kill = async (name: string) => {
      const child = children.get(name);
      if (!child) throw new Error(`no service ${name} in this federation`);
      stopping.add(child);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    };
    const restart = async (name: string) => {
      const child = children.get(name);
      if (child && child.exitCode === null && child.signalCode === null)
        throw new Error(`${name} is still running: stop or kill it first`);
      if (name === 'coordinator') await coordinatorReady(start('coordinator', coordinatorMain, coordinatorEnv));
      else await startParty(name);
    };
    await Promise.all([
      ...o.parties.map((p) =>
        transport === 'tcp'
          ? waitFor(() => portOpen(ports.get(p.partyId)!), children.get(p.partyId)!, logDir, p.partyId)
          : waitFor(() => logSays(logDir, p.partyId, 'listening on'), children.get(p.partyId)!, logDir, p.partyId),
      ),
      coordinatorReady(children.get('coordinator')!),
    ]);
    const partyPorts = Object.fromEntries(o.parties.map((p) => [p.partyId, ports.get(p.partyId)!]));
    return {
      coordinatorUrl,
      adminKey,
      partyUrls,
      partyPorts,
      coordinatorSigningKey: coordinatorSeed,
      logDir,
      pid: (name) => {
        const child = children.get(name);
        return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
      },
      stop,
      stopParty: stopChild,
      startParty,
      kill,
      restart,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitFor(
  ready: () => Promise<boolean>,
  child: ChildProcess,
  logDir: string,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `${name} exited with code ${child.exitCode} while starting:\n${tail(path.join(logDir, `${name}.log`))}`,
      );
    }
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${name} did not become ready within ${timeoutMs} ms:\n${tail(path.join(logDir, `${name}.log`))}`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function logSays(logDir: string, name: string, text: string): Promise<boolean> {
  const file = path.join(logDir, `${name}.log`);
  return fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text);
}

export function tail(file: string, lines = 20): string {
  if (!fs.existsSync(file)) return '(no log)';
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
