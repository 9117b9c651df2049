/**
 * End to end for the objectives beyond a binary label (issue 21): the real coordinator and party
 * processes over TCP, auditing into scratch databases on the PostgreSQL server. On the diabetes
 * fixtures (test/fixtures/objectives) a split-LR regression job and a 4-class job train through
 * POST /jobs and score new IDs through POST /jobs/:id/predict; a binary job on the 4-class file
 * fails naming the kind of label, and a bad objective is refused at the edge.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createScratchDatabase } from '@vfl/database';
import type { SecureBoostRegressionResult, TargetJobResult } from '@vfl/protocol';
import { launchFederation, Federation } from '../../scripts/federation-launcher';
import { runJob } from '../../scripts/job-client';
import { CHROMIUM, launchChromium } from './support/dashboard-browser';
import { pageSteps, signIn } from './support/dashboard-fixture';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const FIXTURES = path.resolve(__dirname, '../fixtures/objectives');
const quiet = () => undefined;

describe('objectives over the services: regression and 4 classes (real processes, PostgreSQL server)', () => {
  let work: string;
  let federation: Federation;
  const dbs: Record<string, { url: string; drop(): Promise<void> }> = {};

  const job = (guest: string, objective?: string, model = 'split-lr') => ({
    model,
    ...(objective ? { objective } : {}),
    parties: [
      { partyId: 'bank', role: 'label', data: { path: guest, labelColumn: 'y' } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'diabetes_host.csv' } },
    ],
    hyperparameters: { epochs: 5, batchSize: 64, learningRate: 0.05, seed: 3 },
  });
  const post = (body: unknown, p: string) =>
    fetch(`${federation.coordinatorUrl}${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${federation.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-e2e-objectives-'));
    for (const [dir, files] of [
      ['bank', ['diabetes_guest.csv', 'diabetes4_guest.csv']],
      ['ecommerce', ['diabetes_host.csv']],
    ] as const) {
      fs.mkdirSync(path.join(work, dir));
      for (const f of files) fs.copyFileSync(path.join(FIXTURES, f), path.join(work, dir, f));
    }
    for (const id of ['coordinator', 'bank', 'ecommerce'])
      dbs[id] = await createScratchDatabase(SERVER_URL, `vfl_e2e_obj_${id}_${process.pid}`);
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

  const boost = (objective: string | undefined, secureboost: Record<string, unknown>) => ({
    ...job('diabetes_guest.csv', objective, 'secureboost'),
    hyperparameters: undefined,
    secureboost,
  });

  it('refuses an unknown objective, one the model does not train, and a contradicting boosting objective', async () => {
    const unknown = await post(job('diabetes_guest.csv', 'ordinal'), '/jobs');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('objective must be one of binary, regression, multiclass');
    const multiclass = await post(boost('multiclass', {}), '/jobs');
    expect(multiclass.status).toBe(400);
    expect(JSON.stringify(await multiclass.json())).toContain(
      'objective: model secureboost takes objective binary or regression',
    );
    for (const [objective, given] of [
      ['regression', 'binary:logistic'],
      [undefined, 'reg:squarederror'],
    ] as const) {
      const res = await post(boost(objective, { objective: given }), '/jobs');
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain(
        `secureboost.objective: \\"${given}\\" contradicts objective \\"${objective ?? 'binary'}\\"`,
      );
    }
    const weighted = await post(boost('regression', { positiveWeight: 'balanced' }), '/jobs');
    expect(weighted.status).toBe(400);
    expect(JSON.stringify(await weighted.json())).toContain(
      'secureboost.positiveWeight: weights the positive class of a binary label, not a regression target',
    );
  });

  it('boosts trees on the continuous target: RMSE, MAE, R² per tree and at the end; predicts values', async () => {
    const { job: trained } = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      boost('regression', { trees: 3, maxDepth: 3, learningRate: 0.3, seed: 3 }),
      quiet,
    );
    expect(trained.state).toBe('succeeded');
    const result = trained.result as unknown as SecureBoostRegressionResult;
    expect(result).toMatchObject({ model: 'secureboost', objective: 'regression', intersection: 432, trees: 3 });
    if (result.validation.objective !== 'regression' || result.labelOnly.validation.objective !== 'regression')
      throw new Error('not regression');
    expect(result.validation.r2).toBeGreaterThan(0.2);
    expect(result.validation.rmse).toBeGreaterThan(0);
    expect(result.validation.mae).toBeGreaterThan(0);
    expect(result.labelOnly.validation.r2).toEqual(expect.any(Number));
    expect(trained.epochs).toHaveLength(3);
    for (const e of trained.epochs) {
      expect(e.validationR2).toEqual(expect.any(Number));
      expect(e.validationRmse).toEqual(expect.any(Number));
    }
    const res = await post({ ids: ['P0001', 'P0002', 'P0003'] }, `/jobs/${trained.id}/predict`);
    expect(res.status).toBe(200);
    const out = (await res.json()) as { objective: string; scores: { id: string; value: number }[] };
    expect(out.objective).toBe('regression');
    for (const s of out.scores) expect(s.value).toBeGreaterThan(0);
    if (fs.existsSync(CHROMIUM) || process.env.CI) await dashboardShowsRegression(trained.id, result);
  }, 300_000);

  /** The dashboard draws the run by tree from the regression fields: MSE and R² charts, the R² headline, no ROC. */
  async function dashboardShowsRegression(id: string, result: SecureBoostRegressionResult): Promise<void> {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await signIn(page, federation.coordinatorUrl, federation.adminKey);
      await pageSteps(page).openJob(id);
      await page.locator('#chart-r2').waitFor();
      if (result.validation.objective !== 'regression' || result.labelOnly.validation.objective !== 'regression')
        throw new Error('not regression');
      expect(await pageSteps(page).text('#uplift-headline')).toContain(
        `validation R² from ${result.labelOnly.validation.r2.toFixed(3)} (bank alone) to ${result.validation.r2.toFixed(3)}`,
      );
      const sets = await page.evaluate(() => {
        type ChartLike = { data: { datasets: { label: string; data: { y: number }[] }[] } };
        const get = (chart: string) =>
          (window as unknown as { Chart: { getChart(c: Element): ChartLike } }).Chart.getChart(
            document.getElementById(chart)!,
          );
        return [get('chart-loss'), get('chart-r2')].map((c) => c.data.datasets[0]);
      });
      expect(sets.map((d) => d.label)).toEqual(['validation mean squared error', 'validation R²']);
      expect(sets[1].data.map((p) => p.y)).toEqual(result.epochs.map((e) => e.validation.r2));
      for (const binaryOnly of ['uplift', 'confusion', 'ks', 'lift'])
        expect(await page.locator(`#panel-${binaryOnly}`).isHidden()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }

  it('fails a binary job on a 4-class label, naming the kind of label and the objective that fits', async () => {
    const { job: failed } = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      job('diabetes4_guest.csv'),
      quiet,
    );
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain('model split-lr takes a binary label (0/1 or -1/+1)');
    expect(failed.error).toContain('4 distinct values, the whole numbers 0 to 3: objective "multiclass" fits');
  }, 120_000);

  it('trains linear regression and predicts values in the target units', async () => {
    const { job: trained } = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      job('diabetes_guest.csv', 'regression'),
      quiet,
    );
    expect(trained.state).toBe('succeeded');
    const result = trained.result as unknown as TargetJobResult;
    expect(result).toMatchObject({ model: 'split-lr', objective: 'regression', intersection: 432 });
    if (result.validation.objective !== 'regression') throw new Error('not regression');
    expect(result.validation.r2).toBeGreaterThan(0.3);
    expect(trained.epochs[0].validationR2).toEqual(expect.any(Number));
    const res = await post({ ids: ['P0001', 'P0002', 'P0003'] }, `/jobs/${trained.id}/predict`);
    expect(res.status).toBe(200);
    const out = (await res.json()) as { objective: string; scores: { id: string; value: number }[] };
    expect(out.objective).toBe('regression');
    for (const s of out.scores) expect(s.value).toBeGreaterThan(0);
  }, 300_000);

  it('trains 4 one-vs-rest heads and predicts every class probability', async () => {
    const { job: trained } = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      job('diabetes4_guest.csv', 'multiclass'),
      quiet,
    );
    expect(trained.state).toBe('succeeded');
    const result = trained.result as unknown as TargetJobResult;
    expect(result).toMatchObject({ objective: 'multiclass', classes: 4 });
    if (result.validation.objective !== 'multiclass') throw new Error('not multiclass');
    expect(result.validation.accuracy).toBeGreaterThan(0.35);
    const res = await post({ ids: ['P0001', 'P0002'] }, `/jobs/${trained.id}/predict`);
    expect(res.status).toBe(200);
    const out = (await res.json()) as { scores: { probabilities: number[]; class: number }[] };
    for (const s of out.scores) {
      expect(s.probabilities).toHaveLength(4);
      expect(s.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
  }, 300_000);
});
