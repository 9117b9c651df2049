/**
 * SecureBoost through the product: the real coordinator and party processes over TCP, each
 * auditing into a scratch database of its own on the PostgreSQL server (dropped after). A small
 * job trains through POST /jobs, its signed manifest verifies, the audit trail cross-checks against
 * both parties' logs, POST /jobs/:id/predict scores through the split trees, and bad settings are
 * refused naming the field.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createScratchDatabase } from '@vfl/database';
import { loadPartyTable, writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { binaryMetrics, trainValidationSplit } from '@vfl/ml';
import { launchFederation, Federation } from '../../scripts/federation-launcher';
import { runJob } from '../../scripts/job-client';
import { type SecureBoostJobResult, verifyModelManifest } from '@vfl/protocol';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = () => undefined;

describe('SecureBoost over the services (real processes, PostgreSQL server)', () => {
  let work: string;
  let federation: Federation;
  const dbs: Record<string, { url: string; drop(): Promise<void> }> = {};
  const job = (secureboost: Record<string, unknown>) => ({
    model: 'secureboost',
    parties: [
      { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
    ],
    secureboost,
  });
  const post = (body: unknown, p: string) =>
    fetch(`${federation.coordinatorUrl}${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-e2e-sb-'));
    const data = await writeSyntheticVfl(path.join(work, 'gen'), {
      seed: 3,
      bankRows: 1500,
      ecommerceRows: 1400,
      overlap: 0.8,
    });
    for (const [dir, file] of [
      ['bank', data.bankPath],
      ['ecommerce', data.ecommercePath],
    ]) {
      fs.mkdirSync(path.join(work, dir));
      fs.copyFileSync(file, path.join(work, dir, `${dir}.csv`));
    }
    for (const id of ['coordinator', 'bank', 'ecommerce'])
      dbs[id] = await createScratchDatabase(SERVER_URL, `vfl_e2e_sb_${id}_${process.pid}`);
    federation = await launchFederation({
      workDir: work,
      databaseUrl: dbs.coordinator.url,
      parties: [
        { partyId: 'bank', role: 'label', dataRoot: path.join(work, 'bank'), databaseUrl: dbs.bank.url },
        {
          partyId: 'ecommerce',
          role: 'feature',
          dataRoot: path.join(work, 'ecommerce'),
          databaseUrl: dbs.ecommerce.url,
        },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await federation?.stop();
    for (const db of Object.values(dbs)) await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('trains through the API: per-tree reports, a signed manifest, and a trail both parties countersign', async () => {
    const { job: trained } = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      job({ trees: 3, maxDepth: 3, seed: 11 }),
      quiet,
    );
    expect(trained.state).toBe('succeeded');
    const result = trained.result as SecureBoostJobResult;
    expect(result.model).toBe('secureboost');
    expect(result.epochs).toHaveLength(3);
    expect(result.validation.auc).toBeGreaterThan(0.6);
    expect(result.labelOnly.validation.auc).toBeGreaterThan(0.5);
    const { publicKey } = (await (await fetch(`${federation.coordinatorUrl}/health`)).json()) as { publicKey: string };
    expect(result.manifest.model).toBe('secureboost');
    expect(verifyModelManifest(result.manifest, { coordinatorPublicKey: publicKey })).toEqual({
      valid: true,
      problems: [],
    });
    const run = spawnSync(
      process.execPath,
      [
        path.resolve(__dirname, '../../dist/scripts/vfl.js'),
        ...[
          'audit',
          'verify',
          '--job',
          trained.id,
          '--party',
          `bank=${dbs.bank.url}`,
          '--party',
          `ecommerce=${dbs.ecommerce.url}`,
          '--json',
        ],
      ],
      { env: { ...process.env, DATABASE_URL: dbs.coordinator.url }, encoding: 'utf8' },
    );
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({ valid: true, firstBroken: null });

    // POST /jobs/:id/predict on the validation IDs gives back the job's own validation metrics.
    const bank = await loadPartyTable(path.join(work, 'bank', 'bank.csv'), { labelColumn: BANK_LABEL_COLUMN });
    const shopIds = new Set((await loadPartyTable(path.join(work, 'ecommerce', 'ecommerce.csv'))).ids);
    const shared = bank.ids.filter((id) => shopIds.has(id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const ids = Array.from(trainValidationSplit(shared.length, 0.3, 11).validation, (r) => shared[r]);
    const res = await post({ ids }, `/jobs/${trained.id}/predict`);
    expect(res.status).toBe(200);
    const out = (await res.json()) as { scores: { id: string; score: number }[] };
    expect(out.scores.map((s) => s.id)).toEqual(ids);
    const labels = ids.map((id) => bank.labels![bank.ids.indexOf(id)]);
    const auc = binaryMetrics(
      out.scores.map((s) => s.score),
      labels,
    ).auc;
    expect(auc).toBeCloseTo(result.validation.auc, 12);
  }, 300_000);

  it('refuses bad settings naming the field, and a settings object on another model', async () => {
    const bad = await post(job({ maxBins: 1000, learningRate: 0, extra: 1 }), '/jobs');
    expect(bad.status).toBe(400);
    const text = JSON.stringify(await bad.json());
    expect(text).toContain('secureboost.maxBins');
    expect(text).toContain('secureboost.learningRate');
    expect(text).toContain('extra');
    const misplaced = await post({ ...job({}), model: 'split-lr' }, '/jobs');
    expect(misplaced.status).toBe(400);
    expect(JSON.stringify(await misplaced.json())).toContain('secureboost: only a secureboost job');
  });
});
