/**
 * A scorecard pipeline through the product: the real coordinator and party processes over TCP,
 * each auditing into a scratch database on the PostgreSQL server. POST /jobs runs statistics →
 * binning → selection → split LR on WOE → scorecard as one job; GET /jobs/:id carries each step's
 * state, the IV/WOE table and the scorecard summary; bad pipelines get a 400 naming the step.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createScratchDatabase } from '@vfl/database';
import { loadPartyTable, writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import type { PipelineJobResult } from '@vfl/protocol';
import { launchFederation, Federation } from '../../scripts/federation-launcher';
import { runJob } from '../../scripts/job-client';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = () => undefined;

describe('scorecard pipeline over the services (real processes, PostgreSQL server)', () => {
  let work: string;
  let federation: Federation;
  const dbs: Record<string, { url: string; drop(): Promise<void> }> = {};
  const job = (extra: Record<string, unknown>) => ({
    model: 'pipeline',
    parties: [
      { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
    ],
    hyperparameters: { epochs: 4, batchSize: 256, learningRate: 0.05 },
    ...extra,
  });
  const post = (body: unknown) =>
    fetch(`${federation.coordinatorUrl}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-e2e-pipe-'));
    const data = await writeSyntheticVfl(path.join(work, 'gen'), {
      seed: 5,
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
      dbs[id] = await createScratchDatabase(SERVER_URL, `vfl_e2e_pipe_${id}_${process.pid}`);
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

  it('runs the whole chain as one job; the result carries step states, the IV/WOE table and the scorecard', async () => {
    const { job: done } = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      job({
        pipeline: ['statistics', 'binning', 'selection', 'split-lr', 'scorecard'],
        binning: { method: 'chimerge', maxBins: 5, monotonic: true },
        selection: { minIv: 0.001 },
      }),
      quiet,
    );
    expect(done.state).toBe('succeeded');
    const result = done.result as PipelineJobResult;
    expect(result.steps.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const shop = result.binning!.find((p) => p.partyId === 'ecommerce')!;
    expect(shop.features.length).toBeGreaterThan(0);
    for (const f of shop.features) {
      expect(f.woe!.length).toBe(f.bins);
      expect(Object.keys(f)).not.toContain('events');
    }
    expect(result.selection!.some((c) => c.kept && c.partyId === 'ecommerce')).toBe(true);
    expect(result.splitLr!.validation.auc).toBeGreaterThan(0.6);
    expect(result.scorecard!.validationAuc).toBeCloseTo(result.splitLr!.validation.auc, 6);
    expect(result.manifest.model).toBe('pipeline');

    // POST /jobs/:id/predict scores applicants with the scorecard: points, a higher score a lower risk.
    const ids = (await loadPartyTable(path.join(work, 'bank', 'bank.csv'), { labelColumn: BANK_LABEL_COLUMN })).ids;
    const predicted = await fetch(`${federation.coordinatorUrl}/jobs/${done.id}/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ids.slice(0, 40) }),
    });
    expect(predicted.status).toBe(200);
    const { scores } = (await predicted.json()) as { scores: { id: string; score: number }[] };
    expect(scores).toHaveLength(40);
    const { offset } = result.scorecard!;
    for (const s of scores) expect(Math.abs(s.score - offset)).toBeLessThan(400);
  }, 300_000);

  it('refuses a bad pipeline with a 400 naming the step or field', async () => {
    const missing = await post(job({ pipeline: ['statistics', 'scorecard'] }));
    expect(missing.status).toBe(400);
    expect(JSON.stringify(await missing.json())).toContain(
      'pipeline[1]: step \\"scorecard\\" uses the output of step \\"binning\\", which the pipeline does not run',
    );
    const bins = await post(job({ pipeline: ['binning'], binning: { maxBins: 1 } }));
    expect(bins.status).toBe(400);
    expect(JSON.stringify(await bins.json())).toContain('binning.maxBins');
    const stray = await post({ ...job({}), model: 'split-lr', pipeline: ['binning'] });
    expect(stray.status).toBe(400);
    expect(JSON.stringify(await stray.json())).toContain('pipeline: only a pipeline job takes steps');
  });
});
