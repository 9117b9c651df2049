/**
 * Validates docker-compose.yml with Debian's docker-compose (v1.29): the file must be accepted
 * (`docker-compose config -q`), and its resolved form must have the five services, with the
 * coordinator and both parties built from the same image.
 *
 * No Docker engine is needed: `config` only parses and normalises the file. Without
 * docker-compose on PATH the suite is skipped locally, but FAILS under CI (process.env.CI), where
 * .ci/run is expected to install it.
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SERVICES = ['postgres', 'nats', 'coordinator', 'bank', 'ecommerce', 'psi-worker'];
const APP_SERVICES = ['coordinator', 'bank', 'ecommerce', 'psi-worker'];
const MISSING_COMPOSE =
  "docker-compose is not on PATH: .ci/run must install Debian's docker-compose " +
  '(apt-get install -y docker-compose) so docker-compose.yml is validated in CI';

/** Environment without COMPOSE_* overrides, so exactly ./docker-compose.yml is read. */
function composeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('COMPOSE_')) delete env[key];
  return env;
}

function runCompose(args: string[]): SpawnSyncReturns<string> {
  return spawnSync('docker-compose', args, { cwd: ROOT, env: composeEnv(), encoding: 'utf8', timeout: 60_000 });
}

const probe = runCompose(['version']);
const hasCompose = !probe.error && probe.status === 0;

/** Runs docker-compose, failing loudly (not skipping) when it is missing. */
function compose(args: string[]): SpawnSyncReturns<string> {
  if (!hasCompose) throw new Error(MISSING_COMPOSE);
  return runCompose(args);
}

/**
 * The blocks of a top-level mapping in `docker-compose config` output, keyed by the child name.
 * That output is normalised YAML (2-space indent, block style), so indentation is enough.
 */
function childBlocks(text: string, topKey: string): Map<string, string[]> {
  const lines = text.split(/\r?\n/);
  const blocks = new Map<string, string[]>();
  const start = lines.findIndex((l) => l === `${topKey}:`);
  if (start < 0) return blocks;
  let current: string[] | undefined;
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) break; // next top-level key
    const child = /^ {2}([^\s:][^:]*):\s*(.*)$/.exec(line);
    if (child) {
      current = [];
      blocks.set(child[1], current);
    } else {
      current?.push(line);
    }
  }
  return blocks;
}

/** `build` context and `image` of one service block (lines indented under the service). */
function buildOf(block: string[]): { context?: string; image?: string } {
  let context: string | undefined;
  let image: string | undefined;
  block.forEach((line, i) => {
    const img = /^ {4}image:\s*(.+)$/.exec(line);
    if (img) image = img[1].trim();
    const shortBuild = /^ {4}build:\s*(\S.*)$/.exec(line);
    if (shortBuild) context = shortBuild[1].trim();
    if (/^ {4}build:\s*$/.test(line)) {
      for (const inner of block.slice(i + 1)) {
        if (!inner.startsWith('      ')) break;
        const ctx = /^ {6}context:\s*(.+)$/.exec(inner);
        if (ctx) context = ctx[1].trim();
      }
    }
  });
  return { context, image };
}

const maybe = hasCompose ? describe : process.env.CI ? describe : describe.skip;

maybe('docker-compose.yml', () => {
  it('has docker-compose available (installed by .ci/run under CI)', () => {
    if (!hasCompose) throw new Error(MISSING_COMPOSE);
    expect(hasCompose).toBe(true);
  });

  it('is accepted by `docker-compose config -q`', () => {
    const r = compose(['config', '-q']);
    expect(r.error).toBeUndefined();
    if (r.status !== 0) throw new Error(`docker-compose config -q exited ${r.status}:\n${r.stderr}`);
    expect(r.status).toBe(0);
  });

  describe('resolved configuration', () => {
    let services: Map<string, string[]>;

    beforeAll(() => {
      const r = compose(['config']);
      if (r.status !== 0) throw new Error(`docker-compose config exited ${r.status}:\n${r.stderr}`);
      services = childBlocks(r.stdout, 'services');
    });

    it('defines postgres, nats, coordinator, bank, ecommerce and the scalable psi-worker', () => {
      expect([...services.keys()].sort()).toEqual([...SERVICES].sort());
    });

    it('builds the coordinator, both parties and the PSI worker from the same image', () => {
      const builds = APP_SERVICES.map((name) => buildOf(services.get(name) ?? []));
      for (const b of builds) {
        expect(b.context).toBe(ROOT);
        expect(b.image).toBeTruthy();
      }
      expect(new Set(builds.map((b) => `${b.context}|${b.image}`)).size).toBe(1);
    });

    it('runs the parties with the party entry point and the coordinator with the image default', () => {
      for (const party of ['bank', 'ecommerce']) {
        expect(services.get(party)!.join('\n')).toMatch(/dist\/apps\/party\/src\/main\.js/);
      }
      expect(services.get('coordinator')!.some((l) => /^ {4}command:/.test(l))).toBe(false);
      expect(services.get('psi-worker')!.join('\n')).toMatch(/dist\/scripts\/psi-worker\.js/);
    });

    it("keeps each party's audit log in a volume of its own, apart from the coordinator's database", () => {
      for (const party of ['bank', 'ecommerce']) {
        const block = services.get(party)!.join('\n');
        expect(block).toMatch(/VFL_PGLITE_DIR: \/audit/);
        expect(block).toMatch(new RegExp(`${party}-audit:/audit`));
        expect(block).not.toMatch(/DATABASE_URL/);
      }
    });

    it('runs NATS with JetStream', () => {
      expect(services.get('nats')!.map((l) => l.trim())).toContain('- -js');
    });
  });
});
