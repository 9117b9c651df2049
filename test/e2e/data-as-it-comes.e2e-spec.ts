/**
 * Data as it comes, through booted services: POST /jobs/validate and `vfl job check` list every
 * problem of every party at once (no cell content), a declared preprocessing clears them, and a job
 * with text columns and gaps trains through the API and reports its uplift with an interval.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createScratchDatabase } from '@vfl/database';
import { launchFederation, Federation } from '../../scripts/federation-launcher';

const CLI = path.resolve(__dirname, '../../bin/vfl.js');
const FIXTURES = path.resolve(__dirname, '../fixtures/data-as-it-comes');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('data as it comes, through the API and the CLI', () => {
  let federation: Federation;
  let work: string;
  const scratch: { drop(): Promise<void> }[] = [];
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${federation.coordinatorUrl}${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const job = (bank: object, clinic: object, hyperparameters?: object) => ({
    model: 'split-lr',
    parties: [
      { partyId: 'bank', role: 'label', data: { path: 'breast_text_guest.csv', labelColumn: 'y', ...bank } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'breast_text_host.csv', ...clinic } },
    ],
    ...(hyperparameters ? { hyperparameters } : {}),
  });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-data-e2e-'));
    // Each party keeps its own audit log in a database of its own on the server.
    const [bankDb, shopDb] = await Promise.all(
      ['bank', 'shop'].map((p) => createScratchDatabase(DATABASE_URL, `vfl_data_e2e_${p}_${process.pid}`)),
    );
    scratch.push(bankDb, shopDb);
    federation = await launchFederation({
      workDir: work,
      databaseUrl: DATABASE_URL,
      parties: [
        { partyId: 'bank', role: 'label', dataRoot: FIXTURES, databaseUrl: bankDb.url },
        { partyId: 'ecommerce', role: 'feature', dataRoot: FIXTURES, databaseUrl: shopDb.url },
      ],
    });
  }, 180_000);
  afterAll(async () => {
    await federation?.stop();
    await Promise.all(scratch.map((db) => db.drop()));
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('POST /jobs/validate lists every problem of both parties in one answer, without cell contents', async () => {
    const res = await post('/jobs/validate', job({}, {}));
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.text) as {
      ok: boolean;
      problems: string[];
      parties: Record<string, { rows: number }>;
    };
    expect(answer.ok).toBe(false);
    expect(answer.problems).toEqual([
      expect.stringMatching(/^bank: breast_text_guest.csv, column "size_band": 540 times .*not a number/),
      expect.stringMatching(/^ecommerce: breast_text_host.csv, column "texture_grade": 541 times .*not a number/),
      expect.stringMatching(/^ecommerce: breast_text_host.csv, column "clinic": 516 times .*not a number/),
    ]);
    for (const value of ['very large', 'Leeds', 'c00075']) expect(res.text).not.toContain(value);
  });

  it('vfl job check FILE prints them and exits 1; with the data declared, no problems and exit 0', () => {
    const env = { ...process.env, VFL_API_URL: federation.coordinatorUrl, VFL_API_KEY: federation.adminKey };
    const bad = path.join(work, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify(job({}, {})));
    const failed = spawnSync(process.execPath, [CLI, 'job', 'check', bad], { env, encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('3 problems:');
    expect(failed.stdout).not.toContain('Leeds');
    expect(failed.stdout).toContain('ecommerce: breast_text_host.csv, column "clinic"');
    const good = path.join(work, 'good.json');
    fs.writeFileSync(good, JSON.stringify(job({ detectCategorical: true }, { detectCategorical: true })));
    const passed = spawnSync(process.execPath, [CLI, 'job', 'check', good], { env, encoding: 'utf8' });
    expect(passed.stdout).toContain('no problems (bank 540 rows, ecommerce 541 rows)');
    expect(passed.status).toBe(0);
  });

  it('refuses a preprocessing declaration that cannot work, naming the field (400)', async () => {
    const res = await post(
      '/jobs/validate',
      job({ missing: 'constant' }, { columns: { clinic: { encoding: 'hash' } } }),
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain('parties.0.data.missing: \\"constant\\" needs a fillValue');
    expect(res.text).toContain('parties.1.data.columns.clinic.encoding');
  });

  it('trains a job with text columns and gaps through the API, with the uplift and its interval', async () => {
    const res = await post(
      '/jobs',
      job(
        { columns: { size_band: { encoding: 'ordinal', levels: ['small', 'medium', 'large', 'very large'] } } },
        { detectCategorical: true, missing: 'median', missingIndicator: true },
        { learningRate: 0.05 },
      ),
    );
    expect(res.status).toBe(201);
    const { id } = JSON.parse(res.text) as { id: string };
    const deadline = Date.now() + 240_000;
    let view: {
      state: string;
      error?: string;
      result?: { validation: { auc: number }; labelOnly: { uplift?: { low: number; high: number } } };
    };
    for (;;) {
      view = (await (
        await fetch(`${federation.coordinatorUrl}/jobs/${id}`, {
          headers: { authorization: `Bearer ${federation.adminKey}` },
        })
      ).json()) as typeof view;
      if (['succeeded', 'failed', 'cancelled'].includes(view.state) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(view.error ?? null).toBeNull();
    expect(view.state).toBe('succeeded');
    expect(view.result!.validation.auc).toBeGreaterThan(0.95);
    expect(view.result!.labelOnly.uplift!.low).toBeLessThan(view.result!.labelOnly.uplift!.high);
  }, 300_000);
});
